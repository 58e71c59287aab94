"""`rhythm dev` driven as a user drives it: start it on an app, start workflows from another
terminal, edit a .flow file while it runs (a good edit becomes the new version, a broken one is
reported and the old version kept), and stop it with Ctrl-C."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RHYTHM = [sys.executable, "-m", "rhythm.client.cli"]


class Lines:
    """The lines a process prints, read in a thread so the test can wait for one."""

    def __init__(self, stream) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))

    def wait_for(self, fragment: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if fragment in line:
                return line
        raise AssertionError(
            f"{fragment!r} not printed within {seconds} s; saw:\n" + "\n".join(self.seen)
        )


def start(url: str, inputs: dict) -> dict:
    done = subprocess.run(
        [*RHYTHM, "start", "onboard_user", "--input", json.dumps(inputs), "--wait", "60", "--json"],
        env={**os.environ, "RHYTHM_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def versions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT version_hash FROM rhythm.workflow_definitions WHERE name = 'onboard_user'"
            " ORDER BY registered_at"
        ).fetchall()
    return [r[0] for r in rows]


def test_dev_reregisters_edited_flows_keeps_the_old_version_on_errors_and_stops_on_ctrl_c(
    migrated_url: str, tmp_path: Path
) -> None:
    app = tmp_path / "quickstart"
    shutil.copytree(ROOT / "examples" / "quickstart", app, ignore=shutil.ignore_patterns(".rhythm"))
    flow = app / "flows" / "onboard_user.flow"
    env = {**os.environ, "RHYTHM_DATABASE_URL": migrated_url, "PYTHONUNBUFFERED": "1"}
    dev = subprocess.Popen(
        [*RHYTHM, "dev", str(app), "--watch-interval", "0.1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    out = Lines(dev.stdout)
    try:
        out.wait_for("registered onboard_user")
        out.wait_for("watching")
        first = start(migrated_url, {"userId": "u-5"})
        assert first["status"] == "completed", first
        assert first["output"]["userId"] == "u-5"

        original = flow.read_text(encoding="utf-8")
        edited = original.replace(
            "return { userId, accountId: account.accountId, welcomed: user.email }",
            "return { userId, accountId: account.accountId, welcomed: user.email, edition: 2 }",
        )
        assert edited != original
        flow.write_text(edited, encoding="utf-8")
        out.wait_for("registered new version of onboard_user")
        assert len(versions(migrated_url)) == 2
        second = start(migrated_url, {"userId": "u-6"})
        assert second["output"]["edition"] == 2

        flow.write_text(edited + "const broken = \n", encoding="utf-8")
        out.wait_for(f"✗ {flow}: not registered")
        problem = out.wait_for(f"{flow}:")
        assert re.match(rf"{re.escape(str(flow))}:1[01]:\d+: \S", problem.strip()), problem
        out.wait_for("onboard_user stays on version")
        assert len(versions(migrated_url)) == 2
        third = start(migrated_url, {"userId": "u-7"})
        assert third["output"]["edition"] == 2  # the last good version still runs

        dev.send_signal(signal.SIGINT)
        dev.wait(timeout=60)
        out.wait_for("stopped", seconds=10)
    finally:
        if dev.poll() is None:
            dev.kill()
            dev.wait()
    assert dev.returncode == 0, "\n".join(out.seen)
    assert not any("Traceback" in line for line in out.seen), "\n".join(out.seen)


def test_dev_needs_a_workflows_folder(migrated_url: str, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.rhythm]\ntasks = []\n", encoding="utf-8")
    done = subprocess.run(
        [*RHYTHM, "dev", str(tmp_path)],
        env={**os.environ, "RHYTHM_DATABASE_URL": migrated_url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert 'set `workflows = "<folder>"` under [tool.rhythm]' in done.stderr
    assert "Traceback" not in done.stderr
