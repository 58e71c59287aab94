"""The parameter arrays of start_step_tasks (sql/queries.sql): the tasks a workflow step starts,
one array per column. Filled by the worker's stepper for a step's Task.run effects and by
executions.restart for the tasks a kept snapshot still awaits; the statement also takes each
task's workflow (`parent_ids`), so that the steps a worker commits together insert their tasks
in one statement (merge)."""

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


def merge(parts: list[dict[str, list[Any]]]) -> dict[str, list[Any]] | None:
    """One set of arrays holding every task of `parts` (each a full set of start_step_tasks'
    arrays, with the same keys), in order; None when there are none."""
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return {key: [value for part in parts for value in part[key]] for key in parts[0]}
