"""One long workflow: N sequential awaits in one Rhythm workflow, run by real worker processes.

The workflow (bench/flows/long_chain.flow) awaits the no-op task N times in a loop (`--await
timer`: a 0 s timer instead). Each await is one workflow step: the task is claimed and run, its
completion makes the workflow ready, a worker claims it, loads its snapshot, resumes the VM up to
the next await and commits the new snapshot with the next task. Nothing is replayed, so a step
costs the same at await 100,000 as at await 1; this measures that. Prints:

- total time (the workflow's start to its completion, from the database's timestamps) and
  awaits/s;
- the time of the first and of the last `--window` (1,000) awaits, and their ratio. Task awaits:
  from the tasks' own start times (task k starts right after step k committed); timer awaits:
  from the workflow's step counter, sampled every 0.2 s;
- the snapshot's size at the start, the middle and the end (exact, from the snapshot history,
  when it is on; otherwise sampled along the way);
- the worker processes' memory: RSS at the start and the end, and the peak (VmHWM);
- the snapshot history (migration 0004 keeps one row per suspension unless `rhythm.history` is
  'off', which `--history off` sets on the benchmark's database): rows and bytes.

    uv run --all-packages python bench/bench_long_workflow.py [--awaits 100000] [--window 1000]
        [--await task|timer] [--history on|off] [--workers 1] [--concurrency 8]
        [--time-limit SECONDS] [--database-url ADMIN_URL]

Without --database-url it uses RHYTHM_TEST_DATABASE_URL, else a throwaway embedded Postgres; the
run gets its own fresh database on that server, dropped at the end. A run that reaches its time
limit stops and reports the awaits done by then. 127.0.0.1 / local socket only."""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
FLOW = BENCH_DIR / "flows" / "long_chain.flow"
SAMPLE_EVERY = 0.2  # seconds between samples of the workflow's progress
START_TIMEOUT = 60.0  # seconds a worker process gets to say it is ready


class BenchError(RuntimeError):
    """The run could not complete (a worker died, the workflow failed)."""


@dataclass
class Sample:
    at: float  # time.time()
    steps: int  # committed steps (rhythm.workflow_state.steps): awaits done + 1
    snapshot_bytes: int
    cpu: float  # CPU seconds the worker processes have used so far


@dataclass
class Run:
    awaits: int
    window: int
    mode: str
    history: bool
    log: Path  # the workers' stderr
    workflow_id: str = ""
    finished: bool = False
    samples: list[Sample] = field(default_factory=list)
    rss_start: list[float] = field(default_factory=list)
    rss_end: list[float] = field(default_factory=list)
    rss_peak: list[float] = field(default_factory=list)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_status(pid: int, key: str) -> float:
    """A `VmRSS`/`VmHWM` line of /proc/PID/status, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no {key} in /proc/{pid}/status")


def start_workers(
    url: str, count: int, concurrency: int, log: Path
) -> list[subprocess.Popen[bytes]]:
    """`count` worker processes (bench/rhythm_flow_app.py), their stderr appended to `log`."""
    script = str(BENCH_DIR / "rhythm_flow_app.py")
    with open(log, "ab") as out:
        return [
            subprocess.Popen(
                [sys.executable, script, url, str(concurrency)],
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("BENCH_DEBUG") else out,
            )
            for _ in range(count)
        ]


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_alive(procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    for proc in procs:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise BenchError(f"a worker exited with {proc.returncode}:\n{tail}")


def wait_ready(conn: psycopg.Connection, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Until every worker has connected and listens (pg_stat_activity shows its LISTEN)."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        check_alive(procs, log)
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND query LIKE 'LISTEN rhythm_scheduled%%'"
        ).fetchone()
        if row and row[0] >= len(procs):
            return
        if time.monotonic() > deadline:
            raise BenchError(f"the workers did not start within {START_TIMEOUT:.0f} s")
        time.sleep(0.1)


def run_workflow(url: str, run: Run, workers: int, concurrency: int, limit: float) -> None:
    from rhythm.client import Client

    with Client(database_url=url) as client:
        client.register_workflows(str(FLOW))
        with psycopg.connect(url, autocommit=True) as conn:
            procs = start_workers(url, workers, concurrency, run.log)
            try:
                wait_ready(conn, procs, run.log)
                time.sleep(1.0)  # the workers' first claim and promote rounds are over
                run.rss_start = [proc_status(p.pid, "VmRSS") for p in procs]
                inputs = {"steps": run.awaits, "timer": run.mode == "timer"}
                run.workflow_id = str(client.workflows.run("long_chain", inputs))
                run.finished = watch(conn, run, procs, limit)
                check_alive(procs, run.log)
                run.rss_end = [proc_status(p.pid, "VmRSS") for p in procs]
                run.rss_peak = [proc_status(p.pid, "VmHWM") for p in procs]
            finally:
                stop_workers(procs)


def watch(
    conn: psycopg.Connection, run: Run, procs: list[subprocess.Popen[bytes]], limit: float
) -> bool:
    """Sample the workflow's progress until it completes (True) or the time limit (False)."""
    wid = uuid.UUID(run.workflow_id)
    deadline = time.monotonic() + limit
    report = time.monotonic() + 30
    while time.monotonic() < deadline:
        check_alive(procs, run.log)
        row = conn.execute(
            "SELECT e.status, e.error::text, s.steps, octet_length(s.state::text)"
            " FROM rhythm.executions AS e"
            " LEFT JOIN rhythm.workflow_state AS s ON s.execution_id = e.id WHERE e.id = %s",
            (wid,),
        ).fetchone()
        assert row is not None
        status, error, steps, size = row
        if status in ("failed", "cancelled"):
            raise BenchError(f"the workflow {status}: {error}")
        if status == "completed":
            return True
        if steps is not None:
            cpu = sum(cpu_seconds(p.pid) for p in procs)
            run.samples.append(Sample(time.time(), int(steps), int(size), cpu))
        if time.monotonic() > report:
            report = time.monotonic() + 30
            done = max(0, run.samples[-1].steps - 1) if run.samples else 0
            print(f"  ... {done:,} of {run.awaits:,} awaits", flush=True)
        time.sleep(SAMPLE_EVERY)
    return False


