"""Rolling upgrades with real `rhythm worker` processes on a real Postgres: a worker that meets a
snapshot it cannot resume (saved by another rhythm-core: another snapshot format, or the program
compiled differently) hands the workflow back for a worker that can, says why in its log and in
the execution's `error` (shown by `rhythm inspect`), and does not claim it again for a while;
a worker that can resume it then completes it. A snapshot that is damaged still fails the
workflow with a clear error.

A "newer" worker is `--app wf_newer_core`: today's rhythm-core with its snapshot formats moved
past every format this release reads, so everything it saves is refused by today's workers and
the other way round."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from rhythm.core.snapshot import _READABLE
from rhythm.worker.testing import WorkerProcess, WorkerProcesses, wait_for

APP = Path(__file__).parent / "workflow_app"
sys.path.insert(0, str(APP))
import wf_db  # noqa: E402

NEWER_FORMAT = max(_READABLE) + 1  # what wf_newer_core writes (a state with no builtin objects)

QUEUE = "upgrade"  # the workflows of this module run here; their `double` tasks on "default"
ARGS = ("--workflows", "flows", "-q", QUEUE, "-q", "default", "--lease-seconds", "2")


@pytest.fixture
def procs(migrated_url: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    started = WorkerProcesses(migrated_url, "wf_tasks", APP, tmp_path)
    yield started
    started.stop_all()


def _stop(proc: WorkerProcess) -> None:
    proc.signal()
    assert proc.wait(30) == 0, proc.log()


def _state(url: str, execution_id: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT state FROM rhythm.workflow_state WHERE execution_id = %s",
            (uuid.UUID(execution_id),),
        ).fetchone()
    assert row is not None, "no snapshot stored"
    return row["state"]


def _set_state(url: str, execution_id: str, state: dict[str, Any]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE rhythm.workflow_state SET state = %s::jsonb WHERE execution_id = %s",
            (json.dumps(state), uuid.UUID(execution_id)),
        )


def _ready(url: str, execution_id: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rhythm.ready WHERE execution_id = %s", (uuid.UUID(execution_id),)
        ).fetchone()
    return row is not None and row[0] == 1


def _suspended(url: str, execution_id: str) -> None:
    wait_for(
        lambda: wf_db.rows(url, [execution_id])[execution_id]["status"] == "suspended",
        30,
        "the workflow to suspend",
    )


def _hand_backs(proc: WorkerProcess, execution_id: str) -> list[str]:
    return [
        line for line in proc.log().splitlines() if execution_id in line and "handed back" in line
    ]


def _inspect(url: str, execution_id: str) -> str:
    return _cli(url, "inspect", execution_id)


def _cli(url: str, *args: str) -> str:
    """`rhythm ARGS` as a user runs it, its output on one line (a long message may wrap)."""
    done = subprocess.run(
        [sys.executable, "-m", "rhythm.client.cli", *args, "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


def test_a_newer_workers_snapshot_is_handed_back_by_an_older_worker_then_completed(
    migrated_url: str, procs: WorkerProcesses
) -> None:
    url = migrated_url
    newer = procs.start("--app", "wf_newer_core", *ARGS)
    wid = wf_db.start(url, "wait_signal", queue=QUEUE)
    _suspended(url, wid)
    saved = _state(url, wid)
    assert saved["format"] == NEWER_FORMAT  # written by the newer rhythm-core
    _stop(newer)  # the rollout goes back: only a worker on today's rhythm-core is left

    older = procs.start(*ARGS)
    before = wf_db.rows(url, [wid])[wid]
    wf_db.signal(url, wid, "go", 21)  # the workflow is ready: the older worker claims it
    wait_for(lambda: _hand_backs(older, wid), 30, "the older worker to hand the workflow back")
    time.sleep(2.0)  # ten poll intervals: a worker that re-claimed it would have done so by now

    [line] = _hand_backs(older, wid)  # once, not in a loop
    assert "IncompatibleSnapshot" in line and f"snapshot format {NEWER_FORMAT}" in line, line
    row = wf_db.rows(url, [wid])[wid]
    assert row["status"] == "pending" and _ready(url, wid)  # ready for a worker that can
    assert row["attempt"] == before["attempt"]  # the hand-back is not counted as an attempt
    assert row["error"]["type"] == "IncompatibleSnapshot"
    assert "handed it back" in row["error"]["message"], row["error"]
    assert _state(url, wid) == saved  # the snapshot and the signal are untouched
    shown = _inspect(url, wid)
    assert "pending" in shown and "IncompatibleSnapshot" in shown, shown
    assert f"snapshot format {NEWER_FORMAT}" in shown, shown
    listed = _cli(url, "ls", "--type", "workflow")
    assert f"{wid} workflow wait_signal · pending (IncompatibleSnapshot)" in listed, listed

    procs.start("--app", "wf_newer_core", *ARGS)  # the rollout resumes: a newer worker is back
    found = wf_db.wait(url, [wid], 60)[wid]
    assert found["status"] == "completed" and found["output"] == 42, found
    assert found["error"] is None  # the step that ran cleared the hand-back note
    assert len(_hand_backs(older, wid)) == 1  # the older worker never took it again


def test_a_snapshot_of_a_program_compiled_differently_is_handed_back(
    migrated_url: str, procs: WorkerProcesses
) -> None:
    url = migrated_url
    worker = procs.start(*ARGS)
    wid = wf_db.start(url, "wait_signal", queue=QUEUE)
    _suspended(url, wid)
    state = _state(url, wid)
    _set_state(url, wid, {**state, "fingerprint": "f" * 64})  # as another compiler would save
    wf_db.signal(url, wid, "go", 1)
    wait_for(lambda: _hand_backs(worker, wid), 30, "the worker to hand the workflow back")
    time.sleep(1.0)
    [line] = _hand_backs(worker, wid)
    assert "compiled differently" in line, line
    row = wf_db.rows(url, [wid])[wid]
    assert (row["status"], row["error"]["type"]) == ("pending", "IncompatibleSnapshot")
    assert _ready(url, wid)


def test_a_damaged_snapshot_still_fails_the_workflow_with_a_clear_error(
    migrated_url: str, procs: WorkerProcesses
) -> None:
    url = migrated_url
    worker = procs.start(*ARGS)
    wid = wf_db.start(url, "wait_signal", queue=QUEUE)
    _suspended(url, wid)
    state = _state(url, wid)
    # The right format and fingerprint, but a heap no rhythm-core ever wrote.
    _set_state(url, wid, {**state, "heap": [{"bogus": 1}]})
    wf_db.signal(url, wid, "go", 1)
    row = wf_db.wait(url, [wid], 30)[wid]
    assert row["status"] == "failed"
    assert row["error"]["type"] == "InvalidState"
    assert "damaged" in row["error"]["message"], row["error"]
    assert not _hand_backs(worker, wid)
