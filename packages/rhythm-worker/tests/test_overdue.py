"""Tasks that run past their timeout and cannot be stopped, as `rhythm status` shows them: a real
worker, a sync task whose thread sleeps on and an async task that swallows its cancellation, each
listed while it lingers (Client.status(), `rhythm status` and its --json) and gone once it returns;
a killed worker's rows expire; a stopping worker deletes its own."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from rhythm.client import Client
from rhythm.client.cli import cli
from rhythm.client.database import connect
from rhythm.client.models import OverdueTask
from rhythm.worker import task

release: dict[str, threading.Event] = {}


@task("ov-sync-stuck", timeout=0.3)
def ov_sync_stuck(inputs: dict) -> str:
    release[inputs["key"]].wait(30)
    return "late"


@task("ov-async-stubborn", timeout=0.3)
async def ov_async_stubborn(inputs: dict) -> str:
    gate = release[inputs["key"]]
    deadline = time.monotonic() + 30
    while not gate.is_set() and time.monotonic() < deadline:
        # Swallowed on purpose: the worker cannot stop this coroutine.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.02)
    return "late"


TASKS = [ov_sync_stuck, ov_async_stubborn]


@pytest.fixture
def gate() -> Iterator[str]:
    """A key whose event lets the stuck task return; always set at the end, so no thread or
    coroutine outlives the test."""
    key = uuid.uuid4().hex
    release[key] = threading.Event()
    yield key
    release.pop(key).set()


def q() -> str:
    return f"ov-{uuid.uuid4().hex[:8]}"


def until(check: Callable[[], object], seconds: float = 8.0) -> object:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError(f"not true within {seconds}s: {check}")


def listed(client: Client, execution_id: str) -> list[OverdueTask]:
    return [t for t in client.status().overdue if t.execution_id == execution_id]


def rhythm_status(url: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["status", *args, "--database-url", url])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", ["ov-sync-stuck", "ov-async-stubborn"])
def test_a_task_past_its_timeout_is_listed_until_it_returns(
    client: Client, start_worker, migrated_url: str, gate: str, name: str
) -> None:
    queue = q()
    worker = start_worker(tasks=TASKS, queues=[queue], concurrency=2)
    tid = client.tasks.run(name, {"key": gate}, queue=queue, retries=0)
    ex = client.executions.wait(tid, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "TaskTimeout")

    (shown,) = until(lambda: listed(client, tid))
    assert (shown.worker_id, shown.name, shown.attempt) == (worker.worker_id, name, 1)
    assert shown.timeout_seconds == pytest.approx(0.3)
    assert 0 <= shown.overdue_seconds < 10
    assert worker.overdue == 1
    time.sleep(0.3)
    (later,) = listed(client, tid)
    assert later.overdue_seconds > shown.overdue_seconds  # "for how long" grows

    as_json = json.loads(rhythm_status(migrated_url, "--json"))
    (row,) = [r for r in as_json["overdue"] if r["execution_id"] == tid]
    assert (row["worker_id"], row["name"], row["attempt"]) == (worker.worker_id, name, 1)
    assert row["overdue_seconds"] > 0 and row["timed_out_at"]
    table = rhythm_status(migrated_url)
    assert "Still running past their timeout (slot held)" in table
    assert tid in table and name in table

    release[gate].set()
    until(lambda: not listed(client, tid))
    assert worker.overdue == 0
    assert "past their timeout" not in rhythm_status(migrated_url)
    assert client.executions.get(tid).status == "failed"  # its late result stays dropped


def test_a_stopping_worker_deletes_its_rows(
    client: Client, start_worker, migrated_url: str, gate: str
) -> None:
    queue = q()
    worker = start_worker(tasks=TASKS, queues=[queue])
    tid = client.tasks.run("ov-sync-stuck", {"key": gate}, queue=queue, retries=0)
    until(lambda: listed(client, tid))
    worker.stop()
    until(lambda: worker.store is None)  # stopped, while the thread still sleeps
    with connect(migrated_url) as conn:
        left = conn.execute(
            "SELECT count(*) FROM rhythm.overdue WHERE worker_id = %s", (worker.worker_id,)
        ).fetchone()
    assert left == (0,)


def test_a_killed_workers_rows_are_hidden_then_deleted(
    client: Client, start_worker, migrated_url: str, gate: str
) -> None:
    dead, gone = str(uuid.uuid4()), str(uuid.uuid4())
    with connect(migrated_url, autocommit=True) as conn:
        for execution_id, expires in (
            (dead, "now() - interval '1 s'"),
            (gone, "now() + interval '1 h'"),
        ):
            conn.execute(
                "INSERT INTO rhythm.overdue (worker_id, execution_id, attempt, name,"
                " timeout_seconds, timed_out_at, expires_at)"
                f" VALUES ('killed', %s, 1, 'x', 1, now() - interval '1 min', {expires})",
                (execution_id,),
            )
    assert listed(client, dead) == []  # its worker stopped renewing it
    (alive,) = listed(client, gone)
    assert 59 < alive.overdue_seconds < 600
    # A live worker reporting an overdue task of its own deletes expired rows on the way.
    queue = q()
    start_worker(tasks=TASKS, queues=[queue])
    client.tasks.run("ov-sync-stuck", {"key": gate}, queue=queue, retries=0)

    def remaining() -> set[str]:
        with connect(migrated_url) as conn:
            rows = conn.execute(
                "SELECT execution_id::text FROM rhythm.overdue WHERE worker_id = 'killed'"
            )
            return {r[0] for r in rows.fetchall()}

    until(lambda: remaining() == {gone})
    with connect(migrated_url, autocommit=True) as conn:
        conn.execute("DELETE FROM rhythm.overdue WHERE worker_id = 'killed'")


@task("ov-quick")
def ov_quick(inputs: dict) -> str:
    return "done"


def test_a_retry_beside_its_overdue_attempt_holds_a_slot_of_its_own(
    client: Client, start_worker, gate: str
) -> None:
    """Attempt 1 runs on past its timeout; attempt 2 of the same execution then runs on the same
    worker and times out too: two slots held, both listed, nothing else runs meanwhile."""
    queue = q()
    worker = start_worker(tasks=[*TASKS, ov_quick], queues=[queue], concurrency=2)
    tid = client.tasks.run("ov-sync-stuck", {"key": gate}, queue=queue, retries=1)
    assert client.executions.wait(tid, timeout=10).attempt == 2
    shown = until(lambda: len(listed(client, tid)) == 2 and listed(client, tid))
    assert sorted(t.attempt for t in shown) == [1, 2]
    assert worker.overdue == 2
    quick = client.tasks.run("ov-quick", {}, queue=queue)
    time.sleep(1.0)
    assert client.executions.get(quick).status == "pending"  # both slots are held
    release[gate].set()
    assert client.executions.wait(quick, timeout=10).status == "completed"
    until(lambda: not listed(client, tid))
