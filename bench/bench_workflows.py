"""Workflow benchmark: Rhythm side by side with DBOS, in one run, on one Postgres.

Sub-commands (all of them when none is named), each printing Rhythm's figures beside DBOS's:

    throughput  workflows/s for a 3-step sequential workflow of no-op tasks, 1 and 2 worker processes
    latency     added latency per step: a task's end to the next task's start, p50 / p99
    resume      resume cost after K completed awaits (Rhythm: signal to the next task's start, on a
                restarted worker; DBOS: recovery of a workflow that completed K steps)
    long        one workflow of N sequential awaits (Rhythm only: DBOS has no equivalent figure to
                set beside it); first vs last 1,000 steps, and the snapshot's size along the way
    signals     N workflows suspended on a signal: worker RSS, signals sent/s and delivered/s

    uv run --all-packages python bench/bench_workflows.py [--database-url ADMIN_URL] [--quick]
        [--rounds 2] [--systems rhythm,dbos] [throughput latency resume long signals]

`--systems rhythm,rhythm-lazy,dbos` adds a third column: Rhythm with eager dispatch and resume
off (its workers get BENCH_EAGER=0), to compare before/after in one run on a loaded machine.

Without --database-url it uses RHYTHM_TEST_DATABASE_URL, else a throwaway embedded Postgres. Each
system gets its own fresh database on the same server, dropped at the end. 127.0.0.1 / local socket
only; every wait has a deadline, so a run always ends."""

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
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import psycopg

BENCH_DIR = Path(__file__).resolve().parent
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))  # per worker process, both systems
DEADLINE = 900.0  # seconds any one wait may take before the run is abandoned
START_PAUSE = 3.0  # seconds for a worker process to connect and listen before the clock starts

BENCHMARKS = ("throughput", "latency", "resume", "long", "signals")

sys.path.insert(0, str(BENCH_DIR))


class BenchError(RuntimeError):
    """A benchmark could not complete (a worker died, a deadline passed)."""


def wait_until(
    what: str, check: Callable[[], bool], timeout: float = DEADLINE, every: float = 0.05
) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(every)


def rss_mib(pid: int) -> float:
    """Resident set size of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no VmRSS for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used, from /proc (Linux). Unlike wall-clock rates this
    barely moves with the machine's load, so it shows the cost of the work itself."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def read_stamps(path: str) -> dict[tuple[str, str], float]:
    """`tag key time` lines -> {(tag, key): time}; the last line of a (tag, key) wins."""
    stamps: dict[tuple[str, str], float] = {}
    if not os.path.exists(path):
        return stamps
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3:
            stamps[(parts[0], parts[1])] = float(parts[2])
    return stamps


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


def kill(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


@dataclass
class Side:
    """One system under test. The measure_* functions drive both sides through these methods."""

    name: str
    url: str
    results: dict[str, list[float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    _startup_cpu: float | None = None
    # The driver's own connection, kept: a connection per poll would start a server process
    # (a fork and a catalog cache) 20 times a second on the machine being measured.
    _conn: psycopg.Connection | None = None

    def record(self, label: str, value: float) -> None:
        self.results.setdefault(label, []).append(value)
        print(f"  {self.name}: {label}: {show(value)}", flush=True)  # kept if the run stops later

    def _run(self, sql: str, params: tuple = ()) -> psycopg.Cursor:
        if self._conn is None or self._conn.closed:  # psycopg closes it when it breaks
            self._conn = psycopg.connect(self.url, autocommit=True)
        return self._conn.execute(sql, params)  # type: ignore[arg-type]

    def query(self, sql: str, params: tuple = ()) -> Any:
        row = self._run(sql, params).fetchone()
        return row[0] if row else None

    def execute(self, sql: str) -> None:
        self._run(sql)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()

    def worker_command(self, index: int) -> list[str]:
        raise NotImplementedError

    def start_workers(self, count: int, stamp_file: str | None = None) -> list[subprocess.Popen]:
        env = dict(os.environ)
        env.pop("BENCH_STAMP_FILE", None)
        if stamp_file:
            env["BENCH_STAMP_FILE"] = stamp_file
        procs = [
            subprocess.Popen(
                self.worker_command(i),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL if not os.environ.get("BENCH_DEBUG") else None,
            )
            for i in range(count)
        ]
        time.sleep(START_PAUSE)
        for proc in procs:
            if proc.poll() is not None:
                raise BenchError(f"{self.name} worker exited early with {proc.returncode}")
        return procs

    # What each system implements.
    def reset(self) -> None:
        raise NotImplementedError

    def start(self, workflow: str, inputs: list[dict[str, Any]]) -> list[str]:
        raise NotImplementedError

    def done(self, workflow: str) -> int:
        raise NotImplementedError

    def waiting(self, workflow: str) -> int:
        raise NotImplementedError

    def span(self) -> float:
        """Seconds from the first start to the last completion, from the database's timestamps."""
        raise NotImplementedError

    def signal(self, workflow_id: str, payload: Any) -> None:
        raise NotImplementedError

    def analyze(self) -> None:
        self.execute("ANALYZE")

    def startup_cpu(self) -> float:
        """CPU seconds a worker process spends starting (imports, connections) with no work,
        measured once: subtracted from the CPU it takes to run a batch of work."""
        if self._startup_cpu is None:
            self.reset()
            procs = self.start_workers(1)
            try:
                self._startup_cpu = cpu_seconds(procs[0].pid)
            finally:
                stop(procs)
        return self._startup_cpu

    def commits(self) -> int:
        """Transactions committed in this side's database so far, read-only ones included (each
        that wrote is a WAL flush: the floor under every figure here on a disk-backed server)."""
        return int(
            self.query(
                "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
            )
        )


