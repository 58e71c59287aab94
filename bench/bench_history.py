"""Cost of time travel's history (migration 0004) per workflow step, in the database.

Times the statement a step's commit runs on rhythm.workflow_state (an UPSERT of the snapshot,
as finish_step does) with the history copy on and off (`SET rhythm.history = 'off'`), in
alternating rounds on one connection, with a snapshot of realistic size. Prints the time per
step for each and the difference.

    uv run --all-packages python bench/bench_history.py [--database-url ADMIN_URL] [--steps N]"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

import psycopg

from rhythm.client.migrations import migrate
from rhythm.client.testing import create_database, drop_database, test_server

UPSERT = """
INSERT INTO rhythm.workflow_state (execution_id, version_hash, state, waiting_on, steps)
VALUES (%(id)s, 'v1', %(state)s::jsonb, '{1}', 1)
ON CONFLICT (execution_id) DO UPDATE
SET state = EXCLUDED.state, waiting_on = EXCLUDED.waiting_on,
    steps = rhythm.workflow_state.steps + 1, updated_at = now()
"""


def run(conn: psycopg.Connection, ids: list[str], state: str, steps: int) -> float:
    started = time.perf_counter()
    for i in range(steps):
        conn.execute(UPSERT, {"id": ids[i % len(ids)], "state": state})
    return (time.perf_counter() - started) / steps * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("RHYTHM_TEST_DATABASE_URL"))
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    state = json.dumps({"heap": [{"k": "x" * 40, "n": i} for i in range(30)], "frames": []})
    with test_server() if args.database_url is None else _Given(args.database_url) as admin:
        url = create_database(admin, "bench_history")
        try:
            migrate(url)
            with psycopg.connect(url, autocommit=True) as conn:
                ids = [str(uuid.uuid4()) for _ in range(200)]
                for i in ids:
                    conn.execute(
                        "INSERT INTO rhythm.executions (id, type, name, status) "
                        "VALUES (%s, 'workflow', 'w', 'suspended')",
                        (i,),
                    )
                on, off = [], []
                for _ in range(args.rounds):
                    conn.execute("SET rhythm.history = 'on'")
                    on.append(run(conn, ids, state, args.steps))
                    conn.execute("SET rhythm.history = 'off'")
                    off.append(run(conn, ids, state, args.steps))
                kept = conn.execute("SELECT count(*) FROM rhythm.workflow_history").fetchone()
            print(
                f"snapshot {len(state)} bytes, {args.steps} steps x {args.rounds} rounds, "
                f"load average {os.getloadavg()[0]:.1f}; history rows kept: {kept[0] if kept else 0}"
            )
            print(
                f"history on : {statistics.median(on):.3f} ms per step (rounds {', '.join(f'{x:.3f}' for x in on)})"
            )
            print(
                f"history off: {statistics.median(off):.3f} ms per step (rounds {', '.join(f'{x:.3f}' for x in off)})"
            )
            print(f"added per step: {statistics.median(on) - statistics.median(off):.3f} ms")
        finally:
            drop_database(admin, url)


class _Given:
    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        return self.url

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    main()
