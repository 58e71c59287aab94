"""What the client hands back: executions and their statuses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

Status = Literal["pending", "running", "suspended", "completed", "failed", "cancelled"]
STATUSES: tuple[str, ...] = ("pending", "running", "suspended", "completed", "failed", "cancelled")
EXECUTION_TYPES: tuple[str, ...] = ("task", "workflow")
FINISHED: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
# What executions.prune() deletes by default: every finished status.
PRUNABLE: tuple[str, ...] = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Execution:
    """One run of a task or workflow, as stored in rhythm.executions.

    `error` is None or {"type", "message", "traceback"} of the last failed attempt; `attempt`
    counts the attempts started so far."""

    id: str
    type: Literal["task", "workflow"]
    name: str
    queue: str
    status: Status
    inputs: Any
    output: Any
    error: dict[str, Any] | None
    attempt: int
    parent_id: str | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    priority: int = 0
    idempotency_key: str | None = None
    version_hash: str | None = None  # workflows: the version this execution runs on
    # A workflow started by executions.restart: the original's id and the step it began from
    # (0: from the beginning).
    restarted_from: str | None = None
    restarted_from_step: int | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Execution:
        return cls(
            id=str(row["id"]),
            type=row["type"],
            name=row["name"],
            queue=row["queue"],
            status=row["status"],
            inputs=row["inputs"],
            output=row["output"],
            error=row["error"],
            attempt=row["attempt"],
            parent_id=None if row["parent_id"] is None else str(row["parent_id"]),
            created_at=row["created_at"],
            started_at=row["started_at"],
            completed_at=row["completed_at"],
            priority=row["priority"],
            idempotency_key=row["idempotency_key"],
            version_hash=row.get("version_hash"),
            restarted_from=None
            if row.get("restarted_from") is None
            else str(row["restarted_from"]),
            restarted_from_step=row.get("restarted_from_step"),
        )

    @property
    def duration(self) -> float | None:
        """Seconds from its first start to its end (None until it has both)."""
        return _seconds_between(self.started_at, self.completed_at)

    def to_json(self) -> dict[str, Any]:
        """Every field as plain JSON values (timestamps as ISO 8601), for `--json` output."""
        return _as_json(self)


@dataclass(frozen=True)
class ChildExecution:
    """A descendant of an execution, as `executions.inspect` lists them: a task or workflow
    started by a workflow (`level` 1) or by one of its descendants (2, 3, ...)."""

    id: str
    parent_id: str | None
    level: int
    type: Literal["task", "workflow"]
    name: str
    status: Status
    attempt: int
    error: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    parent_handle: int | None = None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def duration(self) -> float | None:
        return _seconds_between(self.started_at, self.completed_at)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ChildExecution:
        return cls(
            id=str(row["id"]),
            parent_id=None if row["parent_id"] is None else str(row["parent_id"]),
            level=int(row["level"]),
            type=row["type"],
            name=row["name"],
            status=row["status"],
            attempt=row["attempt"],
            error=row["error"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            completed_at=row["completed_at"],
            parent_handle=row.get("parent_handle"),
        )

    def to_json(self) -> dict[str, Any]:
        return _as_json(self)


def _seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds())


def _as_json(execution: Execution | ChildExecution) -> dict[str, Any]:
    out = {f.name: getattr(execution, f.name) for f in fields(execution)}
    for key in ("created_at", "started_at", "completed_at"):
        value = out[key]
        out[key] = None if value is None else value.isoformat()
    return out


@dataclass(frozen=True)
class QueueCounts:
    """One queue right now: runnable, scheduled for later, and leased to a worker."""

    queue: str
    ready: int
    scheduled: int
    running: int


@dataclass(frozen=True)
class OverdueTask:
    """A task attempt that ran past its timeout and could not be stopped (a sync task's thread,
    or a coroutine that swallowed its cancellation): the attempt has failed, but the task still
    runs and holds one of its worker's concurrency slots until it returns."""

    worker_id: str
    execution_id: str
    attempt: int
    name: str
    timeout_seconds: float | None
    timed_out_at: datetime
    overdue_seconds: float  # how long it has run past its timeout, when the status was read

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> OverdueTask:
        return cls(
            worker_id=row["worker_id"],
            execution_id=str(row["execution_id"]),
            attempt=int(row["attempt"]),
            name=row["name"],
            timeout_seconds=row["timeout_seconds"],
            timed_out_at=row["timed_out_at"],
            overdue_seconds=max(0.0, float(row["overdue_seconds"])),
        )

    def to_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["timed_out_at"] = self.timed_out_at.isoformat()
        return out


@dataclass(frozen=True)
class Overview:
    """What `Client.status()` returns: executions per status (every status present, 0 if none),
    per queue what is ready, scheduled and running, and the tasks still running past their
    timeout (`overdue`, each holding a worker's slot)."""

    executions: dict[str, int]
    queues: list[QueueCounts]
    overdue: list[OverdueTask] = field(default_factory=list)

    @classmethod
    def from_rows(
        cls,
        counts: list[dict[str, Any]],
        queues: list[dict[str, Any]],
        overdue: Sequence[dict[str, Any]] = (),
    ) -> Overview:
        found = {row["status"]: int(row["n"]) for row in counts}
        return cls(
            {status: found.get(status, 0) for status in STATUSES},
            [QueueCounts(r["queue"], r["ready"], r["scheduled"], r["running"]) for r in queues],
            [OverdueTask.from_row(r) for r in overdue],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "executions": dict(self.executions),
            "queues": [
                {"queue": q.queue, "ready": q.ready, "scheduled": q.scheduled, "running": q.running}
                for q in self.queues
            ],
            "overdue": [t.to_json() for t in self.overdue],
        }