class RhythmSide(Side):
    def __init__(self, url: str, eager: bool = True) -> None:
        super().__init__("Rhythm" if eager else "Rhythm (eager off)", url)
        self.eager = eager
        from rhythm_flow_app import FLOWS

        from rhythm.client import Client

        self.client = Client(database_url=url)
        self.client.migrate()
        self.client.register_workflows(str(FLOWS))

    def worker_command(self, index: int) -> list[str]:
        script = str(BENCH_DIR / "rhythm_flow_app.py")
        return [sys.executable, script, self.url, str(CONCURRENCY)]

    def start_workers(self, count: int, stamp_file: str | None = None) -> list[subprocess.Popen]:
        os.environ["BENCH_EAGER"] = "1" if self.eager else "0"
        try:
            return super().start_workers(count, stamp_file)
        finally:
            os.environ.pop("BENCH_EAGER", None)

    def reset(self) -> None:
        self.execute("TRUNCATE rhythm.executions CASCADE")

    def start(self, workflow: str, inputs: list[dict[str, Any]]) -> list[str]:
        return [str(self.client.workflows.run(workflow, item)) for item in inputs]

    def done(self, workflow: str) -> int:
        return int(
            self.query(
                "SELECT count(*) FROM rhythm.executions"
                " WHERE type = 'workflow' AND name = %s AND status = 'completed'",
                (workflow,),
            )
        )

    def waiting(self, workflow: str) -> int:
        return int(
            self.query(
                "SELECT count(*) FROM rhythm.executions"
                " WHERE type = 'workflow' AND name = %s AND status = 'suspended'",
                (workflow,),
            )
        )

    def failed(self) -> int:
        return int(
            self.query("SELECT count(*) FROM rhythm.executions WHERE status = 'failed'") or 0
        )

    def span(self) -> float:
        return float(
            self.query(
                "SELECT extract(epoch FROM max(completed_at) - min(started_at))"
                " FROM rhythm.executions"
            )
            or 0.0
        )

    def signal(self, workflow_id: str, payload: Any) -> None:
        self.client.signals.send(workflow_id, "go", payload)

    def snapshot_bytes(self, workflow_id: str) -> int:
        return int(
            self.query(
                "SELECT octet_length(state::text) FROM rhythm.workflow_state"
                " WHERE execution_id = %s",
                (workflow_id,),
            )
            or 0
        )

    def awaited(self, workflow_id: str) -> int:
        """Tasks of the workflow that have completed."""
        return int(
            self.query(
                "SELECT count(*) FROM rhythm.executions"
                " WHERE parent_id = %s AND status = 'completed'",
                (workflow_id,),
            )
        )


