"""WorkerStore against a real Postgres: what a claim returns, and fencing by (id, attempt)."""

from __future__ import annotations

import uuid

import psycopg

from rhythm.worker.outcomes import Claimed
from rhythm.worker.store import Finished, WorkerStore, open_pool


async def test_a_claim_keeps_the_type_and_version_of_the_row(migrated_url: str) -> None:
    wid, tid = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, queue, version_hash, inputs)"
            " VALUES (%s, 'workflow', 'flow', 'store-q', 'v1hash', '{\"a\": 1}'),"
            " (%s, 'task', 'job', 'store-q', NULL, '{}')",
            (wid, tid),
        )
        conn.execute(
            "INSERT INTO rhythm.ready (execution_id, queue, priority)"
            " VALUES (%s, 'store-q', 1), (%s, 'store-q', 0)",
            (wid, tid),
        )
    pool = open_pool(migrated_url, 2, 30.0)
    try:
        store = WorkerStore(pool, "store-worker")
        rows = await store.claim(["store-q"], 10, 30.0)
        claimed = [Claimed.from_row(r) for r in rows]
        assert [(c.id, c.type, c.name, c.version_hash, c.attempt) for c in claimed] == [
            (str(wid), "workflow", "flow", "v1hash", 1),
            (str(tid), "task", "job", None, 1),
        ]
        assert claimed[0].inputs == {"a": 1}
        # A workflow comes with what its step needs (rhythm.step_data); a task with nothing.
        step = claimed[0].step
        assert step is not None and (step["id"], step["name"], step["version_hash"]) == (
            str(wid),
            "flow",
            "v1hash",
        )
        assert (step["inputs"], step["state"], step["results"]) == ({"a": 1}, None, None)
        assert claimed[1].step is None
        # A write for another attempt is fenced out; the right one lands.
        assert await store.complete([Finished(str(tid), 2, "1")]) == set()
        assert await store.complete([Finished(str(tid), 1, "1")]) == {str(tid)}
        assert await store.release([(str(wid), 1)]) == {str(wid)}
    finally:
        await pool.close()
