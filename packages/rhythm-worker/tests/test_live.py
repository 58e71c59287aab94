"""The live step view of `rhythm run`, without I/O: successive inspections in, event lines out."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from rhythm.client.inspection import Inspection, WaitPoint
from rhythm.client.models import ChildExecution, Execution
from rhythm.worker.live import StepReporter

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def root(status: str) -> Execution:
    return Execution(
        id="w",
        type="workflow",
        name="flow",
        queue="default",
        status=status,  # type: ignore[arg-type]
        inputs={},
        output=None,
        error=None,
        attempt=1,
        parent_id=None,
        created_at=T0,
        started_at=T0,
        completed_at=None,
    )


def child(cid: str, status: str, attempt: int = 1, *, parent: str = "w", **kw) -> ChildExecution:
    return ChildExecution(
        id=cid,
        parent_id=parent,
        level=1 if parent == "w" else 2,
        type=kw.pop("type", "task"),
        name=kw.pop("name", cid),
        status=status,  # type: ignore[arg-type]
        attempt=attempt,
        error=kw.pop("error", None),
        created_at=T0,
        started_at=kw.pop("started_at", T0 if status != "pending" else None),
        completed_at=kw.pop("completed_at", None),
    )


def lines(reporter: StepReporter, found: Inspection) -> list[str]:
    return [t.plain for t in reporter.update(found)]


def test_each_event_is_reported_once_with_its_duration() -> None:
    r = StepReporter()
    a = child("get-user", "running")
    assert lines(r, Inspection(root("running"), [a])) == ["  ▶ task get-user started"]
    assert lines(r, Inspection(root("suspended"), [a])) == []
    done = replace(a, status="completed", completed_at=T0 + timedelta(milliseconds=52))
    assert lines(r, Inspection(root("running"), [done])) == ["  ✓ task get-user completed in 52ms"]
    assert lines(r, Inspection(root("running"), [done])) == []


def test_a_step_seen_only_finished_is_reported_started_and_finished() -> None:
    r = StepReporter()
    quick = child("ship", "completed", completed_at=T0 + timedelta(seconds=1.5), name="ship")
    assert lines(r, Inspection(root("running"), [quick])) == [
        "  ▶ task ship started",
        "  ✓ task ship completed in 1.5s",
    ]


def test_failures_retries_and_nesting() -> None:
    r = StepReporter()
    kid = child("c", "running", type="workflow", name="pack_item")
    grandchild = child("g", "running", parent="c", name="reserve")
    assert lines(r, Inspection(root("suspended"), [kid, grandchild])) == [
        "  ▶ workflow pack_item started",
        "    ▶ task reserve started",
    ]
    error = {"type": "OutOfStock", "message": "none left"}
    retrying = replace(grandchild, status="pending", attempt=1, error=error)
    assert lines(r, Inspection(root("suspended"), [kid, retrying])) == [
        "    ✗ task reserve failed, will retry: OutOfStock: none left"
    ]
    again = replace(grandchild, status="running", attempt=2)
    assert lines(r, Inspection(root("suspended"), [kid, again])) == [
        "    ▶ task reserve started (attempt 2)"
    ]
    failed = replace(
        again, status="failed", error=error, completed_at=T0 + timedelta(milliseconds=5)
    )
    assert lines(r, Inspection(root("suspended"), [kid, failed])) == [
        "    ✗ task reserve failed after 5ms: OutOfStock: none left"
    ]


def wait(kind: str, name: str, line: int = 3) -> WaitPoint:
    return WaitPoint(
        "flow", "v", "a\nb\nc\n", line, 1, line, 5, [{"handle": 1, "kind": kind, "name": name}], {}
    )


def test_waiting_on_a_signal_or_timer_is_reported_once_per_wait() -> None:
    r = StepReporter()
    suspended = root("suspended")
    assert lines(r, Inspection(suspended, [], wait("signal", "decision"))) == [
        "  ⏸ waiting on signal 'decision'  (line 3)"
    ]
    assert lines(r, Inspection(suspended, [], wait("signal", "decision"))) == []
    assert lines(r, Inspection(suspended, [], wait("timer", "", line=2))) == [
        "  ⏸ waiting on timer  (line 2)"
    ]
    # Waiting on a task only: the task's own lines say it all.
    assert lines(r, Inspection(suspended, [], wait("task", "get-user", line=1))) == []


def test_a_child_workflow_finishes_after_its_own_steps_when_seen_at_once() -> None:
    # Two children and their tasks all done between two looks: each child's tasks are shown
    # under it, and a child's end comes after its steps, not before them.
    r = StepReporter()
    end = {"completed_at": T0 + timedelta(milliseconds=10)}
    error = {"type": "OutOfStock", "message": "none left"}
    a = child("a", "failed", type="workflow", name="pack_a", error=error, **end)
    b = child("b", "completed", type="workflow", name="pack_b", **end)
    a_task = child("at", "failed", parent="a", name="reserve_a", error=error, **end)
    b_task = child("bt", "completed", parent="b", name="reserve_b", **end)
    assert lines(r, Inspection(root("running"), [a, b, a_task, b_task])) == [
        "  ▶ workflow pack_a started",
        "    ▶ task reserve_a started",
        "    ✗ task reserve_a failed after 10ms: OutOfStock: none left",
        "  ✗ workflow pack_a failed after 10ms: OutOfStock: none left",
        "  ▶ workflow pack_b started",
        "    ▶ task reserve_b started",
        "    ✓ task reserve_b completed in 10ms",
        "  ✓ workflow pack_b completed in 10ms",
    ]


def test_a_child_workflow_waiting_on_a_signal_is_shown_with_its_id() -> None:
    # The signal goes to the child, so its line names the child's execution id.
    r = StepReporter()
    kid = child("k1", "suspended", type="workflow", name="approve")
    kid_ex = replace(root("suspended"), id="k1", name="approve", parent_id="w")
    nested = [Inspection(kid_ex, [], wait("signal", "decision", line=7))]
    assert [t.plain for t in r.update(Inspection(root("suspended"), [kid]), nested)] == [
        "  ▶ workflow approve started",
        "    ⏸ workflow approve k1 waiting on signal 'decision'  (line 7)",
    ]
    assert [t.plain for t in r.update(Inspection(root("suspended"), [kid]), nested)] == []
    # It resumes, then waits again on the same line: shown again, as for the root.
    running = replace(kid, status="running")
    assert [t.plain for t in r.update(Inspection(root("suspended"), [running]))] == []
    assert [t.plain for t in r.update(Inspection(root("suspended"), [kid]), nested)] == [
        "    ⏸ workflow approve k1 waiting on signal 'decision'  (line 7)"
    ]
