"""The parameter arrays of start_step_tasks (sql/queries.sql): the tasks a workflow step starts,
one array per column. Filled by the worker's stepper for a step's Task.run effects and by
executions.restart for the tasks a kept snapshot still awaits."""

from __future__ import annotations

import uuid
from typing import Any

COLUMNS = (
    "ids",
    "handles",
    "names",
    "queues",
    "priorities",
    "inputs",
    "max_retries",
    "timeouts",
    "delays",
)


def empty() -> dict[str, list[Any]]:
    return {column: [] for column in COLUMNS}


def append(
    arrays: dict[str, list[Any]],
    *,
    id: uuid.UUID,
    handle: int,
    name: str,
    queue: str,
    priority: int,
    inputs: str,
    max_retries: int | None,
    timeout: float | None,
    delay: float | None,
) -> None:
    """Add one task (inputs already JSON text, values already validated)."""
    for column, value in zip(
        COLUMNS,
        (id, handle, name, queue, priority, inputs, max_retries, timeout, delay),
        strict=True,
    ):
        arrays[column].append(value)
