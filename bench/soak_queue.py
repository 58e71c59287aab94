"""Soak test of the task queue under Postgres restarts (issue 9): 20,000 tasks drained by two
`rhythm worker` processes while a PRIVATE Postgres (started here, in a temporary folder, on a
free port of 127.0.0.1; never the shared server) is restarted 8 times.

Pass: every task completes; each ran its final attempt exactly once and never an attempt beyond
it (tasks with more than one run are at-least-once re-runs, reported, not failures); nothing is
left `running` or leased. Beside it, the same drain without restarts on the same cluster (the
peer figure for throughput).

    uv run --all-packages python bench/soak_queue.py [--tasks 20000] [--restarts 8]
        [--mode immediate|fast|mixed] [--down 1.0] [--binaries pgserver|debian]

Bounded: gives up after --timeout seconds (default 600). Exit status 0 on pass, 1 on failure.
Not part of the test suite (it takes a few minutes); tests/test_worker_faults.py is the quick
version that runs with every test run."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from rhythm.client import Client
from rhythm.client.fault_injection import DEBIAN_BIN, PrivatePostgres, postgres_bin_dir
from rhythm.client.migrations import migrate
from rhythm.client.testing import create_database

BENCH_DIR = Path(__file__).resolve().parent
WORKER_ARGS = ("--concurrency", "8", "--lease-seconds", "5", "--statement-timeout", "5")


@dataclass
class Drain:
    label: str
    total: int
    seconds: float = 0.0
    restarts: list[tuple[str, float, float]] = field(default_factory=list)  # mode, down, resume
    exactly_once: int = 0
    reruns: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0


def counts(url: str, ids: list[str]) -> dict[str, int]:
    """Executions of this drain (its database holds nothing else) by status; retried while the
    server is away."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                rows = conn.execute(
                    "SELECT status, count(*) FROM rhythm.executions GROUP BY status"
                ).fetchall()
            return {status: int(n) for status, n in rows}
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_workers(url: str, run_dir: Path, log_dir: Path, how_many: int) -> list[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
    env["SOAK_RUN_DIR"] = str(run_dir)
    env["PYTHONPATH"] = str(BENCH_DIR)
    procs = []
    for i in range(how_many):
        log = open(log_dir / f"worker-{i}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                [
                    *(sys.executable, "-m", "rhythm.client.cli", "worker", "--app", "soak_app"),
                    *("--database-url", url, "-q", "soak", *WORKER_ARGS),
                ],
                cwd=BENCH_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        )
    for i in range(how_many):
        deadline = time.monotonic() + 60
        while "ready:" not in (log_dir / f"worker-{i}.log").read_text():
            if procs[i].poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"worker {i} did not start:\n{(log_dir / f'worker-{i}.log').read_text()}"
                )
            time.sleep(0.05)
    return procs


