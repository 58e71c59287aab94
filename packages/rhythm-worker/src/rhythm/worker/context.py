"""What a running task can learn about itself: `rhythm.worker.current_execution()`."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class TaskContext:
    execution_id: str
    name: str
    queue: str
    attempt: int
    worker_id: str


_current: ContextVar[TaskContext | None] = ContextVar("rhythm_task_context", default=None)


def current_execution() -> TaskContext:
    """The execution the calling task is running; RuntimeError outside a task."""
    ctx = _current.get()
    if ctx is None:
        raise RuntimeError("current_execution() is only available inside a running task")
    return ctx


def set_current(ctx: TaskContext) -> None:
    _current.set(ctx)
