"""Worker processes (`rhythm worker`) against a real Postgres: kill -9 mid-task, SIGTERM mid-task,
and four processes draining 5,000 tasks with every task run exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from rhythm.client import Client

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def client(migrated_url: str) -> Iterator[Client]:
    with Client(migrated_url) as c:
        yield c


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


@pytest.fixture
def spawn(
    migrated_url: str, run_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., subprocess.Popen]]:
    """spawn(*args) starts `rhythm worker --app queue_app *args` and waits until it is ready."""
    procs: list[subprocess.Popen] = []

    def start(*args: str) -> subprocess.Popen:
        log = tmp_path / f"worker-{len(procs)}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
        env["QUEUE_TEST_RUN_DIR"] = str(run_dir)
        env["PYTHONPATH"] = str(HERE)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rhythm.client.cli",
                "worker",
                "--app",
                "queue_app",
                "--database-url",
                migrated_url,
                "--poll-interval",
                "0.2",
                *args,
            ],
            cwd=HERE,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(log, "w"),  # noqa: SIM115 - closed with the process
        )
        procs.append(proc)
        deadline = time.monotonic() + 30
        while "ready:" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{log.read_text()}")
            time.sleep(0.05)
        proc.log = log  # type: ignore[attr-defined]
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def lines(run_dir: Path) -> list[str]:
    return [line for f in sorted(run_dir.glob("*.log")) for line in f.read_text().splitlines()]


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_work_of_a_killed_worker_runs_again_and_completes_once(
    client: Client, spawn, run_dir: Path
) -> None:
    doomed = spawn("-q", "slow", "--lease-seconds", "1")
    tid = client.tasks.run("proc-slow", {"tag": "k", "seconds": 1.0}, queue="slow")
    wait_for(lambda: "start k 1" in lines(run_dir), 10, "the first attempt to start")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    assert client.executions.get(tid).status == "running"  # nobody knows yet

    spawn("-q", "slow", "--lease-seconds", "1")
    ex = client.executions.wait(tid, timeout=20)
    assert (ex.status, ex.attempt, ex.output) == ("completed", 2, {"tag": "k", "attempt": 2})
    assert ex.error is None
    assert Counter(lines(run_dir)) == {"start k 1": 1, "start k 2": 1, "end k 2": 1}


def test_sigterm_finishes_running_work_and_hands_back_the_rest(
    client: Client, spawn, run_dir: Path
) -> None:
    worker = spawn("-q", "slow", "--concurrency", "2", "--grace-period", "1.5")
    short = client.tasks.run("proc-slow", {"tag": "short", "seconds": 0.7}, queue="slow")
    long = client.tasks.run("proc-slow", {"tag": "long", "seconds": 60}, queue="slow")
    wait_for(
        lambda: {"start short 1", "start long 1"} <= set(lines(run_dir)), 10, "both tasks to start"
    )
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(10) == 0
    log = worker.log.read_text()  # type: ignore[attr-defined]
    assert "handed 1 unfinished execution(s) back" in log

    done = client.executions.get(short)
    assert (done.status, done.output) == ("completed", {"tag": "short", "attempt": 1})
    back = client.executions.get(long)
    assert (back.status, back.attempt) == ("pending", 0)
    with psycopg.connect(client.database_url) as conn:
        ready = conn.execute("SELECT count(*) FROM rhythm.ready").fetchone()
    assert ready == (1,)
    client.executions.cancel(long)


def test_four_worker_processes_run_5000_tasks_exactly_once(
    client: Client, spawn, run_dir: Path, migrated_url: str
) -> None:
    workers = [spawn("-q", "drain", "--concurrency", "8") for _ in range(4)]
    total = 5000
    ids = client.tasks.run_many("proc-record", [{"n": n} for n in range(total)], queue="drain")
    assert len(ids) == total

    def finished() -> bool:
        with psycopg.connect(migrated_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM rhythm.executions"
                " WHERE name = 'proc-record' AND status = 'completed'"
            ).fetchone()
        return row == (total,)

    wait_for(finished, 90, "5,000 tasks to complete")
    for w in workers:
        w.send_signal(signal.SIGTERM)
    for w in workers:
        assert w.wait(15) == 0
    runs = Counter(lines(run_dir))
    assert len(runs) == total and set(runs.values()) == {1}
    assert set(runs) == {f"n {n}" for n in range(total)}
    per_process = [len(f.read_text().splitlines()) for f in run_dir.glob("*.log")]
    assert len(per_process) >= 2, per_process  # the work really was shared
    with psycopg.connect(migrated_url) as conn:
        left = conn.execute(
            "SELECT (SELECT count(*) FROM rhythm.ready), (SELECT count(*) FROM rhythm.leases)"
        ).fetchone()
    assert left == (0, 0)


def test_sigterm_ends_a_worker_whose_async_task_ignores_cancellation(
    client: Client, spawn, run_dir: Path
) -> None:
    worker = spawn("-q", "stubborn", "--grace-period", "0.5")
    tid = client.tasks.run("proc-stubborn", {}, queue="stubborn")
    wait_for(lambda: "start stubborn 1" in lines(run_dir), 10, "the task to start")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0  # not held forever by a task that never ends
    log = worker.log.read_text()  # type: ignore[attr-defined]
    assert "handed 1 unfinished execution(s) back" in log
    assert "ignored their cancellation at shutdown" in log
    assert client.executions.get(tid).status == "pending"
    client.executions.cancel(tid)
