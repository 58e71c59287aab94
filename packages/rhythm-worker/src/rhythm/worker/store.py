"""WorkerStore: every statement a worker runs against Postgres, as methods taking plain values.

The worker engine (worker.py) decides when to claim, renew or write; this module decides how:
each method borrows a pooled connection, runs one named statement of queries.sql and returns
plain Python values. Every multi-row statement is its own transaction (the pool's connections
are in autocommit mode), so each keeps the lock order documented at the top of queries.sql.
Errors are psycopg's own: the engine tells an outage (OperationalError) from a bad row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool

from rhythm.client.queries import query

Pool = AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]]


@dataclass(frozen=True)
class Finished:
    """A completed attempt to record: `output` is JSON text."""

    id: str
    attempt: int
    output: str


@dataclass(frozen=True)
class FailedAttempt:
    """A failed attempt to record: `error` is JSON text; `retry_delay` None means no retry."""

    id: str
    attempt: int
    error: str
    retry_delay: float | None


class WorkerStore:
    """The queries of one worker (its id is part of every lease it takes or renews)."""

    def __init__(self, pool: Pool, worker_id: str) -> None:
        self.pool = pool
        self.worker_id = worker_id

    async def claim(
        self, queues: Sequence[str], limit: int, lease_seconds: float
    ) -> list[dict[str, Any]]:
        """Up to `limit` ready executions of `queues`, now running and leased to this worker.
        Rows carry `inputs` as JSON text: decoding is the caller's, one row at a time."""
        params = {
            "queues": list(queues),
            "limit": limit,
            "worker_id": self.worker_id,
            "lease_seconds": lease_seconds,
        }
        async with self.pool.connection() as conn:
            return await (await conn.execute(query("claim"), params)).fetchall()

    async def promote(self, limit: int) -> tuple[int, float | None]:
        """Move due scheduled work to the ready queue: (how many, seconds until the next is due)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(query("promote_scheduled"), {"limit": limit})
            row = await cur.fetchone()
        assert row is not None
        return int(row["promoted"]), row["next_due_in"]

    async def complete(self, done: Sequence[Finished]) -> set[str]:
        """Store outputs; returns the ids actually completed (others were fenced out)."""
        params = {
            "ids": [uuid.UUID(d.id) for d in done],
            "attempts": [d.attempt for d in done],
            "outputs": [d.output for d in done],
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query("complete"), params)).fetchall()
        return {str(r["id"]) for r in rows}

    async def fail(self, failed: Sequence[FailedAttempt]) -> set[str]:
        """Store failed attempts (retried later or failed for good); returns the ids changed."""
        params = {
            "ids": [uuid.UUID(f.id) for f in failed],
            "attempts": [f.attempt for f in failed],
            "errors": [f.error for f in failed],
            "retry_delays": [f.retry_delay for f in failed],
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query("fail"), params)).fetchall()
        return {str(r["id"]) for r in rows}

    async def release(self, held: Sequence[tuple[str, int]]) -> set[str]:
        """Hand (id, attempt) pairs back to the ready queue, attempt not counted."""
        params = {
            "ids": [uuid.UUID(i) for i, _ in held],
            "attempts": [a for _, a in held],
        }
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query("release"), params)).fetchall()
        return {str(r["execution_id"]) for r in rows}

    async def renew(self, lease_seconds: float) -> set[tuple[str, int]]:
        """Extend this worker's leases; returns the (id, attempt) pairs it still holds."""
        params = {"worker_id": self.worker_id, "lease_seconds": lease_seconds}
        async with self.pool.connection() as conn:
            rows = await (await conn.execute(query("renew_leases"), params)).fetchall()
        return {(str(r["execution_id"]), int(r["attempt"])) for r in rows}

    async def reap(self, lost_worker_retries: int) -> int:
        """Requeue (or fail) work whose lease lapsed; returns how many executions it changed."""
        params = {"lost_worker_retries": lost_worker_retries}
        async with self.pool.connection() as conn:
            row = await (await conn.execute(query("reap_expired_leases"), params)).fetchone()
        return 0 if row is None else int(row["count"])
