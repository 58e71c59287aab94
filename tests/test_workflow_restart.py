"""Restart from here (client.executions.restart, `rhythm restart`): a new execution started from
a kept snapshot of a workflow, on a real Postgres with a real worker. What the snapshot awaited
is created again for the new execution - a task re-enqueued with the same inputs, a timer
re-armed at its original time (fired at once when that has passed), a signal wait registered
again - so it resumes exactly there; and every bad input gets one clear error."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg.conninfo import make_conninfo

from rhythm.client import (
    AsyncClient,
    CannotRestart,
    CannotRetry,
    Client,
    ExecutionNotFound,
    InvalidInput,
    NotAWorkflow,
    SnapshotNotFound,
)
from rhythm.client.cli import cli

QUEUE = "restart-q"
ORDER = """\
const order = Inputs.order
const charged = await Task.run("restart.charge", { order, cents: 250 }, { queue: "restart-q" })
await Timer.delay(0.2)
const approval = await Signal.next("approve")
return { order, charged, by: approval.by }
"""
FLAKY = """\
const result = await Task.run("restart.flaky", { n: Inputs.n }, { queue: "restart-q", retries: 0 })
return { result }
"""
PARENT = """\
const result = await Workflow.run("restart_child", { x: Inputs.x })
return { result }
"""
CHILD = """\
const s = await Signal.when("go", { timeout: "1h" })
return s.v * Inputs.x
"""
CALLS: list[dict[str, Any]] = []
FAIL_FLAKY = threading.Event()


def _tasks() -> list[Any]:
    from rhythm.worker import task

    @task("restart.charge", queue=QUEUE)
    def charge(inputs: dict) -> dict:
        CALLS.append(inputs)
        return {"charged": inputs["cents"], "call": len(CALLS)}

    @task("restart.flaky", queue=QUEUE, retries=0)
    def flaky(inputs: dict) -> int:
        if FAIL_FLAKY.is_set():
            raise RuntimeError("flaky failed")
        return inputs["n"] * 2

    return [charge, flaky]


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("restart-flows")
    (folder / "restart_order.flow").write_text(ORDER, encoding="utf-8")
    (folder / "restart_flaky.flow").write_text(FLAKY, encoding="utf-8")
    (folder / "restart_parent.flow").write_text(PARENT, encoding="utf-8")
    (folder / "restart_child.flow").write_text(CHILD, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def client(migrated_url: str, flows: Path) -> Iterator[Client]:
    with Client(migrated_url) as c:
        c.register_workflows(flows)
        yield c


@pytest.fixture(scope="module")
def worker(migrated_url: str, client: Client, flows: Path) -> Iterator[None]:
    from rhythm.worker import Worker

    worker = Worker(
        database_url=migrated_url,
        workflows=flows,
        tasks=_tasks(),
        queues=["default", QUEUE],
        poll_interval=0.2,
        lease_seconds=3.0,
        grace_period=1.0,
    )
    thread = threading.Thread(target=lambda: asyncio.run(worker.run_async()), daemon=True)
    thread.start()
    yield
    worker.stop(now=True)
    thread.join(15)


def wait_until(check: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def sql(url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def suspended_at(client: Client, wid: str, steps: int) -> None:
    """Until the workflow has kept `steps` snapshots and is suspended."""
    wait_until(
        lambda: client.executions.get(wid).status == "suspended" and _kept(client, wid) >= steps
    )


def _kept(client: Client, wid: str) -> int:
    rows = sql(
        client.database_url,
        "SELECT count(*) FROM rhythm.workflow_history WHERE execution_id = %s",
        wid,
    )
    return int(rows[0][0])


def waiting_line(client: Client, wid: str) -> int | None:
    wait = client.executions.inspect(wid).wait
    return None if wait is None else wait.line


def finished_order(client: Client) -> str:
    """A restart_order workflow run to completion: steps 1 (task), 2 (timer), 3 (signal)."""
    wid = client.workflows.run("restart_order", {"order": "o-1"})
    suspended_at(client, wid, 3)
    client.signals.send(wid, "approve", {"by": "ann"})
    done = client.executions.wait(wid, timeout=20)
    assert done.status == "completed", done.error
    return wid


def test_restart_from_a_task_wait_runs_the_task_again_and_resumes_there(
    client: Client, worker: None
) -> None:
    wid = finished_order(client)
    steps = [
        r[0]
        for r in sql(
            client.database_url,
            "SELECT step FROM rhythm.workflow_history WHERE execution_id = %s ORDER BY step",
            wid,
        )
    ]
    assert steps == [1, 2, 3]
    calls_before = len(CALLS)

    new = client.executions.restart(wid, from_step=1)
    restarted = client.executions.get(new)
    assert (restarted.restarted_from, restarted.restarted_from_step) == (wid, 1)
    assert restarted.name == "restart_order" and restarted.inputs == {"order": "o-1"}
    assert restarted.version_hash == client.executions.get(wid).version_hash
    # The task it awaited runs again with the same inputs, then the timer, then the signal wait.
    suspended_at(client, new, 3)
    assert CALLS[calls_before:] == [{"order": "o-1", "cents": 250}]
    history = sql(
        client.database_url,
        "SELECT step FROM rhythm.workflow_history WHERE execution_id = %s ORDER BY step",
        new,
    )
    assert [r[0] for r in history] == [1, 2, 3]  # its own history continues the original's numbers
    client.signals.send(new, "approve", {"by": "bo"})
    done = client.executions.wait(new, timeout=20)
    assert done.status == "completed"
    assert done.output == {
        "order": "o-1",
        "charged": {"charged": 250, "call": calls_before + 1},
        "by": "bo",
    }
    # The original is untouched.
    assert client.executions.get(wid).output["by"] == "ann"


def test_restart_from_a_signal_wait_registers_the_wait_again(client: Client, worker: None) -> None:
    wid = finished_order(client)
    calls_before = len(CALLS)
    new = client.executions.restart(wid, from_step=3)
    assert client.executions.get(new).status == "suspended"
    waits = sql(
        client.database_url, "SELECT name FROM rhythm.signal_waits WHERE execution_id = %s", new
    )
    assert waits == [("approve",)]
    wait = client.executions.inspect(new).wait
    assert wait is not None and wait.line == 4
    client.signals.send(new, "approve", {"by": "cy"})
    done = client.executions.wait(new, timeout=20)
    assert done.output["by"] == "cy" and done.output["charged"]["call"] <= calls_before
    assert len(CALLS) == calls_before  # the task it had already received was not run again


def test_a_timer_whose_time_has_passed_fires_at_once(client: Client, worker: None) -> None:
    wid = finished_order(client)
    new = client.executions.restart(wid, from_step=2)
    armed = sql(
        client.database_url,
        "SELECT count(*) FROM rhythm.timer_history WHERE execution_id = %s",
        new,
    )
    assert armed == [(1,)]  # the re-armed timer is itself kept: a restart can be restarted
    # The original timer was due long ago: it fires at the next poll and the workflow moves on.
    wait_until(lambda: waiting_line(client, new) == 4)


def test_a_pending_timer_is_rearmed_at_its_original_time(
    client: Client, worker: None, migrated_url: str
) -> None:
    # A real timer snapshot (step 2 of a finished run) copied onto a parked workflow as step 7,
    # with its timer due far ahead: the restart arms it at exactly that time.
    done = finished_order(client)
    wid = client.workflows.run("restart_order", {"order": "t"}, queue="restart-parked")
    due = "2099-01-01T00:00:00+00:00"
    sql(
        migrated_url,
        "INSERT INTO rhythm.workflow_history (execution_id, step, version_hash, state, waiting_on)"
        " SELECT %s, 7, version_hash, state, waiting_on FROM rhythm.workflow_history"
        " WHERE execution_id = %s AND step = 2",
        wid,
        done,
    )
    sql(
        migrated_url,
        "INSERT INTO rhythm.timer_history (execution_id, handle, kind, fire_at)"
        " SELECT %s, handle, kind, %s::timestamptz FROM rhythm.timer_history"
        " WHERE execution_id = %s",
        wid,
        due,
        done,
    )
    new = client.executions.restart(wid, from_step=7)
    rows = sql(
        migrated_url,
        "SELECT kind, fire_at = %s::timestamptz FROM rhythm.timers WHERE execution_id = %s",
        due,
        new,
    )
    assert rows == [("timer", True)]
    assert client.executions.get(new).status == "suspended"


def test_a_child_workflow_and_a_signal_timeout_are_started_again(
    client: Client, worker: None, migrated_url: str
) -> None:
    parent = client.workflows.run("restart_parent", {"x": 3})
    suspended_at(client, parent, 1)
    child = wait_until(lambda: client.executions.inspect(parent).children)[0]
    suspended_at(client, child.id, 1)
    # The child waits for "go" with a timeout due in an hour; restart the child itself from
    # there: the wait is registered again and its timeout re-armed at the same time.
    due = sql(migrated_url, "SELECT fire_at FROM rhythm.timers WHERE execution_id = %s", child.id)
    new_child = client.executions.restart(child.id, from_step=1)
    assert client.executions.get(new_child).parent_id is None  # a restarted child runs alone
    assert sql(
        migrated_url,
        "SELECT kind, fire_at, signal_name FROM rhythm.timers WHERE execution_id = %s",
        new_child,
    ) == [("timeout", due[0][0], "go")]
    client.signals.send(new_child, "go", {"v": 5})
    assert client.executions.wait(new_child, timeout=20).output == 15

    # Restart the parent from its await of the child: a new child starts on the same version.
    new_parent = client.executions.restart(parent, from_step=1)
    kids = wait_until(lambda: client.executions.inspect(new_parent).children)
    assert [(k.type, k.name, k.parent_handle) for k in kids] == [
        ("workflow", "restart_child", child.parent_handle)
    ]
    kid = client.executions.get(kids[0].id)
    assert kid.inputs == {"x": 3}
    assert kid.version_hash == client.executions.get(child.id).version_hash
    suspended_at(client, kid.id, 1)
    client.signals.send(kid.id, "go", {"v": 7})
    assert client.executions.wait(new_parent, timeout=20).output == {"result": 21}
    # The original parent still waits on its own child.
    assert client.executions.get(parent).status == "suspended"
    client.executions.cancel(parent)


def test_a_failed_workflow_restarts_from_its_last_snapshot(client: Client, worker: None) -> None:
    FAIL_FLAKY.set()
    try:
        wid = client.workflows.run("restart_flaky", {"n": 21})
        failed = client.executions.wait(wid, timeout=20)
    finally:
        FAIL_FLAKY.clear()
    assert failed.status == "failed" and "flaky failed" in failed.error["message"]
    new = client.executions.restart(wid)  # the last kept snapshot: the await of the task
    assert client.executions.get(new).restarted_from_step == 1
    done = client.executions.wait(new, timeout=20)
    assert done.status == "completed" and done.output == {"result": 42}


async def test_the_async_client_restarts_too(
    client: Client, worker: None, migrated_url: str
) -> None:
    wid = finished_order(client)
    async with AsyncClient(migrated_url) as ac:
        new = await ac.executions.restart(wid, from_step=0)
        ex = await ac.executions.get(new)
        assert (ex.restarted_from, ex.restarted_from_step, ex.status) == (wid, 0, ex.status)
        await asyncio.to_thread(suspended_at, client, new, 3)  # from the beginning: all 3 again
        with pytest.raises(SnapshotNotFound):
            await ac.executions.restart(wid, from_step=9)


def test_bad_inputs_have_clear_errors(client: Client, worker: None, migrated_url: str) -> None:
    wid = finished_order(client)
    unknown = str(uuid.uuid4())
    with pytest.raises(ExecutionNotFound, match=f"no execution with id {unknown}"):
        client.executions.restart(unknown)
    with pytest.raises(InvalidInput, match="not an execution id: 'nope'"):
        client.executions.restart("nope")
    with pytest.raises(InvalidInput, match="from_step must be between 0 and"):
        client.executions.restart(wid, from_step=-1)
    with pytest.raises(InvalidInput, match="from_step must be an integer, got '2'"):
        client.executions.restart(wid, from_step="2")  # type: ignore[arg-type]
    with pytest.raises(
        SnapshotNotFound,
        match=f"workflow {wid} has no kept snapshot of step 9; kept: 3 snapshots, steps 1 to 3",
    ):
        client.executions.restart(wid, from_step=9)
    task_id = client.tasks.run("restart.charge", {"order": "x", "cents": 1}, queue="restart-parked")
    with pytest.raises(NotAWorkflow, match=f"execution {task_id} is a task, not a workflow"):
        client.executions.restart(task_id)
    with pytest.raises(CannotRetry, match=f"task {task_id} is pending, not failed"):
        client.executions.retry(task_id)
    with pytest.raises(CannotRetry, match=f"{wid} is a workflow; only a failed task"):
        client.executions.retry(wid)
    never = client.workflows.run("restart_order", {"order": "never"}, queue="restart-parked")
    with pytest.raises(
        SnapshotNotFound, match="has no kept snapshot \\(none is kept: it never suspended"
    ):
        client.executions.restart(never)


def test_with_history_off_restart_says_so(
    client: Client, worker: None, migrated_url: str, flows: Path
) -> None:
    from rhythm.worker import Worker

    # A worker whose sessions keep no history steps this workflow (its own queue).
    off = make_conninfo(migrated_url, options="-c rhythm.history=off")
    quiet_worker = Worker(
        database_url=off, workflows=flows, queues=["restart-off"], poll_interval=0.2
    )
    thread = threading.Thread(target=lambda: asyncio.run(quiet_worker.run_async()), daemon=True)
    thread.start()
    try:
        wid = client.workflows.run("restart_order", {"order": "off"}, queue="restart-off")
        wait_until(lambda: client.executions.get(wid).status == "suspended")
    finally:
        quiet_worker.stop(now=True)
        thread.join(15)
    assert _kept(client, wid) == 0
    with Client(off) as quiet, pytest.raises(CannotRestart, match="time travel history is off"):
        quiet.executions.restart(wid)
    with pytest.raises(SnapshotNotFound, match="or ran while history was off"):
        client.executions.restart(wid)
    # From the beginning needs no snapshot.
    new = client.executions.restart(wid, from_step=0)
    assert client.executions.get(new).restarted_from_step == 0
    client.executions.cancel(new)


def test_the_restart_and_retry_commands(client: Client, worker: None, migrated_url: str) -> None:
    wid = finished_order(client)
    runner = CliRunner()
    out = runner.invoke(cli, ["restart", wid, "--from", "3", "--database-url", migrated_url])
    assert out.exit_code == 0, out.output
    assert out.output.startswith(f"restarted {wid} from step 3 as ")
    new = out.output.split()[-1]
    assert client.executions.get(new).restarted_from == wid
    shown = runner.invoke(cli, ["inspect", new, "--database-url", migrated_url])
    assert shown.exit_code == 0 and f"{wid} at step 3" in shown.output
    bad = runner.invoke(cli, ["restart", wid, "--from", "8", "--database-url", migrated_url])
    assert bad.exit_code == 1 and "has no kept snapshot of step 8" in bad.output
    worse = runner.invoke(cli, ["retry", wid, "--database-url", migrated_url])
    assert worse.exit_code == 1 and "only a failed task can be retried" in worse.output
