"""Actions the console offers beyond rhythm.client's API (which has cancel and signals.send):
retrying a failed task. The console's button, `rhythm retry ID` and the Python call below run
the same statement (retry_task in console.sql)."""

from __future__ import annotations

import uuid

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from rhythm.client.database import CONNECTION_KWARGS, connect
from rhythm.client.errors import InvalidInput, RhythmError
from rhythm.console.queries import console_query


class CannotRetry(RhythmError):
    """The execution is not a failed task started by a client."""


def _params(execution_id: str) -> dict[str, str]:
    try:
        return {"id": str(uuid.UUID(str(execution_id)))}
    except ValueError:
        raise InvalidInput(f"not an execution id: {execution_id!r}") from None


def _outcome(execution_id: str, row: dict | None) -> str:
    if row is None:
        raise CannotRetry(f"no execution with id {execution_id}")
    if row["retried"]:
        return f"retrying task {execution_id}"
    if row["type"] != "task":
        raise CannotRetry(f"{execution_id} is a workflow; only a failed task can be retried")
    if row["parent_id"] is not None:
        raise CannotRetry(
            f"task {execution_id} was started by workflow {row['parent_id']}, which has its "
            "failure already; retry cannot run it again"
        )
    raise CannotRetry(f"task {execution_id} is {row['status']}, not failed; nothing to retry")


def retry_task(database_url: str, execution_id: str) -> str:
    """Put a failed task (started by a client) back in its queue; returns what was done, raises
    CannotRetry saying why not."""
    params = _params(execution_id)
    with connect(database_url, **CONNECTION_KWARGS, row_factory=dict_row) as conn:
        row = conn.execute(console_query("retry_task"), params).fetchone()
    return _outcome(execution_id, row)


async def retry_task_async(pool: AsyncConnectionPool, execution_id: str) -> str:
    params = _params(execution_id)
    async with pool.connection() as conn:
        cur = await conn.execute(console_query("retry_task"), params)
        row = await cur.fetchone()
    return _outcome(execution_id, row)


__all__ = ["CannotRetry", "retry_task", "retry_task_async"]
