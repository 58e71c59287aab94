"""The workflow statements of queries.sql and the triggers of 0002_workflows.sql on a real
Postgres, driven through WorkerStore as the stepper drives them (no VM here: steps are written
by hand), plus the client-facing statements runtime-api calls."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from rhythm.client.database import CONNECTION_KWARGS
from rhythm.client.queries import query
from rhythm.worker.stepper import _BatchedCommits
from rhythm.worker.store import Finished, StepCommit, WorkerStore

Q = "wf-store"


@pytest.fixture
async def store(migrated_url: str) -> AsyncIterator[WorkerStore]:
    kwargs = {**CONNECTION_KWARGS, "row_factory": dict_row}
    async with AsyncConnectionPool(migrated_url, kwargs=kwargs, min_size=1, max_size=4) as pool:
        conn = psycopg.connect(migrated_url, autocommit=True)
        with conn:  # every test starts with empty queues
            conn.execute("DELETE FROM rhythm.ready")
            conn.execute("DELETE FROM rhythm.timers")
        yield WorkerStore(pool, "wf-store-worker")


def sql(url: str, statement: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        cur = conn.execute(statement, params or {})
        return cur.fetchall() if cur.description else []


def named(url: str, statement: str, /, **params: Any) -> list[dict[str, Any]]:
    return sql(url, query(statement), params)


def define(url: str, name: str, source: str = "return 1;") -> str:
    version = f"{name}-{uuid.uuid4().hex[:8]}"
    named(url, "store_workflow_definitions", names=[name], version_hashes=[version],
          sources=[source])  # fmt: skip
    return version


def start(url: str, name: str = "flow", inputs: str = "{}") -> str:
    version = define(url, name)
    wid = uuid.uuid4()
    rows = named(url, "start_workflow", id=wid, name=name, version_hash=version, queue=Q,
                 priority=0, inputs=inputs, idempotency_key=None, delay=None)  # fmt: skip
    assert [r["id"] for r in rows] == [wid]
    return str(wid)


async def claim_one(store: WorkerStore, expected: str) -> dict[str, Any]:
    rows = await store.claim([Q], 10, 30.0)
    assert [str(r["id"]) for r in rows] == [expected]
    return rows[0]


def suspended(
    row: dict[str, Any], waiting_on: list[int], consumed: list[int], **effects: Any
) -> StepCommit:
    return StepCommit(
        id=str(row["id"]), attempt=row["attempt"], parent_id=None,
        version_hash=row["version_hash"], status="suspended", state='{"pc": 1}',
        waiting_on=waiting_on, consumed=consumed, result=None, **effects,
    )  # fmt: skip


def task_params(parent_handles: list[int], names: list[str]) -> dict[str, list[Any]]:
    n = len(parent_handles)
    return {
        "ids": [uuid.uuid4() for _ in range(n)], "handles": parent_handles, "names": names,
        "queues": [Q] * n, "priorities": [0] * n, "inputs": ['{"b": 1, "a": 2}'] * n,
        "max_retries": [None] * n, "timeouts": [None] * n, "delays": [None] * n,
    }  # fmt: skip


async def complete(store: WorkerStore, row: dict[str, Any], output: str) -> None:
    assert await store.complete([Finished(str(row["id"]), row["attempt"], output)])


def status(url: str, execution_id: str) -> str:
    return sql(url, "SELECT status FROM rhythm.executions WHERE id = %(id)s", {"id": execution_id})[
        0
    ]["status"]


def ready(url: str) -> set[str]:
    return {str(r["execution_id"]) for r in sql(url, "SELECT execution_id FROM rhythm.ready")}


async def test_a_task_output_reaches_its_suspended_parent_with_key_order_kept(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url, inputs='{"zeta": 1, "alpha": 2}')
    row = await claim_one(store, wid)
    loaded = (await store.load_steps([wid]))[wid]
    assert list(loaded["inputs"]) == ["zeta", "alpha"] and loaded["state"] is None
    tasks = task_params([1, 2], ["first", "second"])
    assert await store.commit_step(suspended(row, [1], [], tasks=tasks)) == "suspended"
    assert status(migrated_url, wid) == "suspended" and ready(migrated_url) == {
        str(i) for i in tasks["ids"]
    }
    claimed = await store.claim([Q], 10, 30.0)
    assert [r["name"] for r in claimed] == ["first", "second"]  # started first, claimed first
    by_name = {r["name"]: r for r in claimed}
    # The second task (not awaited) finishing leaves the workflow asleep...
    await complete(store, by_name["second"], '{"z": 0, "a": 1}')
    assert status(migrated_url, wid) == "suspended" and wid not in ready(migrated_url)
    # ...the awaited one wakes it, and both outputs wait in its inbox in arrival order.
    await complete(store, by_name["first"], '{"zz": 1, "b": 2, "a": 3}')
    assert status(migrated_url, wid) == "pending" and wid in ready(migrated_url)
    row = await claim_one(store, wid)
    results = (await store.load_steps([wid]))[wid]["results"]
    assert [h for h, _ in results] == [2, 1]
    assert list(results[1][1]["output"]) == ["zz", "b", "a"]
    assert results[1][1] == {"status": "completed", "output": {"zz": 1, "b": 2, "a": 3}}
    done = StepCommit(
        id=wid, attempt=row["attempt"], parent_id=None, version_hash=row["version_hash"],
        status="completed", state=None, waiting_on=[], consumed=[1, 2], result='{"ok": true}',
    )  # fmt: skip
    assert await store.commit_step(done) == "completed"
    left = sql(migrated_url, "SELECT count(*) AS n FROM rhythm.workflow_results")
    assert left[0]["n"] == 0
    assert sql(migrated_url, "SELECT count(*) AS n FROM rhythm.workflow_state")[0]["n"] == 0


async def test_a_result_arriving_during_the_step_makes_it_step_again(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url)
    row = await claim_one(store, wid)
    tasks = task_params([1], ["t"])
    await store.commit_step(suspended(row, [1], [], tasks=tasks))
    task = (await store.claim([Q], 10, 30.0))[0]
    await complete(store, task, "5")
    row = await claim_one(store, wid)
    # While this step runs a signal is matched to an older wait and a timer fires: neither is
    # in the consumed list, so the commit puts the workflow straight back in the ready queue.
    sql(migrated_url, "INSERT INTO rhythm.signal_waits VALUES (%(id)s, 7, 'go')", {"id": wid})
    named(migrated_url, "send_signal", id=wid, name="go", payload='{"n": 1}')
    assert status(migrated_url, wid) == "running"
    assert await store.commit_step(suspended(row, [7], [1])) == "pending"
    assert wid in ready(migrated_url)
    row = await claim_one(store, wid)
    results = (await store.load_steps([wid]))[wid]["results"]
    assert results == [[7, {"status": "completed", "output": {"n": 1}}]]


async def test_a_fenced_out_step_stores_nothing(migrated_url: str, store: WorkerStore) -> None:
    wid = start(migrated_url)
    row = await claim_one(store, wid)
    stale = {**row, "attempt": row["attempt"] + 1}
    assert await store.commit_step(suspended(stale, [1], [], tasks=task_params([1], ["t"]))) is None
    n = sql(migrated_url, "SELECT count(*) AS n FROM rhythm.executions WHERE parent_id = %(id)s",
            {"id": wid})  # fmt: skip
    assert n[0]["n"] == 0 and status(migrated_url, wid) == "running"


async def test_steps_commit_together_or_not_at_all(migrated_url: str, store: WorkerStore) -> None:
    first, second, third = start(migrated_url), start(migrated_url), start(migrated_url)
    rows = {str(r["id"]): r for r in await store.claim([Q], 10, 30.0)}
    tasks = task_params([1], ["t"])
    steps = [
        suspended(rows[first], [1], [], tasks=tasks),
        suspended(rows[second], [3], []),
        StepCommit(
            id=third, attempt=rows[third]["attempt"], parent_id=None,
            version_hash=rows[third]["version_hash"], status="completed", state=None,
            waiting_on=[], consumed=[], result='"done"',
        ),
    ]  # fmt: skip
    # One of them fenced out (its attempt moved on): nothing of any of them is stored.
    stale = [steps[0], suspended({**rows[second], "attempt": rows[second]["attempt"] + 1}, [3], [])]
    assert await store.commit_steps(stale, 30.0) is None
    assert [status(migrated_url, w) for w in (first, second)] == ["running", "running"]
    assert not ready(migrated_url)
    # All of them ours: all stored, each answered in the order given.
    assert await store.commit_steps(steps, 30.0) == [
        ("suspended", []),
        ("suspended", []),
        ("completed", []),
    ]
    assert [status(migrated_url, w) for w in (first, second, third)] == [
        "suspended",
        "suspended",
        "completed",
    ]
    assert ready(migrated_url) == {str(tasks["ids"][0])}
    # A step that would lock a parent workflow is refused before anything is sent.
    child = StepCommit(
        id=first, attempt=1, parent_id=second, version_hash="v", status="completed",
        state=None, waiting_on=[], consumed=[], result="1",
    )  # fmt: skip
    with pytest.raises(ValueError, match="lock no parent"):
        await store.commit_steps([child], 30.0)


async def test_a_batch_stores_each_steps_tasks_and_state_under_its_own_workflow(
    migrated_url: str, store: WorkerStore
) -> None:
    """One start_step_tasks and one finish_steps for the whole batch: every task under its own
    workflow and handle, the ready rows in each workflow's start order, the claimed tasks
    returned to the step that created them, each snapshot where it belongs."""
    first, second = sorted([start(migrated_url), start(migrated_url)])
    rows = {str(r["id"]): r for r in await store.claim([Q], 10, 30.0)}
    plain = task_params([2, 1], ["t", "u"])
    eager = {**task_params([1], ["v"]), "eager": [True]}
    steps = [
        replace(suspended(rows[second], [1], [], tasks=eager), state='{"pc": 2}'),
        suspended(rows[first], [1, 2], [], tasks=plain),
    ]
    done = await store.commit_steps(steps, 30.0)
    assert done is not None
    (status_second, claimed), (status_first, none) = done
    assert (status_first, none, status_second) == ("suspended", [], "suspended")
    assert [(str(r["id"]), str(r["parent_id"]), r["name"]) for r in claimed] == [
        (str(eager["ids"][0]), second, "v")
    ]
    kids = sql(
        migrated_url,
        "SELECT parent_id::text AS parent, parent_handle AS handle, name, status, attempt"
        " FROM rhythm.executions WHERE parent_id = ANY (%(ids)s::uuid[])"
        " ORDER BY parent_id, parent_handle",
        {"ids": [first, second]},
    )
    assert [tuple(k.values()) for k in kids] == [
        (first, 1, "u", "pending", 0),
        (first, 2, "t", "pending", 0),
        (second, 1, "v", "running", 1),
    ]
    queued = sql(
        migrated_url,
        "SELECT execution_id FROM rhythm.ready WHERE execution_id = ANY (%(ids)s::uuid[])"
        " ORDER BY seq",
        {"ids": plain["ids"]},
    )
    assert [str(r["execution_id"]) for r in queued] == [str(plain["ids"][1]), str(plain["ids"][0])]
    states = sql(
        migrated_url,
        "SELECT execution_id::text AS id, state, waiting_on FROM rhythm.workflow_state"
        " WHERE execution_id = ANY (%(ids)s::uuid[])",
        {"ids": [first, second]},
    )
    assert {r["id"]: (r["state"], r["waiting_on"]) for r in states} == {
        first: ({"pc": 1}, [1, 2]),
        second: ({"pc": 2}, [1]),
    }


async def test_steps_ending_in_one_turn_commit_as_one_batch_and_each_learns_its_fate(
    migrated_url: str, store: WorkerStore
) -> None:
    """The stepper's batcher: steps that end in one turn of the event loop go to commit_steps
    together; when one of them was fenced out, each is committed again on its own."""
    batches: list[int] = []
    commit_steps = store.commit_steps

    async def counted(steps: Any, lease: float) -> Any:
        batches.append(len(steps))
        return await commit_steps(steps, lease)

    store.commit_steps = counted  # type: ignore[method-assign]
    ids = [start(migrated_url) for _ in range(3)]
    rows = {str(r["id"]): r for r in await store.claim([Q], 10, 30.0)}
    commits = _BatchedCommits()
    steps = [suspended(rows[i], [1], []) for i in ids]
    steps[1] = suspended({**rows[ids[1]], "attempt": rows[ids[1]]["attempt"] + 1}, [1], [])
    results = await asyncio.gather(*(commits.commit(store, step, 30.0) for step in steps))
    assert batches == [3]  # tried together, then one by one
    assert results == [("suspended", []), (None, []), ("suspended", [])]
    assert [status(migrated_url, i) for i in ids] == ["suspended", "running", "suspended"]
    rows = {str(r["id"]): r for r in await store.claim([Q], 10, 30.0)}  # nothing new is ready
    assert rows == {}


async def test_a_batch_that_breaks_any_other_way_is_committed_one_by_one(
    migrated_url: str, store: WorkerStore
) -> None:
    async def broken(steps: Any, lease: float) -> Any:
        raise OSError("the batch broke")

    store.commit_steps = broken  # type: ignore[method-assign]
    ids = [start(migrated_url) for _ in range(2)]
    rows = {str(r["id"]): r for r in await store.claim([Q], 10, 30.0)}
    commits = _BatchedCommits()
    steps = [suspended(rows[i], [1], []) for i in ids]
    results = await asyncio.gather(*(commits.commit(store, step, 30.0) for step in steps))
    assert results == [("suspended", []), ("suspended", [])]


async def test_signals_sent_before_their_waits_are_kept_and_delivered_in_order(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url)
    for n in (1, 2, 3):
        sent = named(migrated_url, "send_signal", id=wid, name="go", payload=json.dumps({"n": n}))
        assert sent[0]["type"] == "workflow" and sent[0]["signal_id"] is not None
    row = await claim_one(store, wid)
    waits = [(4, "go", None), (5, "go", 30.0), (6, "other", None)]
    assert await store.commit_step(suspended(row, [4, 5], [], waits=waits)) == "pending"
    row = await claim_one(store, wid)
    results = (await store.load_steps([wid]))[wid]["results"]
    assert [(h, r["output"]["n"]) for h, r in results] == [(4, 1), (5, 2)]
    open_waits = sql(migrated_url, "SELECT handle FROM rhythm.signal_waits WHERE execution_id"
                     " = %(id)s", {"id": wid})  # fmt: skip
    assert [w["handle"] for w in open_waits] == [6]
    left = sql(migrated_url, "SELECT payload::text AS p FROM rhythm.signals WHERE execution_id ="
               " %(id)s AND consumed_at IS NULL", {"id": wid})  # fmt: skip
    assert [json.loads(r["p"]) for r in left] == [{"n": 3}]


async def test_send_signal_reports_unknown_finished_and_task_targets(migrated_url: str) -> None:
    missing = named(migrated_url, "send_signal", id=uuid.uuid4(), name="x", payload="1")
    assert missing == [{"type": None, "status": None, "signal_id": None}]
    task = uuid.uuid4()
    sql(migrated_url, "INSERT INTO rhythm.executions (id, type, name) VALUES (%(id)s, 'task', 't')",
        {"id": task})  # fmt: skip
    assert named(migrated_url, "send_signal", id=task, name="x", payload="1") == [
        {"type": "task", "status": "pending", "signal_id": None}
    ]
    wid = start(migrated_url)
    sql(migrated_url, "UPDATE rhythm.executions SET status = 'completed', completed_at = now()"
        " WHERE id = %(id)s", {"id": wid})  # fmt: skip
    assert named(migrated_url, "send_signal", id=wid, name="x", payload="1") == [
        {"type": "workflow", "status": "completed", "signal_id": None}
    ]


async def test_timers_fire_and_a_timeout_that_lost_to_its_signal_is_ignored(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url)
    row = await claim_one(store, wid)
    commit = suspended(row, [1, 2], [], timers=[(1, 0.0, None)], waits=[(2, "s", 0.0)])
    assert await store.commit_step(commit) == "suspended"
    named(migrated_url, "send_signal", id=wid, name="s", payload='"yes"')  # beats its timeout
    fired, taken, _ = await store.fire_timers(100)
    assert (fired, taken) == (1, 2)
    row = await claim_one(store, wid)
    results = dict((await store.load_steps([wid]))[wid]["results"])
    assert results == {
        2: {"status": "completed", "output": "yes"},
        1: {"status": "completed", "output": None},
    }
    # A wait with no signal times out with type "Timeout".
    commit = suspended(row, [3], [1, 2], waits=[(3, "never", 0.0)])
    assert await store.commit_step(commit) == "suspended"
    assert (await store.fire_timers(100))[:2] == (1, 1)
    await claim_one(store, wid)
    (handle, result), *_ = (await store.load_steps([wid]))[wid]["results"]
    assert handle == 3 and result["status"] == "failed"
    assert result["error"]["type"] == "Timeout" and "'never'" in result["error"]["message"]
    assert sql(migrated_url, "SELECT * FROM rhythm.signal_waits WHERE execution_id = %(id)s",
               {"id": wid}) == []  # fmt: skip


async def test_child_workflows_finish_into_their_parent_and_cancel_cascades(
    migrated_url: str, store: WorkerStore
) -> None:
    define(migrated_url, "child")
    wid = start(migrated_url, "parent")
    row = await claim_one(store, wid)
    kids = [(uuid.uuid4(), 1, "child", '{"k": 1}'), (uuid.uuid4(), 2, "nope", "{}")]
    assert await store.commit_step(suspended(row, [1, 2], [], workflows=kids)) == "pending"
    inbox = (await store.load_steps([wid]))[wid]["results"]
    assert inbox[0][0] == 2 and inbox[0][1]["error"]["type"] == "WorkflowNotFound"
    assert "'child'" in inbox[0][1]["error"]["message"]
    child_id = str(kids[0][0])
    rows = await store.claim([Q], 10, 30.0)
    by_id = {str(r["id"]): r for r in rows}
    assert set(by_id) == {wid, child_id}
    await store.commit_step(suspended(by_id[wid], [1], [2]))
    child = by_id[child_id]
    grandchild_tasks = task_params([1], ["leaf"])
    await store.commit_step(suspended(child, [1], [], tasks=grandchild_tasks))
    tree = named(migrated_url, "execution_children", id=wid, limit=10)
    assert [(r["level"], r["type"], r["name"]) for r in tree] == [
        (1, "workflow", "child"),
        (2, "task", "leaf"),
    ]
    with psycopg.connect(migrated_url, autocommit=True, row_factory=dict_row) as conn:
        with conn.transaction():
            conn.execute(query("cancel_tree_unqueue"), {"id": child_id})
            out = conn.execute(query("cancel_tree"), {"id": child_id}).fetchone()
        assert out == {"cancelled": 2, "previous_status": "suspended"}
        again = conn.execute(query("cancel_tree"), {"id": child_id}).fetchone()
        assert again == {"cancelled": 0, "previous_status": "cancelled"}
    assert status(migrated_url, wid) == "pending"  # told of its child's cancellation
    inbox = (await store.load_steps([wid]))[wid]["results"]
    assert inbox == [[1, {"status": "failed", "error": {
        "type": "Cancelled", "message": f"workflow child ({child_id}) was cancelled"}}]]  # fmt: skip
    assert ready(migrated_url) == {wid}


async def test_definitions_in_use_stay_and_the_latest_registration_wins(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url, "versioned")
    (version,) = [r["version_hash"] for r in sql(migrated_url, "SELECT version_hash FROM"
                  " rhythm.executions WHERE id = %(id)s", {"id": wid})]  # fmt: skip
    with pytest.raises(psycopg.errors.ForeignKeyViolation, match="in use"):
        sql(migrated_url, "DELETE FROM rhythm.workflow_definitions WHERE version_hash = %(v)s",
            {"v": version})  # fmt: skip
    newer = define(migrated_url, "versioned", "return 2;")
    assert (
        named(migrated_url, "latest_workflow_version", name="versioned")[0]["version_hash"] == newer
    )
    named(migrated_url, "store_workflow_definitions", names=["versioned"],
          version_hashes=[version], sources=["return 1;"])  # fmt: skip
    assert (
        named(migrated_url, "latest_workflow_version", name="versioned")[0]["version_hash"]
        == version
    )
    assert named(migrated_url, "latest_workflow_version", name="absent") == []
    snap = named(migrated_url, "workflow_snapshot", id=wid)[0]
    assert snap["source"] == "return 1;" and snap["state"] is None and snap["status"] == "pending"


async def test_a_lost_worker_budget_counts_lost_steps_in_a_row(
    migrated_url: str, store: WorkerStore
) -> None:
    wid = start(migrated_url)
    for _ in range(5):  # five committed steps: attempt 5, yet no worker was ever lost
        row = await claim_one(store, wid)
        assert await store.commit_step(suspended(row, [1], [])) == "suspended"
        sql(migrated_url, "INSERT INTO rhythm.ready (execution_id, queue, priority)"
            " VALUES (%(id)s, %(q)s, 0)", {"id": wid, "q": Q})  # fmt: skip
    for lost in range(3):  # now its workers die mid-step, three times in a row
        row = await claim_one(store, wid)
        sql(migrated_url, "UPDATE rhythm.leases SET expires_at = now() - interval '1 second'"
            " WHERE execution_id = %(id)s", {"id": wid})  # fmt: skip
        assert await store.reap(2) == 1
        expected = "pending" if lost < 2 else "failed"
        assert status(migrated_url, wid) == expected, lost
