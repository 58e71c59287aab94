"""What the client hands back: executions and their statuses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

Status = Literal["pending", "running", "suspended", "completed", "failed", "cancelled"]
STATUSES: tuple[str, ...] = ("pending", "running", "suspended", "completed", "failed", "cancelled")
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
        )