class DbosSide(Side):
    def __init__(self, url: str) -> None:
        super().__init__("DBOS", url)
        import dbos_app
        from dbos import DBOS, DBOSClient

        self.app = dbos_app
        self.sa_url = dbos_app.sqlalchemy_url(url)
        DBOS.migrate(self.sa_url)
        self.client = DBOSClient(system_database_url=self.sa_url, application_name="bench")
        import sqlalchemy

        self.engine = sqlalchemy.create_engine(self.sa_url)

    def close(self) -> None:
        self.client.destroy()
        self.engine.dispose()
        super().close()

    def worker_command(self, index: int) -> list[str]:
        script = str(BENCH_DIR / "dbos_app.py")
        return [sys.executable, script, self.url, "worker", f"w{index}", str(CONCURRENCY)]

    def reset(self) -> None:
        self.execute(
            "TRUNCATE dbos.workflow_status, dbos.operation_outputs, dbos.notifications CASCADE"
        )

    def start(self, workflow: str, inputs: list[dict[str, Any]]) -> list[str]:
        queue = self.app.SIGNAL_QUEUE if workflow == "wait_signal" else self.app.QUEUE
        options = {"queue_name": queue, "workflow_name": workflow}
        ids: list[str] = []
        # Enqueued in transactions of 500 (DBOS's enqueue_in_transaction), its fastest bulk path.
        for offset in range(0, len(inputs), 500):
            with self.engine.begin() as conn:
                for item in inputs[offset : offset + 500]:
                    handle = self.client.enqueue_in_transaction(conn, options, **item)  # type: ignore[arg-type]
                    ids.append(handle.get_workflow_id())
        return ids

    def done(self, workflow: str) -> int:
        return int(
            self.query(
                "SELECT count(*) FROM dbos.workflow_status WHERE name = %s AND status = 'SUCCESS'",
                (workflow,),
            )
        )

    def waiting(self, workflow: str) -> int:
        """PENDING: dequeued and running (for wait_signal: inside recv)."""
        return int(
            self.query(
                "SELECT count(*) FROM dbos.workflow_status WHERE name = %s AND status = 'PENDING'",
                (workflow,),
            )
        )

    def failed(self) -> int:
        return int(
            self.query(
                "SELECT count(*) FROM dbos.workflow_status WHERE status IN ('ERROR',"
                " 'MAX_RECOVERY_ATTEMPTS_EXCEEDED')"
            )
            or 0
        )

    def span(self) -> float:
        return float(
            self.query(
                "SELECT (max(coalesce(completed_at, updated_at)) - min(started_at_epoch_ms))"
                " / 1000.0 FROM dbos.workflow_status WHERE status = 'SUCCESS'"
            )
            or 0.0
        )

    def signal(self, workflow_id: str, payload: Any) -> None:
        self.client.send(workflow_id, payload, topic="go")


# ---------------------------------------------------------------------------------------------
# The measurements. Each resets its side, starts its own worker processes and stops them.


def watch(
    side: Side,
    what: str,
    check: Callable[[], bool],
    procs: list[subprocess.Popen],
    every: float = 0.05,
) -> None:
    """wait_until, failing fast if a worker dies or a workflow fails."""

    def step() -> bool:
        for proc in procs:
            if proc.poll() is not None:
                raise BenchError(f"{side.name}: a worker exited with {proc.returncode} ({what})")
        if side.failed():  # type: ignore[attr-defined]
            raise BenchError(f"{side.name}: a workflow failed ({what})")
        return check()

    wait_until(f"{side.name}: {what}", step, every=every)


