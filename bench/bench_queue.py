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
    results: dict[str, list[float]] = field(default_factory=dict)

    def record(self, label: str, value: float) -> None:
        self.results.setdefault(label, []).append(value)

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
    system.record("enqueue one by one (tasks/s)", single / (time.perf_counter() - start))
    system.reset()
    start = time.perf_counter()
    for offset in range(0, batched, batch_size):
        system.enqueue_many(list(range(offset, min(offset + batch_size, batched))))
    rate = batched / (time.perf_counter() - start)
    system.record(f"enqueue batched x{batch_size} (tasks/s)", rate)
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
    plural = "es" if workers > 1 else ""
    system.record(
        f"{tasks:,} no-op tasks, {workers} worker process{plural} (tasks/s)", tasks / system.span()
    )


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
    system.record("wake-up latency p50 (ms)", statistics.median(latencies))
    system.record("wake-up latency p99 (ms)", p99)


def best(label: str, values: list[float]) -> float:
    return min(values) if "latency" in label else max(values)


def show(label: str, value: float) -> str:
    return f"{value:.1f}" if "latency" in label else f"{value:,.0f}"


def print_table(systems: list[System]) -> str:
    labels = list(systems[0].results)
    names = " | ".join(s.name for s in systems)
    lines = [f"| figure | {names} | every round |", "|---" * (len(systems) + 2) + "|"]
    for label in labels:
        cells = [show(label, best(label, s.results[label])) for s in systems]
        rounds = "; ".join(
            f"{s.name}: " + " / ".join(show(label, v) for v in s.results[label]) for s in systems
        )
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {rounds} |")
    table = "\n".join(lines)
    print(table)
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="admin URL of the server (may CREATE DATABASE)")
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=2_000, help="tasks enqueued one by one")
    parser.add_argument("--latency-samples", type=int, default=200)
    parser.add_argument(
        "--rounds", type=int, default=2, help="rounds per figure, systems alternating; best is kept"
    )
    args = parser.parse_args()

    from rhythm.client.testing import create_database, drop_database, test_server

    with ExitStack() as stack:
        admin = args.database_url or stack.enter_context(test_server())
        urls = [create_database(admin, "bench_rhythm"), create_database(admin, "bench_procr")]
        stack.callback(lambda: [drop_database(admin, u) for u in urls])
        with psycopg.connect(admin) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        systems = [rhythm_system(urls[0]), procrastinate_system(urls[1], stack)]
        # The machine is shared: the systems take turns on every figure, so a burst of outside
        # load hits both, and the best of the rounds is kept for each.
        steps: list[tuple[str, Callable[[System], None]]] = [
            ("enqueue", lambda s: measure_enqueue(s, args.single, args.tasks, 1000)),
            ("1 worker", lambda s: measure_throughput(s, args.tasks, 1)),
            ("2 workers", lambda s: measure_throughput(s, args.tasks, 2)),
            ("latency", lambda s: measure_latency(s, args.latency_samples)),
        ]
        for round_no in range(1, args.rounds + 1):
            for name, step in steps:
                for system in systems:
                    print(f"round {round_no}: {name}: {system.name}", flush=True)
                    step(system)
        print()
        print(
            f"{time.strftime('%Y-%m-%d')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, PostgreSQL {version}, best of {args.rounds} rounds"
        )
        print_table(systems)


if __name__ == "__main__":
    main()
