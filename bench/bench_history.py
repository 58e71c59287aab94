"""Cost of time travel's history (migrations 0004 and 0007): workflow throughput with the history
on and off, in the same run, and the cost per step of the statement that copies it.

    throughput  (default) bench_workflows.py's 3-step workflows of no-op tasks, drained by one
                worker process whose sessions keep history (rhythm.history on) or not
                (`-c rhythm.history=off` in its connection options), in alternating rounds (the
                order flips each round so drift in the machine's load hits both alike). Prints
                workflows/s for each, and how much throughput history costs, in percent.
    statement   the UPSERT of rhythm.workflow_state a step's commit runs, on and off in
                alternating rounds on one connection, with a snapshot of realistic size.

    uv run --all-packages python bench/bench_history.py [throughput|statement]
        [--database-url ADMIN_URL] [--workflows N] [--rounds R] [--steps N]"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

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
    parser.add_argument("benchmark", nargs="?", default="throughput",
                        choices=["throughput", "statement"])  # fmt: skip
    parser.add_argument("--database-url", default=os.environ.get("RHYTHM_TEST_DATABASE_URL"))
    parser.add_argument("--workflows", type=int, default=400, help="throughput: per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=2000, help="statement: per round")
    args = parser.parse_args()
    if args.benchmark == "statement":
        measure_statement(args)
    else:
        measure_throughput(args)


def measure_throughput(args: argparse.Namespace) -> None:
    bench = Path(__file__).resolve().parent
    sys.path.insert(0, str(bench))
    import bench_workflows as wf

    count = args.workflows
    rates: dict[str, list[float]] = {"on": [], "off": []}
    with test_server() if args.database_url is None else _Given(args.database_url) as admin:
        url = create_database(admin, "bench_history_wf")
        try:
            side = wf.RhythmSide(url)
            worker_urls = {"on": url, "off": make_conninfo(url, options="-c rhythm.history=off")}
            for round_no in range(args.rounds):
                order = ("on", "off") if round_no % 2 == 0 else ("off", "on")
                for mode in order:
                    side.reset()
                    side.start("three_steps", [{"i": i} for i in range(count)])
                    side.analyze()
                    side.url = worker_urls[mode]  # the worker processes' connection string
                    try:
                        procs = side.start_workers(1)
                    finally:
                        side.url = url
                    try:
                        wf.watch(side, f"{count} workflows, history {mode}",
                                 lambda: side.done("three_steps") >= count, procs)  # fmt: skip
                    finally:
                        wf.stop(procs)
                    kept = side.query("SELECT count(*) FROM rhythm.workflow_history")
                    expected_kept = 3 * count if mode == "on" else 0
                    if kept != expected_kept:
                        raise wf.BenchError(
                            f"history {mode}: {kept} snapshots kept, expected {expected_kept}"
                        )
                    rate = count / side.span()
                    rates[mode].append(rate)
                    print(f"round {round_no + 1}, history {mode}: {rate:.1f} workflows/s "
                          f"({kept} snapshots kept)", flush=True)  # fmt: skip
            side.client.close()
        finally:
            drop_database(admin, url)
    on, off = statistics.median(rates["on"]), statistics.median(rates["off"])
    load = os.getloadavg()
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {os.cpu_count()} cores, {count} 3-step workflows "
        f"x {args.rounds} rounds per setting, 1 worker process (concurrency {wf.CONCURRENCY}), "
        f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    print(f"history on : {on:.1f} workflows/s (median; rounds {_listed(rates['on'])})")
    print(f"history off: {off:.1f} workflows/s (median; rounds {_listed(rates['off'])})")
    print(f"history costs {(off - on) / off * 100:.1f}% of workflow throughput")


def _listed(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def measure_statement(args: argparse.Namespace) -> None:
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
