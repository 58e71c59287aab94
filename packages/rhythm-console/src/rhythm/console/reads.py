"""The console's reads: named statements of console.sql on a small async pool of its own, as
plain values for the templates. Executions in depth come from rhythm.client's inspect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from rhythm.client.database import CONNECTION_KWARGS
from rhythm.console.queries import console_query

FILTERS = ("status", "type", "name", "queue")


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: just after (created_at, id) in newest-first order."""

    created_at: datetime
    id: str

    def encode(self) -> str:
        return f"{self.created_at.isoformat()}_{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """Raises ValueError naming the bad cursor."""
        stamp, _, ident = text.rpartition("_")
        try:
            return cls(datetime.fromisoformat(stamp), str(uuid.UUID(ident)))
        except ValueError:
            raise ValueError(f"not a page cursor: {text!r}") from None


def open_pool(database_url: str) -> AsyncConnectionPool:
    kwargs = {**CONNECTION_KWARGS, "row_factory": dict_row}
    return AsyncConnectionPool(database_url, min_size=1, max_size=4, kwargs=kwargs, open=False)


async def fetch(
    pool: AsyncConnectionPool, name: str, params: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    async with pool.connection() as conn:
        cur = await conn.execute(console_query(name), params or {})
        return await cur.fetchall()


def list_params(
    filters: dict[str, str | None],
    since: datetime | None,
    until: datetime | None,
    cursor: Cursor | None,
    limit: int,
) -> dict[str, Any]:
    """The parameters of list_executions: one more row than a page, to know a next page exists."""
    params: dict[str, Any] = {k: (filters.get(k) or None) for k in FILTERS}
    params.update(
        since=since,
        until=until,
        before_created=None if cursor is None else cursor.created_at,
        before_id=None if cursor is None else cursor.id,
        limit=limit + 1,
    )
    return params


async def list_executions(
    pool: AsyncConnectionPool, params: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], Cursor | None]:
    rows = await fetch(pool, "list_executions", params)
    page = rows[:limit]
    more = len(rows) > limit
    last = page[-1] if page else None
    return page, (Cursor(last["created_at"], str(last["id"])) if more and last else None)


async def find_execution(pool: AsyncConnectionPool, text: str) -> str | None:
    """The id of the execution whose id or idempotency key is `text`."""
    try:
        as_id: str | None = str(uuid.UUID(text))
    except ValueError:
        as_id = None
    rows = await fetch(pool, "find_execution", {"id": as_id, "key": text})
    return str(rows[0]["id"]) if rows else None
