"""The client operations as generators, driven by hand (no database): each step they yield, and
what they make of the results they are sent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from rhythm.client import operations as ops
from rhythm.client.errors import (
    ExecutionFinished,
    ExecutionNotFound,
    IdempotencyConflict,
    NotAWorkflow,
    UnknownWorkflow,
    WaitTimeout,
)

WID = str(uuid.uuid4())


def finish(operation: ops.Operation[Any], result: Any) -> Any:
    with pytest.raises(StopIteration) as stop:
        operation.send(result)
    return stop.value.value


def test_an_enqueue_whose_key_is_taken_returns_the_holder_or_refuses_another_name() -> None:
    call = ops.run_task(
        "t",
        {},
        queue=None,
        priority=0,
        delay=None,
        idempotency_key="k",
        retries=None,
        timeout=None,
    )
    op = ops.enqueue(call)
    assert next(op) is call
    lookup = op.send(None)  # ON CONFLICT DO NOTHING: no row
    assert (lookup.query, lookup.params) == ("by_idempotency_key", {"idempotency_key": "k"})
    assert finish(op, {"id": WID, "type": "task", "name": "t"}) == WID

    op = ops.enqueue(call)
    next(op)
    op.send(None)
    with pytest.raises(IdempotencyConflict, match="already used by workflow 'w'"):
        op.send({"id": WID, "type": "workflow", "name": "w"})


def test_starting_an_unknown_workflow_lists_the_registered_ones() -> None:
    op = ops.start_workflow(
        "nope", {"a": 1}, queue=None, priority=0, idempotency_key=None, delay=None
    )
    latest = next(op)
    assert (latest.query, latest.params) == ("latest_workflow_version", {"name": "nope"})
    names = op.send(None)
    assert (names.query, names.fetch) == ("workflow_names", "all")
    with pytest.raises(UnknownWorkflow, match=r"registered: a, b$"):
        op.send([{"name": "a"}, {"name": "b"}])


def test_starting_a_known_workflow_inserts_it_on_the_latest_version() -> None:
    op = ops.start_workflow(
        "w", {"b": 1, "a": 2}, queue="q", priority=3, idempotency_key=None, delay=None
    )
    next(op)
    start = op.send({"version_hash": "abc", "source": "return 1"})
    assert start.query == "start_workflow"
    assert start.params["version_hash"] == "abc"
    assert start.params["inputs"] == '{"b":1,"a":2}'  # key order kept
    assert finish(op, {"id": start.params["id"]}) == str(start.params["id"])


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        ({"type": None, "status": None, "signal_id": None}, ExecutionNotFound, "no execution"),
        ({"type": "task", "status": "pending", "signal_id": None}, NotAWorkflow, "is a task"),
        (
            {"type": "workflow", "status": "failed", "signal_id": None},
            ExecutionFinished,
            r"already finished \(failed\)",
        ),
    ],
)
def test_a_signal_that_cannot_arrive_is_refused(row: dict, error: type, message: str) -> None:
    op = ops.send_signal(WID, "go", {"x": 1})
    call = next(op)
    assert call.replay_safe is False  # never stored twice
    with pytest.raises(error, match=message):
        op.send(row)


def test_a_delivered_signal_returns_nothing() -> None:
    op = ops.send_signal(WID, "go", None)
    assert next(op).params["payload"] == "null"
    assert finish(op, {"type": "workflow", "status": "suspended", "signal_id": 7}) is None


def test_cancel_repeats_until_nothing_more_is_cancelled() -> None:
    op = ops.cancel_execution(WID)
    step = next(op)
    assert [c.query for c in step.calls] == ["cancel_tree_unqueue", "cancel_tree"]
    assert op.send([None, {"cancelled": 3, "previous_status": "suspended"}]) == step
    assert op.send([None, {"cancelled": 1, "previous_status": "cancelled"}]) == step
    assert finish(op, [None, {"cancelled": 0, "previous_status": "cancelled"}]) is True

    op = ops.cancel_execution(WID)
    next(op)
    assert finish(op, [None, {"cancelled": 0, "previous_status": "completed"}]) is False
    op = ops.cancel_execution(WID)
    next(op)
    with pytest.raises(ExecutionNotFound):
        op.send([None, {"cancelled": 0, "previous_status": None}])


def row(status: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "id": WID,
        "type": "task",
        "name": "t",
        "queue": "default",
        "priority": 0,
        "status": status,
        "inputs": {},
        "output": None,
        "error": None,
        "attempt": 0,
        "parent_id": None,
        "created_at": now,
        "started_at": None,
        "completed_at": None,
        "idempotency_key": None,
        "version_hash": None,
    }


def test_wait_listens_before_reading_and_pauses_until_told() -> None:
    op = ops.wait_for(WID, 60)
    subscribe = next(op)
    assert isinstance(subscribe, ops.Subscribe) and subscribe.execution_id == WID
    read = op.send(None)
    assert read.query == "get_execution" and read.patience is not None
    pause = op.send(row("running"))
    assert isinstance(pause, ops.Pause) and 0 < pause.seconds <= ops.WAIT_RECHECK_SECONDS
    assert op.send(None).query == "get_execution"
    assert finish(op, row("completed")).status == "completed"

    op = ops.wait_for(WID, 0)
    next(op)
    op.send(None)
    with pytest.raises(WaitTimeout, match="did not finish within 0 s"):
        op.send(row("pending"))
