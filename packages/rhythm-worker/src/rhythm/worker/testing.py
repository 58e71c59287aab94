"""Helpers for tests that drive real `rhythm worker` processes, as a user or an operator would.

    procs = WorkerProcesses(database_url, app="queue_app", app_dir=tests_dir, log_dir=tmp_path)
    proc = procs.start("-q", "slow", env={"RHYTHM_FAILPOINT": "task-after-run"})
    ...
    procs.stop_all()

Each process logs to its own file (`proc.log_path`); start() returns once it logged "ready:"."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path


class WorkerProcess:
    """One `rhythm worker` subprocess and its log file."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)


class WorkerProcesses:
    """Starts `rhythm worker --app APP` processes; stop_all() kills whichever still run."""

    def __init__(
        self,
        database_url: str,
        app: str,
        app_dir: Path,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.app = app
        self.app_dir = app_dir
        self.log_dir = log_dir
        self.env = dict(env or {})
        self.started: list[WorkerProcess] = []

    def start(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        database_url: str | None = None,
        ready_timeout: float = 30.0,
    ) -> WorkerProcess:
        log_path = self.log_dir / f"worker-{len(self.started)}.log"
        # RHYTHM_* of the test runner's environment must not leak in (failpoints, URLs).
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
        full_env["PYTHONPATH"] = str(self.app_dir)
        full_env.update(self.env)
        full_env.update(env or {})
        command = [
            sys.executable,
            "-m",
            "rhythm.client.cli",
            "worker",
            "--app",
            self.app,
            "--database-url",
            database_url or self.database_url,
            "--poll-interval",
            "0.2",
            *args,
        ]
        with open(log_path, "wb") as log_file:
            popen = subprocess.Popen(
                command,
                cwd=self.app_dir,
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        proc = WorkerProcess(popen, log_path)
        self.started.append(proc)
        deadline = time.monotonic() + ready_timeout
        while "ready:" not in proc.log():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{proc.log()}")
            time.sleep(0.05)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.popen.kill()
        for proc in self.started:
            proc.popen.wait(10)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 50 ms; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
