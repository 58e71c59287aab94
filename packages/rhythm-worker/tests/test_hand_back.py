"""Hand-back of workflows this worker cannot resume (rhythm.worker.stepper): the worker skips a
handed-back workflow for `hand_back_seconds`, then looks at it again (not in a hot loop, and not
never), and completes it once it can resume it; a stored source this worker cannot compile is
handed back too. Real Postgres, an in-process worker (tests/test_workflow_upgrades.py runs the
rollout with real worker processes)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from rhythm.client import Client
from rhythm.worker import Worker

QUEUE = "hand-back"


@pytest.fixture
def worker(migrated_url: str, tmp_path: Path) -> Iterator[Worker]:
    (tmp_path / "hand_back_wait.flow").write_text('await Signal.next("go");\nreturn 7;\n')
    w = Worker(
        queues=[QUEUE],
        workflows=[tmp_path],
        database_url=migrated_url,
        poll_interval=0.2,
        hand_back_seconds=1.0,
    )
    thread = threading.Thread(target=lambda: asyncio.run(w.run_async()), daemon=True)
    thread.start()
    yield w
    w.stop(now=True)
    thread.join(15)
    assert not thread.is_alive()


def _row(url: str, execution_id: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(
            "SELECT e.status, e.error, e.output, e.attempt, s.state FROM rhythm.executions AS e"
            " LEFT JOIN rhythm.workflow_state AS s ON s.execution_id = e.id WHERE e.id = %s",
            (uuid.UUID(execution_id),),
        ).fetchone()
    assert row is not None
    return row


def _until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _hand_backs(caplog: pytest.LogCaptureFixture, execution_id: str) -> int:
    return sum(
        1
        for r in caplog.records
        if "handed back" in r.getMessage() and execution_id in r.getMessage()
    )


def test_a_handed_back_workflow_is_skipped_for_a_while_then_completed_once_resumable(
    migrated_url: str, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rhythm.worker")
    url = migrated_url
    with Client(url) as client:
        _until(lambda: _known(url, "hand_back_wait"), 20, "the worker to register its workflows")
        wid = client.workflows.run("hand_back_wait", {}, queue=QUEUE)
        _until(lambda: _row(url, wid)["status"] == "suspended", 20, "the workflow to suspend")
        good = _row(url, wid)["state"]
        _set_state(url, wid, {**good, "fingerprint": "0" * 64})
        client.signals.send(wid, "go", None)
        _until(lambda: _hand_backs(caplog, wid) >= 1, 20, "the first hand-back")
        time.sleep(3.2)  # three skip periods of 1 s, sixteen poll intervals
        seen = _hand_backs(caplog, wid)
        assert 2 <= seen <= 5, seen  # looked at again after each skip period, never in a loop
        row = _row(url, wid)
        assert row["status"] in ("pending", "running") and row["attempt"] <= 1
        assert row["error"]["type"] == "IncompatibleSnapshot"

        _set_state(url, wid, good)  # now this worker can resume it: it does, after its skip
        assert client.executions.wait(wid, timeout=20).output == 7
    assert _row(url, wid)["error"] is None


def test_a_stored_source_this_worker_cannot_compile_is_handed_back(
    migrated_url: str, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rhythm.worker")
    url = migrated_url
    source = "return (;\n"  # as if a newer rhythm-core had registered syntax this one lacks
    version = hashlib.sha256(source.encode()).hexdigest()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO rhythm.workflow_definitions (name, version_hash, source)"
            " VALUES ('from_the_future', %s, %s)",
            (version, source),
        )
    with Client(url) as client:
        wid = client.workflows.run("from_the_future", {}, queue=QUEUE)
        _until(lambda: _hand_backs(caplog, wid) >= 1, 20, "the hand-back")
    row = _row(url, wid)
    assert row["status"] in ("pending", "running"), row
    assert row["error"]["type"] == "CompileError" and "cannot compile" in row["error"]["message"]
    with Client(url) as client:
        assert client.executions.cancel(wid) is True  # it waits for a worker that can run it


def _known(url: str, name: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM rhythm.workflow_definitions WHERE name = %s", (name,)
        ).fetchone()
    return row == (1,)


def _set_state(url: str, execution_id: str, state: dict[str, Any]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE rhythm.workflow_state SET state = %s::jsonb WHERE execution_id = %s",
            (json.dumps(state), uuid.UUID(execution_id)),
        )
