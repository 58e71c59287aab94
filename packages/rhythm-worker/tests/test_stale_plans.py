"""A migration applied while a worker runs may change the type of a column the worker's prepared
statements return; Postgres then refuses to run them ("cached plan must not change result
type"). The worker counts that as an outage: the call fails once, its connections are dropped,
and the retry prepares the statement again on a fresh connection. (Its own database: this
module changes the schema.)"""

from __future__ import annotations

import uuid

import psycopg

from rhythm.worker.store import DATABASE_ERRORS, WorkerStore, is_outage, open_pool


async def test_a_result_type_changed_by_a_migration_costs_one_retry(migrated_url: str) -> None:
    pool = open_pool(migrated_url, 2, 30.0)
    store = WorkerStore(pool, "stale-worker")
    try:
        assert await store.claim(["stale-q"], 4, 30.0) == []  # prepared on this connection
        tid = uuid.uuid4()
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            conn.execute("ALTER TABLE rhythm.executions ALTER COLUMN priority TYPE bigint")
            conn.execute(
                "INSERT INTO rhythm.executions (id, type, name, queue) VALUES (%s, 'task', 'job',"
                " 'stale-q')",
                (tid,),
            )
            conn.execute(
                "INSERT INTO rhythm.ready (execution_id, queue, priority) VALUES (%s, 'stale-q', 0)",
                (tid,),
            )
        failed: BaseException | None = None
        try:
            await store.claim(["stale-q"], 4, 30.0)
        except DATABASE_ERRORS as exc:
            failed = exc
        assert failed is not None and "cached plan must not change result type" in str(failed)
        assert is_outage(failed)  # so every caller retries it
        rows = await store.claim(["stale-q"], 4, 30.0)
        assert [(str(r["id"]), r["attempt"]) for r in rows] == [(str(tid), 1)]
    finally:
        await pool.close()
