"""Task-queue benchmark: Rhythm side by side with Procrastinate, in one run, on one Postgres.

Figures: throughput for 10,000 no-op tasks with 1 and 2 worker processes, enqueue rate one by one and
batched (Rhythm's run_many, Procrastinate's batch_defer), and wake-up latency (enqueue commit to task
start, p50/p99) of an idle worker. Each system gets its own fresh database on the same server.

    uv run --all-packages python bench/bench_queue.py [--database-url ADMIN_URL] [--tasks 10000]

Without --database-url it uses RHYTHM_TEST_DATABASE_URL, else a throwaway embedded Postgres."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
CONCURRENCY = 8


@dataclass
class System:
    """One queue under test: how to enqueue, how to count finished work, how to start a worker."""

    name: str
    url: str
    enqueue_one: Callable[[int], None]
    enqueue_many: Callable[[list[int]], None]
    done_query: str
    span_query: str  # seconds from the first task start to the last completion
    reset_sql: str
    worker_script: str
    results: dict[str, str] = field(default_factory=dict)

    def count_done(self) -> int:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(self.done_query).fetchone()
            return int(row[0]) if row else 0

    def reset(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(self.reset_sql)  # type: ignore[arg-type]

    def analyze(self) -> None:
        """Fresh statistics after a bulk load, so neither system runs on empty-table plans."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("ANALYZE")

    def span(self) -> float:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute(self.span_query).fetchone()  # type: ignore[arg-type]
            return float(row[0]) if row and row[0] is not None else 0.0

    def start_workers(self, count: int, latency_file: str | None = None) -> list[subprocess.Popen]:
        env = dict(os.environ)
        env.pop("BENCH_LATENCY_FILE", None)
        if latency_file:
            env["BENCH_LATENCY_FILE"] = latency_file
        procs = [
            subprocess.Popen(
                [sys.executable, str(BENCH_DIR / self.worker_script), self.url, str(CONCURRENCY)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        time.sleep(2.5)  # let them connect and LISTEN before the clock starts
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{self.name} worker exited early with {proc.returncode}")
        return procs


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rhythm_system(url: str) -> System:
    from rhythm.client import Client

    client = Client(database_url=url)
    client.migrate()
    return System(
        name="Rhythm",
        url=url,
        enqueue_one=lambda i: client.tasks.run("noop", {"i": i}, queue="bench"),
        enqueue_many=lambda items: client.tasks.run_many(
            "noop", [{"i": i} for i in items], queue="bench"
        ),
        done_query="SELECT count(*) FROM rhythm.executions WHERE status = 'completed'",
        span_query="SELECT extract(epoch FROM max(completed_at) - min(started_at))"
        " FROM rhythm.executions WHERE status = 'completed'",
        reset_sql="TRUNCATE rhythm.executions CASCADE",
        worker_script="rhythm_app.py",
    )


def procrastinate_system(url: str, stack: ExitStack) -> System:
    sys.path.insert(0, str(BENCH_DIR))
    from procrastinate_app import make_app

    app = make_app(url)
    stack.enter_context(app.open())
    app.schema_manager.apply_schema()
    noop = app.tasks["noop"]
    return System(
        name="Procrastinate",
        url=url,
        enqueue_one=lambda i: noop.defer(i=i),
        enqueue_many=lambda items: noop.batch_defer(*({"i": i} for i in items)),
        done_query="SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'",
        span_query="SELECT extract(epoch FROM max(at) FILTER (WHERE type = 'succeeded')"
        " - min(at) FILTER (WHERE type = 'started')) FROM procrastinate_events",
        reset_sql="TRUNCATE procrastinate_jobs CASCADE",
        worker_script="procrastinate_app.py",
    )


def measure_enqueue(system: System, single: int, batched: int, batch_size: int) -> None:
    system.reset()
    start = time.perf_counter()
    for i in range(single):
        system.enqueue_one(i)
    system.results["enqueue one by one (tasks/s)"] = f"{single / (time.perf_counter() - start):,.0f}"
    system.reset()
    start = time.perf_counter()
    for offset in range(0, batched, batch_size):
        system.enqueue_many(list(range(offset, min(offset + batch_size, batched))))
    rate = batched / (time.perf_counter() - start)
    system.results[f"enqueue batched x{batch_size} (tasks/s)"] = f"{rate:,.0f}"
    system.reset()


def measure_throughput(system: System, tasks: int, workers: int) -> None:
    """Load the backlog, ANALYZE, start the workers; the rate is taken from the database's own
    timestamps (first task start to last completion), so process start-up is not counted."""
    system.reset()
    for offset in range(0, tasks, 1000):
        system.enqueue_many(list(range(offset, min(offset + 1000, tasks))))
    system.analyze()
    procs = system.start_workers(workers)
    try:
        deadline = time.perf_counter() + 600
        while system.count_done() < tasks:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{system.name}: {tasks} tasks not done within 600 s")
            time.sleep(0.05)
    finally:
        stop(procs)
    label = f"{tasks:,} no-op tasks, {workers} worker process{'es' if workers > 1 else ''} (tasks/s)"
    system.results[label] = f"{tasks / system.span():,.0f}"


def measure_latency(system: System, samples: int) -> None:
    system.reset()
    with tempfile.NamedTemporaryFile("w+", suffix=".lat", delete=False) as tmp:
        latency_file = tmp.name
    procs = system.start_workers(1, latency_file)
    committed: dict[int, float] = {}
    try:
        for i in range(samples):
            system.enqueue_one(i)
            committed[i] = time.time()
            time.sleep(0.025)  # the worker is idle again before the next one
        deadline = time.time() + 30
        while system.count_done() < samples and time.time() < deadline:
            time.sleep(0.05)
    finally:
        stop(procs)
    started = {}
    for line in Path(latency_file).read_text(encoding="utf-8").splitlines():
        key, stamp = line.split()
        started[int(key)] = float(stamp)
    os.unlink(latency_file)
    latencies = sorted((started[i] - committed[i]) * 1000 for i in committed if i in started)
    if len(latencies) < samples:
        raise RuntimeError(f"{system.name}: only {len(latencies)} of {samples} tasks started")
    p99 = latencies[min(len(latencies) - 1, round(0.99 * len(latencies)) - 1)]
    system.results["wake-up latency p50 (ms)"] = f"{statistics.median(latencies):.1f}"
    system.results["wake-up latency p99 (ms)"] = f"{p99:.1f}"


def print_table(systems: list[System]) -> str:
    labels = list(systems[0].results)
    header = "| figure | " + " | ".join(s.name for s in systems) + " |"
    lines = [header, "|---" * (len(systems) + 1) + "|"]
    for label in labels:
        lines.append(f"| {label} | " + " | ".join(s.results.get(label, "-") for s in systems) + " |")
    table = "\n".join(lines)
    print(table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="admin URL of the server (may CREATE DATABASE)")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=2_000, help="tasks enqueued one by one")
    parser.add_argument("--latency-samples", type=int, default=200)
    args = parser.parse_args()

    from rhythm.client.testing import create_database, drop_database, test_server

    with ExitStack() as stack:
        if args.database_url:
            admin = args.database_url
        else:
            admin = stack.enter_context(test_server())
        urls = [create_database(admin, "bench_rhythm"), create_database(admin, "bench_procr")]
        stack.callback(lambda: [drop_database(admin, u) for u in urls])
        with psycopg.connect(admin) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        systems = [rhythm_system(urls[0]), procrastinate_system(urls[1], stack)]
        for system in systems:
            print(f"--- {system.name}", flush=True)
            measure_enqueue(system, args.single, args.tasks, 1000)
            for workers in (1, 2):
                measure_throughput(system, args.tasks, workers)
            measure_latency(system, args.latency_samples)
            print(system.results, flush=True)
        print()
        print(f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
              f"Python {platform.python_version()}, PostgreSQL {version}")
        print_table(systems)


if __name__ == "__main__":
    main()