def measure_throughput(side: Side, count: int, workers: int) -> None:
    """Load the backlog, ANALYZE, start the workers; the rate comes from the database's own
    timestamps (first start to last completion), so process start-up is not counted."""
    side.startup_cpu()
    side.reset()
    side.start("three_steps", [{"i": i} for i in range(count)])
    side.analyze()
    commits = side.commits()
    procs = side.start_workers(workers)
    try:
        # Polled twice a second: the figure comes from the database's timestamps, not from here.
        watch(
            side, f"{count} workflows", lambda: side.done("three_steps") >= count, procs, every=0.5
        )
        cpu = sum(cpu_seconds(proc.pid) for proc in procs) - workers * side.startup_cpu()
    finally:
        stop(procs)
    time.sleep(1.0)  # the statistics collector catches up with the workers' last commits
    plural = "es" if workers > 1 else ""
    side.record(
        f"3-step workflows, {workers} worker process{plural} (workflows/s)", count / side.span()
    )
    side.record(
        f"3-step workflows, {workers} worker process{plural}: worker CPU per workflow (ms)",
        cpu * 1000 / count,
    )
    side.record(
        f"3-step workflows, {workers} worker process{plural}: transactions per workflow",
        (side.commits() - commits) / count,
    )


def measure_latency(side: Side, runs: int, steps: int) -> None:
    """Workflows of `steps` stamped tasks, one at a time on one idle worker: the gap from each
    task's end to the next task's start."""
    side.reset()
    with tempfile.NamedTemporaryFile("w+", suffix=".stamps", delete=False) as tmp:
        stamp_file = tmp.name
    procs = side.start_workers(1, stamp_file)
    try:
        for run in range(runs):
            side.start("chain", [{"run": run, "steps": steps}])
            watch(side, f"chain {run}", lambda n=run + 1: side.done("chain") >= n, procs)
    finally:
        stop(procs)
    stamps = read_stamps(stamp_file)
    os.unlink(stamp_file)
    gaps = [
        (stamps[("start", f"{run}:{i}")] - stamps[("end", f"{run}:{i - 1}")]) * 1000
        for run in range(runs)
        for i in range(1, steps)
    ]
    side.record("step latency p50 (ms)", statistics.median(gaps))
    side.record("step latency p99 (ms)", percentile(gaps, 0.99))


def measure_resume_rhythm(side: RhythmSide, k: int, rounds: int) -> None:
    """A workflow completes K awaits and waits on a signal; the worker is killed and a fresh one
    started (nothing of the workflow is in any process); then each signal's commit to the next
    task's start is one resume: load the snapshot, resume the VM, commit, run the task."""
    side.reset()
    with tempfile.NamedTemporaryFile("w+", suffix=".stamps", delete=False) as tmp:
        stamp_file = tmp.name
    procs = side.start_workers(1, stamp_file)
    try:
        [wid] = side.start("resume_probe", [{"k": k, "rounds": rounds}])
        watch(
            side,
            f"{k} awaits",
            lambda: side.awaited(wid) >= k and side.waiting("resume_probe") == 1,
            procs,
        )
        kill(procs)
        procs = side.start_workers(1, stamp_file)
        # The new process's first workflow step pays one-off costs (imports, the compile of the
        # workflow, prepared statements): a throwaway workflow pays them, so that what is timed
        # is the resume itself. The one-off cost is reported in the notes.
        cold = time.time()
        side.start("three_steps", [{"i": 0}])
        watch(side, "warm-up", lambda: side.done("three_steps") >= 1, procs)
        cold = (time.time() - cold) * 1000
        size = side.snapshot_bytes(wid)  # at its wait (a finished workflow's state is deleted)
        sent: list[float] = []
        for r in range(rounds):
            side.signal(wid, r)
            sent.append(time.time())
            # The task done and the workflow back at its wait (an idle worker takes a few ms;
            # the pause keeps the next signal from arriving before the wait it is timed against).
            watch(side, f"resume {r}", lambda r=r: side.awaited(wid) >= k + r + 1, procs)
            time.sleep(0.3)
    finally:
        stop(procs)
    stamps = read_stamps(stamp_file)
    os.unlink(stamp_file)
    costs = [(stamps[("start", f"mark:{r}")] - sent[r]) * 1000 for r in range(rounds)]
    side.record(f"resume after K={k:,} (ms)", statistics.median(costs))
    side.notes.append(
        f"K={k:,}: snapshot {size:,} bytes at the wait; resumes (ms) {fmt_list(costs)};"
        f" the restarted worker's first workflow (3 tasks, cold) took {cold:,.0f} ms"
    )


