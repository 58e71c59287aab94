"""The claim query must stay cheap as history and backlog grow: finished executions are never in
the ready queue, the ready queue is walked in claim order through its index, and the join back to
executions goes through the primary key, not a scan."""

from __future__ import annotations

from typing import Any

import psycopg

from rhythm.client.queries import query


def plan_nodes(plan: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    found = [(plan["Node Type"], plan.get("Relation Name"), plan.get("Index Name"))]
    for child in plan.get("Plans", []):
        found.extend(plan_nodes(child))
    return found


def test_claim_plan_uses_the_primary_key_with_a_long_history(migrated_url: str) -> None:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, status, output, attempt, completed_at)"
            " SELECT gen_random_uuid(), 'task', 'old', 'completed', '{}'::jsonb, 1, now()"
            " FROM generate_series(1, 20000)"
        )
        conn.execute(
            "WITH e AS (INSERT INTO rhythm.executions (id, type, name)"
            "  SELECT gen_random_uuid(), 'task', 'new' FROM generate_series(1, 3000) RETURNING id)"
            " INSERT INTO rhythm.ready (execution_id, queue, priority) SELECT id, 'default', 0 FROM e"
        )
        conn.execute("ANALYZE rhythm.executions, rhythm.ready")
        params = {
            "queues": ["default"],
            "limit": 8,
            "worker_id": "plan-test",
            "lease_seconds": 30.0,
            "skip": [],
        }
        (raw,) = conn.execute("EXPLAIN (FORMAT JSON) " + query("claim"), params).fetchone()  # type: ignore[misc]
        nodes = plan_nodes(raw[0]["Plan"])
        text = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query("claim"), params).fetchall())
        ready_rows = conn.execute("SELECT count(*) FROM rhythm.ready").fetchone()

    on_executions = [n for n in nodes if n[1] == "executions"]
    assert on_executions, text
    assert all(kind != "Seq Scan" for kind, _, _ in on_executions), text
    assert any(index == "executions_pkey" for _, _, index in on_executions), text
    assert ready_rows == (3000,)  # 20,000 finished rows exist, none of them in the ready queue
    on_ready = [n for n in nodes if n[1] == "ready" and n[0] != "ModifyTable"]
    assert ("Index Scan", "ready", "ready_claim") in on_ready, text
    assert all(kind != "Seq Scan" for kind, _, _ in on_ready), text
