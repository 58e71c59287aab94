"""Console benchmark: the executions list page with 1,000,000 executions in the table.

Times whole HTTP requests to the console's /executions (the app in process, through Starlette's
test client: routing, the keyset query, rendering 50 rows) for several filter shapes, beside the
peer measured in the same run: the client's `rhythm ls` query (`list_executions` of
rhythm/client/sql/queries.sql, no keyset) for the same filters.

    uv run --all-packages python bench/bench_console.py [--database-url ADMIN_URL] [--rows N]

Without --database-url it uses RHYTHM_TEST_DATABASE_URL, else a throwaway embedded Postgres. It
creates a fresh database on that server and drops it at the end."""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from collections.abc import Callable
from urllib.parse import quote

import psycopg

from rhythm.client.migrations import migrate
from rhythm.client.queries import query
from rhythm.client.testing import create_database, drop_database, test_server
from rhythm.console.queries import console_query
from rhythm.console.reads import list_params

REPEAT = 30


def fill(url: str, rows: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        for first in range(0, rows, 200_000):
            conn.execute(
                """
                INSERT INTO rhythm.executions
                    (id, type, name, queue, status, idempotency_key, created_at, started_at,
                     completed_at, inputs)
                SELECT gen_random_uuid(), CASE WHEN i %% 10 = 0 THEN 'workflow' ELSE 'task' END,
                       'job_' || (i %% 50), 'q' || (i %% 4),
                       (ARRAY['completed', 'completed', 'completed', 'failed', 'pending'])[1 + i %% 5],
                       'key-' || i, now() - make_interval(secs => i),
                       now() - make_interval(secs => i), now() - make_interval(secs => i - 1),
                       jsonb_build_object('i', i)
                FROM generate_series(%s::int, %s::int) AS i
                """,
                (first + 1, min(rows, first + 200_000)),
            )
        conn.execute("VACUUM ANALYZE rhythm.executions")
    return time.perf_counter() - started


def timed(call: Callable[[], object]) -> tuple[float, float]:
    call()  # warm
    samples = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("RHYTHM_TEST_DATABASE_URL"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    from rhythm.console import ConsoleSettings, create_app

    with test_server() if args.database_url is None else _given(args.database_url) as admin:
        url = create_database(admin, "bench_console")
        try:
            migrate(url)
            print(f"filled {args.rows:,} executions in {fill(url, args.rows):.0f} s")
            print(
                f"machine: {platform.system()} {platform.release()}, Python {platform.python_version()}, "
                f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
            )
            with (
                TestClient(create_app(ConsoleSettings(database_url=url))) as console,
                psycopg.connect(url, autocommit=True) as conn,
            ):
                first = console.get("/executions").text
                cursor = re.search(r'<a id="next" href="([^"]+)"', first)
                deep = console.get(
                    "/executions?status=completed&after="
                    + quote(_deep_cursor(conn, args.rows * 9 // 10 * 3 // 5))
                ).url
                shapes = {
                    "first page, no filter": ("/executions", {}),
                    "second page, no filter": (
                        cursor[1].replace("&amp;", "&") if cursor else "/executions",
                        {},
                    ),
                    "status=failed": ("/executions?status=failed", {"status": "failed"}),
                    "name=job_7": ("/executions?name=job_7", {"name": "job_7"}),
                    "name+status+type": (
                        "/executions?name=job_7&status=failed&type=task",
                        {"name": "job_7", "status": "failed", "type": "task"},
                    ),
                    "status=completed, 90% deep": (
                        str(deep.path) + "?" + deep.query.decode(),
                        None,
                    ),
                    "find idempotency key": ("/executions?find=key-123456", None),
                }
                print(
                    f"{'shape':36} {'console page p50/p95 ms':>24} {'its query p50/p95 ms':>22} {'peer rhythm ls query p50/p95 ms':>34}"
                )
                for label, (path, peer) in shapes.items():
                    page = timed(lambda path=path: console.get(path, follow_redirects=False))
                    if peer is None:
                        peer_text = own_text = "(no equivalent)"
                    else:
                        params = {
                            "status": None,
                            "type": None,
                            "name": None,
                            "queue": None,
                            "limit": 50,
                            **peer,
                        }
                        p = timed(
                            lambda params=params: conn.execute(
                                query("list_executions"), params
                            ).fetchall()
                        )
                        peer_text = f"{p[0]:8.1f} / {p[1]:8.1f}"
                        mine = list_params(peer, None, None, None, 50)
                        o = timed(
                            lambda mine=mine: conn.execute(
                                console_query("list_executions"), mine
                            ).fetchall()
                        )
                        own_text = f"{o[0]:8.1f} / {o[1]:8.1f}"
                    print(
                        f"{label:36} {page[0]:10.1f} / {page[1]:8.1f}   {own_text:>22} {peer_text:>30}"
                    )
            print(f"load average after: {os.getloadavg()[0]:.1f}")
        finally:
            drop_database(admin, url)


def _deep_cursor(conn: psycopg.Connection, deep: int) -> str:
    row = conn.execute(
        "SELECT created_at, id FROM rhythm.executions WHERE status = 'completed' "
        "ORDER BY created_at DESC, id DESC OFFSET %s LIMIT 1",
        (deep,),
    ).fetchone()
    assert row is not None
    from rhythm.console.reads import Cursor

    return Cursor(row[0], str(row[1])).encode()


class _given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