def measure_resume_dbos(side: DbosSide, k: int) -> None:
    """A workflow completes K steps and waits in recv; its process dies (os._exit, no shutdown);
    the message is sent; a new process launches, recovers the workflow, replays its K steps from
    their checkpoints and runs the next step. Timed from the replay's entry into the workflow
    function to that step's start (the recovery queue's poll and DBOS's launch are left out), and
    from launch to that step."""
    side.reset()
    with tempfile.NamedTemporaryFile("w+", suffix=".stamps", delete=False) as tmp:
        stamp_file = tmp.name
    env = dict(os.environ, BENCH_STAMP_FILE=stamp_file)
    script = str(BENCH_DIR / "dbos_app.py")
    wid = f"resume-{k}-{time.time_ns()}"
    first = subprocess.run(
        [sys.executable, script, side.url, "resume-start", str(k), wid],
        env=env,
        timeout=DEADLINE,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
    )
    if first.returncode != 0:
        raise BenchError(f"DBOS: resume-start exited with {first.returncode}")
    if side.waiting("resume_probe") != 1:
        raise BenchError("DBOS: the probe is not PENDING after its process died")
    side.signal(wid, 0)
    second = subprocess.run(
        [sys.executable, script, side.url, "recover", wid],
        env=env,
        timeout=DEADLINE,
        stdout=subprocess.DEVNULL,
        stderr=None if os.environ.get("BENCH_DEBUG") else subprocess.DEVNULL,
    )
    if second.returncode != 0:
        raise BenchError(f"DBOS: recover exited with {second.returncode}")
    lines = Path(stamp_file).read_text(encoding="utf-8").splitlines()
    os.unlink(stamp_file)
    entries = [float(line.split()[2]) for line in lines if line.startswith("entry ")]
    launch = [float(line.split()[2]) for line in lines if line.startswith("launch ")]
    mark = [float(line.split()[2]) for line in lines if line.startswith(f"start mark:{k} ")]
    if len(entries) != 2 or not mark or not launch:
        raise BenchError(f"DBOS: unexpected stamps for the resume probe: {lines[:6]}")
    replay = (mark[0] - entries[1]) * 1000
    side.record(f"resume after K={k:,} (ms)", replay)
    side.notes.append(
        f"K={k:,}: replay {replay:,.1f} ms; launch to the next step {(mark[0] - launch[0]) * 1000:,.0f} ms"
    )


def measure_long(side: RhythmSide, awaits: int, window: int, limit: float) -> None:
    """One workflow of `awaits` sequential no-op tasks, measured by bench_long_workflow.py (which
    also runs on its own, with more options): the first and last `window` awaits, the worker's
    CPU per await over them, the snapshot's size. Stopped after `limit` seconds: the figures
    then cover the awaits done by then, and say so."""
    import bench_long_workflow as long_run

    side.reset()
    with tempfile.TemporaryDirectory() as folder:
        run = long_run.Run(awaits, window, "task", True, Path(folder) / "workers.log")
        long_run.run_workflow(side.url, run, 1, CONCURRENCY, limit)
        f = long_run.figures(side.url, run)
    label = (
        f"{awaits:,} awaits" if run.finished else f"{f.done:,} of {awaits:,} awaits (time limit)"
    )
    side.record(f"{label}: first {f.window:,} steps (s)", f.first)
    side.record(f"{label}: last {f.window:,} steps (s)", f.last)
    side.record(f"{label}: last / first (wall clock)", f.last / f.first)
    side.record(f"{label}: whole workflow (steps/s)", f.done / f.total)
    if f.cpu_first is not None and f.cpu_last is not None:
        side.record(f"{label}: worker CPU per step, first {f.window:,} (ms)", f.cpu_first)
        side.record(f"{label}: worker CPU per step, last {f.window:,} (ms)", f.cpu_last)
    if f.sizes:
        side.record(f"{label}: snapshot bytes, smallest", min(n for _, _, n in f.sizes))
        side.record(f"{label}: snapshot bytes, largest", max(n for _, _, n in f.sizes))
        side.notes.append(
            "snapshot bytes at (step): " + ", ".join(f"{n:,} ({s:,})" for _, s, n in f.sizes)
        )
    side.record(f"{label}: worker peak RSS (MiB)", max(run.rss_peak))