def drain(
    pg: PrivatePostgres,
    url: str,
    label: str,
    total: int,
    restarts: int,
    mode: str,
    down: float,
    timeout: float,
) -> Drain:
    result = Drain(label, total)
    work = Path(tempfile.mkdtemp(prefix=f"rhythm-soak-{label}-"))
    run_dir = work / "runs"
    run_dir.mkdir()
    with Client(url) as client:
        ids: list[str] = []
        for start in range(0, total, 1000):
            ids += client.tasks.run_many(
                "soak-record",
                [{"n": n} for n in range(start, min(total, start + 1000))],
                queue="soak",
            )
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE rhythm.executions, rhythm.ready")
    procs = start_workers(url, run_dir, work, 2)
    began = time.monotonic()
    try:
        # Restart when 1/(restarts+2), 2/(restarts+2), ... of the work is done: spread over the drain.
        marks = [total * (i + 1) // (restarts + 2) for i in range(restarts)]
        for i, mark in enumerate(marks):
            while counts(url, ids).get("completed", 0) < mark:
                if time.monotonic() - began > timeout:
                    raise TimeoutError
                time.sleep(0.05)
            how = mode if mode != "mixed" else ("immediate" if i % 2 else "fast")
            pg.stop(how)
            time.sleep(down)
            pg.start()
            back = time.monotonic()
            before = counts(url, ids).get("completed", 0)
            while counts(url, ids).get("completed", 0) <= before and before < total:
                if time.monotonic() - back > 60:
                    break
                time.sleep(0.02)
            result.restarts.append((how, down, time.monotonic() - back))
        while counts(url, ids).get("completed", 0) < total:
            if time.monotonic() - began > timeout:
                raise TimeoutError
            time.sleep(0.1)
        result.seconds = time.monotonic() - began
    except TimeoutError:
        result.seconds = time.monotonic() - began
        result.problems.append(f"not finished after {timeout:g} s: {counts(url, ids)}")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(60)
            except subprocess.TimeoutExpired:
                p.kill()
                result.problems.append("a worker did not stop within 60 s of SIGTERM")
    check(url, ids, run_dir, result)
    return result


def check(url: str, ids: list[str], run_dir: Path, result: Drain) -> None:
    ran: dict[int, list[int]] = defaultdict(list)
    for f in run_dir.glob("*.log"):
        for line in f.read_text().splitlines():
            n, attempt = line.split()
            ran[int(n)].append(int(attempt))
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT id::text, status, attempt, inputs->>'n' FROM rhythm.executions"
            " WHERE id = ANY(%s::uuid[])",
            (ids,),
        ).fetchall()
        leases = conn.execute("SELECT count(*) FROM rhythm.leases").fetchone()
    for execution_id, status, attempt, n in rows:
        runs = ran.get(int(n), [])
        if status != "completed":
            result.problems.append(f"task {n} ({execution_id}) is {status}")
        elif runs.count(attempt) != 1 or max(runs) != attempt:
            result.problems.append(f"task {n} final attempt {attempt}, runs {runs}")
        elif len(runs) == 1:
            result.exactly_once += 1
        else:
            result.reruns += 1
    if leases != (0,):
        result.problems.append(f"{leases[0]} lease(s) left")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--restarts", type=int, default=8)
    parser.add_argument("--mode", choices=["immediate", "fast", "mixed"], default="immediate")
    parser.add_argument("--down", type=float, default=1.0, help="seconds Postgres stays down")
    parser.add_argument("--binaries", choices=["pgserver", "debian"], default="pgserver")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the drain without restarts"
    )
    args = parser.parse_args()

    pg = PrivatePostgres(DEBIAN_BIN if args.binaries == "debian" else postgres_bin_dir()).start()
    try:
        drains = []
        if not args.no_baseline:
            url = create_database(pg.url, "soak_baseline")
            migrate(url)
            drains.append(drain(pg, url, "baseline", args.tasks, 0, args.mode, 0, args.timeout))
        url = create_database(pg.url, "soak_restarts")
        migrate(url)
        drains.append(
            drain(
                pg, url, "restarts", args.tasks, args.restarts, args.mode, args.down, args.timeout
            )
        )
        with psycopg.connect(pg.url) as conn:
            version = conn.execute("SHOW server_version").fetchone()
    finally:
        pg.close()
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"PostgreSQL {version[0] if version else '?'} ({args.binaries}), private cluster"
    )
    print(f"# load: {load}")
    print(
        "| drain | tasks | restarts | seconds | tasks/s | exactly once | re-run (at least once) | problems |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for d in drains:
        how = f" ({args.mode}, {args.down:g} s down)" if d.restarts else ""
        print(
            f"| {d.label} | {d.total:,} | {len(d.restarts)}{how} | "
            f"{d.seconds:.1f} | {d.rate:,.0f} | {d.exactly_once:,} | {d.reruns:,} | "
            f"{len(d.problems)} |"
        )
    for d in drains:
        if d.restarts:
            resumes = ", ".join(f"{r:.2f}" for _, _, r in d.restarts)
            print(f"# {d.label}: seconds from Postgres back up to the next completion: {resumes}")
        for problem in d.problems[:20]:
            print(f"# PROBLEM ({d.label}): {problem}")
    sys.exit(1 if any(d.problems for d in drains) else 0)


if __name__ == "__main__":
    main()
