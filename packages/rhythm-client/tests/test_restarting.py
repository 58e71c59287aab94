"""rhythm.client.restarting without a database: which handles of a snapshot are pending, what is
created again for each, and the error naming a handle whose origin is gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from rhythm.client.errors import CannotRestart
from rhythm.client.restarting import PendingHandle, describe_kept, pending_handles, plan_restart
from rhythm.core.compiler import compile_source
from rhythm.core.vm import start

SOURCE = """\
const t = Task.run("charge", { n: 1 })
const w = Workflow.run("child", { m: 2 })
const s = Signal.when("go", { timeout: 60 })
await Timer.delay(5)
return [await t, await w, await s]
"""


def test_every_started_unsettled_handle_is_pending_awaited_or_not() -> None:
    step = start(compile_source(SOURCE, "f.flow"), {}, {"now": 0})
    assert step.status == "suspended"
    assert pending_handles(step.state) == [
        PendingHandle(1, "task", "charge"),
        PendingHandle(2, "workflow", "child"),
        PendingHandle(3, "signal", "go"),
        PendingHandle(4, "timer", ""),
    ]


def test_a_damaged_snapshot_is_refused() -> None:
    with pytest.raises(CannotRestart, match="the snapshot is damaged"):
        pending_handles({"pending": [[1, {"$r": 9}]], "heap": []})


def test_the_plan_creates_each_again() -> None:
    new = uuid.uuid4()
    due = datetime(2030, 1, 1, tzinfo=UTC)
    child = {"type": "workflow", "name": "child", "ordered_inputs": '{"m":2}', "version_hash": "v"}
    task = {"type": "task", "name": "charge", "queue": "q", "priority": 3, "inputs": '{"n": 1}',
            "max_retries": 2, "timeout_seconds": 9.0}  # fmt: skip
    plan = plan_restart(
        "orig",
        4,
        [
            PendingHandle(1, "task", "charge"),
            PendingHandle(2, "workflow", "child"),
            PendingHandle(3, "signal", "go"),
            PendingHandle(4, "timer", ""),
        ],
        [{**task, "handle": 1}, {**child, "handle": 2}],
        [
            {
                "handle": 3,
                "kind": "timeout",
                "fire_at": due,
                "signal_name": "go",
                "timeout_seconds": 60.0,
            },
            {
                "handle": 4,
                "kind": "timer",
                "fire_at": due,
                "signal_name": None,
                "timeout_seconds": None,
            },
        ],
        new,
    )
    names = [name for name, _ in plan.statements()]
    assert names == ["start_step_tasks", "restart_child_workflows", "restart_timers",
                     "start_step_waits"]  # fmt: skip
    params = dict(plan.statements())
    tasks = params["start_step_tasks"]
    assert (tasks["handles"], tasks["queues"], tasks["priorities"], tasks["max_retries"],
            tasks["timeouts"], tasks["delays"], tasks["parent_ids"]) == (
        [1], ["q"], [3], [2], [9.0], [None], [new])  # fmt: skip
    assert params["restart_child_workflows"]["version_hashes"] == ["v"]
    assert params["restart_timers"]["kinds"] == ["timeout", "timer"]
    assert params["start_step_waits"]["names"] == ["go"]


@pytest.mark.parametrize(
    ("pending", "message"),
    [
        (
            PendingHandle(1, "task", "charge"),
            "the task 'charge' \\(handle 1\\) it had started is no",
        ),
        (PendingHandle(2, "timer", ""), "when its timer \\(handle 2\\) was due is not stored"),
    ],
)
def test_a_handle_whose_origin_is_gone_is_named(pending: PendingHandle, message: str) -> None:
    with pytest.raises(CannotRestart, match=f"cannot restart workflow orig from step 4: {message}"):
        plan_restart("orig", 4, [pending], [], [], uuid.uuid4())


def test_the_kept_history_in_words() -> None:
    assert describe_kept({"kept": 0, "first_step": None, "last_step": None}) == "none is kept"
    assert describe_kept({"kept": 1, "first_step": 4, "last_step": 4}) == (
        "the only one kept is step 4"
    )