@dataclass
class Figures:
    done: int
    total: float
    first: float
    last: float
    window: int
    sizes: list[tuple[str, int, int]]  # (where, step, bytes)
    sizes_from: str
    history_rows: int
    history_bytes: int
    timing_from: str
    cpu_first: float | None  # worker CPU ms per await over the first / last window (sampled)
    cpu_last: float | None


def figures(url: str, run: Run) -> Figures:
    wid = uuid.UUID(run.workflow_id)
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM created_at), extract(epoch FROM completed_at)"
            " FROM rhythm.executions WHERE id = %s",
            (wid,),
        ).fetchone()
        assert row is not None
        created, completed = float(row[0]), row[1]
        end = float(completed) if completed is not None else time.time()
        done = run.awaits if run.finished else max(0, run.samples[-1].steps - 1)
        window = min(run.window, done // 3)
        if window < 10:
            raise BenchError(f"only {done} awaits done: too few to compare windows")
        if run.mode == "task":
            first, last = task_windows(conn, wid, done, window)
            timing_from = "the tasks' start times"
        else:
            first, last = sampled_windows(run.samples, done, window)
            timing_from = f"the step counter sampled every {SAMPLE_EVERY:g} s"
        history_rows = int(
            conn.execute(
                "SELECT count(*) FROM rhythm.workflow_history WHERE execution_id = %s", (wid,)
            ).fetchone()[0]  # type: ignore[index]
        )
        history_bytes = int(
            conn.execute("SELECT pg_total_relation_size('rhythm.workflow_history')").fetchone()[0]  # type: ignore[index]
        )
        sizes, sizes_from = snapshot_sizes(conn, wid, run, history_rows)
    cpu_first, cpu_last = cpu_windows(run.samples, window)
    return Figures(
        done,
        end - created,
        first,
        last,
        window,
        sizes,
        sizes_from,
        history_rows,
        history_bytes,
        timing_from,
        cpu_first,
        cpu_last,
    )


def task_windows(
    conn: psycopg.Connection, wid: uuid.UUID, done: int, window: int
) -> tuple[float, float]:
    """Seconds from task 0's start to task `window`'s, and over the last `window` awaits."""
    marks = [0, window, done - 1 - window, done - 1]
    rows = conn.execute(
        "SELECT (inputs->>'i')::int, extract(epoch FROM started_at) FROM rhythm.executions"
        " WHERE parent_id = %s AND (inputs->>'i')::int = ANY (%s)",
        (wid, marks),
    ).fetchall()
    at = {int(i): float(t) for i, t in rows if t is not None}
    missing = [m for m in marks if m not in at]
    if missing:
        raise BenchError(f"tasks {missing} of the workflow have no start time")
    return at[window] - at[0], at[done - 1] - at[done - 1 - window]


def sampled_windows(samples: list[Sample], done: int, window: int) -> tuple[float, float]:
    """The same two windows from the sampled step counter (awaits done + 1 while it runs)."""

    def reached(steps: int) -> float:
        return next(s.at for s in samples if s.steps >= steps)

    last = samples[-1].steps
    return reached(window + 1) - reached(1), reached(last) - reached(last - window)


def cpu_windows(samples: list[Sample], window: int) -> tuple[float | None, float | None]:
    """The workers' CPU per await (ms) over the first and the last `window` awaits, from the
    samples: unlike wall-clock time, it hardly moves with the machine's load."""
    if len(samples) < 2 or samples[-1].steps - samples[0].steps < 2 * window:
        return None, None
    start = samples[0]
    early = next(s for s in samples if s.steps >= start.steps + window)
    end = samples[-1]
    late = next(s for s in samples if s.steps >= end.steps - window)
    per = 1000.0
    first = (early.cpu - start.cpu) * per / (early.steps - start.steps)
    last = (end.cpu - late.cpu) * per / max(1, end.steps - late.steps)
    return first, last


def snapshot_sizes(
    conn: psycopg.Connection, wid: uuid.UUID, run: Run, history_rows: int
) -> tuple[list[tuple[str, int, int]], str]:
    """The snapshot's size at its first, middle and last suspension: exact from the history
    when it is on, else the samples nearest to those points."""
    if history_rows:
        (last,) = conn.execute(
            "SELECT max(step) FROM rhythm.workflow_history WHERE execution_id = %s", (wid,)
        ).fetchone()  # type: ignore[misc]
        wanted = {"start": 1, "middle": max(1, int(last) // 2), "end": int(last)}
        rows = conn.execute(
            "SELECT step, octet_length(state::text) FROM rhythm.workflow_history"
            " WHERE execution_id = %s AND step = ANY (%s)",
            (wid, list(wanted.values())),
        ).fetchall()
        by_step = {int(s): int(n) for s, n in rows}
        return [(k, v, by_step[v]) for k, v in wanted.items()], "the snapshot history (exact)"
    if not run.samples:
        return [], "no samples"
    mid = run.samples[-1].steps // 2
    middle = min(run.samples, key=lambda s: abs(s.steps - mid))
    picked = [("start", run.samples[0]), ("middle", middle), ("end", run.samples[-1])]
    return [(k, s.steps, s.snapshot_bytes) for k, s in picked], "samples taken along the way"


def report(run: Run, f: Figures, workers: int, concurrency: int, server: str) -> None:
    load = os.getloadavg()
    what = "a no-op task" if run.mode == "task" else "a 0 s timer"
    label = f"{run.awaits:,}" if run.finished else f"{f.done:,} of {run.awaits:,} (time limit)"
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PostgreSQL {server}, load average at the end "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    plural = "es" if workers > 1 else ""
    print(
        f"one workflow, {label} sequential awaits of {what}; {workers} worker process{plural} "
        f"(concurrency {concurrency}); snapshot history {'on' if run.history else 'off'}"
    )
    print(f"  total: {f.total:,.1f} s ({f.done / f.total:,.1f} awaits/s)")
    ratio = f.last / f.first if f.first else float("nan")
    print(
        f"  first {f.window:,} awaits: {f.first:,.1f} s; last {f.window:,}: {f.last:,.1f} s; "
        f"last / first: {ratio:.2f} (from {f.timing_from})"
    )
    if f.cpu_first is not None and f.cpu_last is not None:
        print(
            f"  worker CPU per await: {f.cpu_first:,.2f} ms over the first {f.window:,}, "
            f"{f.cpu_last:,.2f} ms over the last {f.window:,} (sampled; hardly moves with load)"
        )
    if f.sizes:
        shown = ", ".join(f"{k} {n:,} (step {s:,})" for k, s, n in f.sizes)
        print(f"  snapshot bytes: {shown} (from {f.sizes_from})")
    for i in range(len(run.rss_start)):
        print(
            f"  worker {i} memory: RSS {run.rss_start[i]:,.1f} MiB at the start, "
            f"{run.rss_end[i]:,.1f} MiB at the end, peak {run.rss_peak[i]:,.1f} MiB"
        )
    print(
        f"  snapshot history: {f.history_rows:,} rows for this workflow; "
        f"rhythm.workflow_history {f.history_bytes / 2**20:,.1f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--awaits", type=int, default=100_000, help="sequential awaits (100,000)")
    parser.add_argument("--window", type=int, default=1_000, help="awaits per compared window")
    parser.add_argument("--await", dest="mode", choices=("task", "timer"), default="task")
    parser.add_argument("--history", choices=("on", "off"), default="on")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (1)")
    parser.add_argument("--concurrency", type=int, default=8, help="per worker process (8)")
    parser.add_argument(
        "--time-limit", type=float, default=6 * 3600, help="seconds before the run stops (6 h)"
    )
    parser.add_argument("--database-url", help="admin URL of the server (may CREATE DATABASE)")
    args = parser.parse_args()
    if args.awaits < 30 or args.window < 10:
        parser.error("--awaits must be at least 30 and --window at least 10")

    from rhythm.client.migrations import migrate
    from rhythm.client.testing import create_database, drop_database, test_server

    with ExitStack() as stack:
        log = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "workers.log"
        run = Run(args.awaits, args.window, args.mode, args.history == "on", log)
        admin = args.database_url or stack.enter_context(test_server())
        url = create_database(admin, "bench_long")
        stack.callback(drop_database, admin, url)
        migrate(url)
        with psycopg.connect(url, autocommit=True) as conn:
            server = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            if not run.history:
                dbname = conn.info.dbname
                conn.execute(f"ALTER DATABASE \"{dbname}\" SET rhythm.history = 'off'")  # type: ignore[arg-type]
        print(
            f"{args.awaits:,} sequential awaits ({args.mode}), history {args.history}, "
            f"{args.workers} worker process(es)",
            flush=True,
        )
        started = time.monotonic()
        run_workflow(url, run, args.workers, args.concurrency, args.time_limit)
        print(f"  ran for {time.monotonic() - started:,.0f} s", flush=True)
        report(run, figures(url, run), args.workers, args.concurrency, server)


if __name__ == "__main__":
    main()