def measure_signals(side: Side, count: int) -> None:
    """`count` workflows wait on a signal in one worker process; its RSS before, while they wait
    and after; then every one is signalled (one send per call) and all must complete."""
    side.reset()
    warm = 50
    procs = side.start_workers(1)
    pid = procs[0].pid
    try:
        # Warm-up, so the baseline has already run the code paths the measurement uses.
        ids = side.start("wait_signal", [{"i": i} for i in range(warm)])
        watch(side, "warm-up waits", lambda: side.waiting("wait_signal") >= warm, procs)
        for wid in ids:
            side.signal(wid, "warm")
        watch(side, "warm-up done", lambda: side.done("wait_signal") >= warm, procs)
        time.sleep(1.0)
        idle = rss_mib(pid)
        started = time.perf_counter()
        ids = side.start("wait_signal", [{"i": i} for i in range(count)])
        start_rate = count / (time.perf_counter() - started)
        watch(side, f"{count} waits", lambda: side.waiting("wait_signal") >= count, procs)
        time.sleep(2.0)  # the last ones reach their wait
        loaded = rss_mib(pid)
        t0 = time.time()
        for i, wid in enumerate(ids):
            side.signal(wid, i)
        send_rate = count / (time.time() - t0)
        watch(side, f"{count} signalled", lambda: side.done("wait_signal") >= warm + count, procs)
        delivered = count / (time.time() - t0)
        after = rss_mib(pid)
    finally:
        stop(procs)
    side.record(f"{count:,} waiting: workflows started (/s)", start_rate)
    side.record("worker RSS before (MiB)", idle)
    side.record(f"worker RSS with {count:,} waiting (MiB)", loaded)
    side.record("worker RSS after all completed (MiB)", after)
    side.record("signals sent (/s, one call each)", send_rate)
    side.record("signals delivered: send to all completed (/s)", delivered)


# ---------------------------------------------------------------------------------------------


def fmt_list(values: list[float]) -> str:
    return " / ".join(f"{v:,.1f}" for v in values)


LOWER_IS_BETTER = (
    "latency",
    "resume",
    "RSS",
    "(s)",
    "last / first",
    "bytes",
    "per workflow",
    "per step",
)


def best(label: str, values: list[float]) -> float:
    return min(values) if any(key in label for key in LOWER_IS_BETTER) else max(values)


def show(value: float) -> str:
    return (
        f"{value:,.0f}"
        if abs(value) >= 100
        else f"{value:,.1f}"
        if abs(value) >= 1
        else f"{value:.2f}"
    )


def print_table(sides: list[Side]) -> None:
    labels: list[str] = []
    for side in sides:
        labels += [label for label in side.results if label not in labels]
    names = " | ".join(s.name for s in sides)
    print(f"| figure | {names} | every round |")
    print("|---" * (len(sides) + 2) + "|")
    for label in labels:
        cells = [show(best(label, s.results[label])) if label in s.results else "—" for s in sides]
        rounds = "; ".join(
            f"{s.name}: " + " / ".join(show(v) for v in s.results[label])
            for s in sides
            if label in s.results
        )
        print(f"| {label} | " + " | ".join(cells) + f" | {rounds} |")
    for side in sides:
        for note in side.notes:
            print(f"- {side.name}: {note}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "benchmarks", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument("--database-url", help="admin URL of the server (may CREATE DATABASE)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (~3 min)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, systems alternating")
    parser.add_argument(
        "--systems",
        default="rhythm,dbos",
        help="rhythm,dbos (default), either alone, or with rhythm-lazy (eager paths off)",
    )
    parser.add_argument("--workflows", type=int, default=2_000, help="throughput: workflows")
    parser.add_argument("--latency-runs", type=int, default=4)
    parser.add_argument("--latency-steps", type=int, default=100)
    parser.add_argument(
        "--resume-k", type=lambda s: [int(x) for x in s.split(",")], default=[10, 1_000, 10_000]
    )
    parser.add_argument("--resume-rounds", type=int, default=5, help="Rhythm resumes per K")
    parser.add_argument("--long-awaits", type=int, default=100_000)
    parser.add_argument(
        "--long-seconds", type=float, default=3 * 3600, help="time limit of the long workflow"
    )
    parser.add_argument("--signals", type=int, default=10_000)
    args = parser.parse_args()
    if args.quick:
        args.rounds = 1
        args.workflows = 300
        args.latency_runs, args.latency_steps = 2, 50
        args.resume_k = [10, 200, 1_000]
        args.resume_rounds = 3
        args.long_awaits = 3_000
        args.signals = 1_000
    chosen = args.benchmarks or list(BENCHMARKS)
    unknown = [b for b in chosen if b not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}: choose from {', '.join(BENCHMARKS)}")
    systems = [s.strip().lower() for s in args.systems.split(",") if s.strip()]
    if not systems or any(s not in ("rhythm", "rhythm-lazy", "dbos") for s in systems):
        parser.error(f"--systems takes rhythm, rhythm-lazy and/or dbos, got {args.systems!r}")
    window = min(1_000, args.long_awaits // 3)

    from rhythm.client.testing import create_database, drop_database, test_server

    with ExitStack() as stack:
        admin = args.database_url or stack.enter_context(test_server())
        urls = [create_database(admin, "bench_wf_rhythm"), create_database(admin, "bench_wf_dbos")]
        if "rhythm-lazy" in systems:
            urls.append(create_database(admin, "bench_wf_rhythm_lazy"))
        stack.callback(lambda: [drop_database(admin, u) for u in urls])
        with psycopg.connect(admin) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        sides: list[Side] = []
        rhythm = RhythmSide(urls[0]) if "rhythm" in systems else None
        if rhythm:
            sides.append(rhythm)
        if "rhythm-lazy" in systems:
            sides.append(RhythmSide(urls[2], eager=False))
        if "dbos" in systems:
            sides.append(DbosSide(urls[1]))
        for side in sides:
            stack.callback(side.close)
        steps: list[tuple[str, str, Callable[[Side], None]]] = []
        if "throughput" in chosen:
            for workers in (1, 2):
                steps.append(
                    (
                        "throughput",
                        f"{workers} worker(s)",
                        lambda s, w=workers: measure_throughput(s, args.workflows, w),
                    )
                )
        if "latency" in chosen:
            steps.append(
                (
                    "latency",
                    "step latency",
                    lambda s: measure_latency(s, args.latency_runs, args.latency_steps),
                )
            )
        if "resume" in chosen:
            for k in args.resume_k:
                steps.append(
                    (
                        "resume",
                        f"resume K={k}",
                        lambda s, k=k: (
                            measure_resume_rhythm(s, k, args.resume_rounds)  # type: ignore[arg-type]
                            if isinstance(s, RhythmSide)
                            else measure_resume_dbos(s, k)
                        ),  # type: ignore[arg-type]
                    )
                )
        if "signals" in chosen:
            steps.append(("signals", "signals", lambda s: measure_signals(s, args.signals)))
        for round_no in range(1, args.rounds + 1):
            for _, label, step in steps:
                for side in sides:
                    print(f"round {round_no}: {label}: {side.name}", flush=True)
                    step(side)
        if "long" in chosen and rhythm:
            print(f"{args.long_awaits:,} awaits: Rhythm", flush=True)
            measure_long(rhythm, args.long_awaits, window, args.long_seconds)
        load = os.getloadavg()
        print()
        print(
            f"{time.strftime('%Y-%m-%d %H:%M %Z')}, {platform.node()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, PostgreSQL {version}, "
            f"DBOS {package_version('dbos')}, best of {args.rounds} round(s), "
            f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
        )
        print_table(sides)


if __name__ == "__main__":
    main()
