"""Statements that find executions by key (an id, or (id, attempt) pairs) reach them through the
primary key whatever the planner's statistics say about statuses.

A status check written as an index condition (`e.id = $1 AND e.status = 'running'`) lets the
planner walk the (status, created_at) index instead when its statistics call that status rare:
after an ANALYZE taken while every execution was pending, `status = 'completed'` looks like one
row, and a step's commit then read every completed execution to find one. Here the statistics are
taken on pending rows only, then tens of thousands of completed, running, suspended and failed
rows are added behind their back, and every such statement is planned: once for its parameters
(as a client's statements are), once as the generic plan a worker connection keeps for it
(rhythm.worker.store.WORKER_SETTINGS)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from rhythm.client.database import Timeouts
from rhythm.client.queries import query
from rhythm.worker.store import FENCED_OUT, WORKER_SETTINGS, open_pool

TASK, WORKFLOW, PARENT = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
STATUS_INDEXES = {"executions_status_created", "executions_name_status_created"}

STATEMENTS: dict[str, dict[str, Any]] = {
    "complete": {"ids": [TASK], "attempts": [1], "outputs": ["{}"]},
    "fail": {"ids": [TASK], "attempts": [1], "errors": ["{}"], "retry_delays": [None]},
    "release": {"ids": [TASK], "attempts": [1]},
    "hand_back": {"id": WORKFLOW, "attempt": 1, "note": "{}"},
    "claim_woken": {
        "ids": [TASK],
        "attempts": [1],
        "queues": ["default"],
        "limit": 8,
        "worker_id": "plan-test",
        "lease_seconds": 30.0,
        "skip": [],
    },
    "claim_chained_step": {
        "id": WORKFLOW,
        "attempt": 1,
        "steps": 1,
        "handle": 1,
        "task_id": TASK,
        "task_attempt": 1,
    },
    "lock_steps_or_fail": {"ids": [WORKFLOW], "attempts": [1], "parents": [PARENT]},
    "finish_steps": {
        "steps": json.dumps(
            [
                {
                    "id": str(WORKFLOW),
                    "attempt": 1,
                    "status": "suspended",
                    "state": "{}",
                    "waiting_on": [1],
                    "consumed": [1],
                    "result": None,
                    "version_hash": "v",
                }
            ]
        )
    },
    "reap_expired_leases": {"lost_worker_retries": 3},
    "cancel_execution": {"id": WORKFLOW},
    "cancel_tree": {"id": WORKFLOW},
    "retry_task": {"id": TASK},
    "send_signal": {"id": WORKFLOW, "name": "go", "payload": "{}"},
}


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    found = [plan]
    for child in plan.get("Plans", []):
        found.extend(plan_nodes(child))
    return found


@pytest.fixture(scope="module")
def skewed(migrated_url: str) -> str:
    """Statistics taken on 3,000 pending executions; then 34,000 of other statuses."""
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE rhythm.executions SET (autovacuum_enabled = false)")
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, status)"
            " SELECT CASE WHEN i = 1 THEN %s ELSE gen_random_uuid() END, 'workflow', 'w', 'pending'"
            " FROM generate_series(1, 3000) AS i",
            (PARENT,),
        )
        conn.execute("ANALYZE rhythm.executions")
        conn.execute(
            """
            INSERT INTO rhythm.executions
                (id, type, name, status, attempt, parent_id, parent_handle, completed_at)
            SELECT gen_random_uuid(), 'task', 't', s.status, 1, %s, i,
                   CASE WHEN s.status IN ('completed', 'failed') THEN now() END
            FROM (VALUES ('completed', 20000), ('running', 5000), ('suspended', 5000),
                         ('failed', 4000)) AS s (status, n)
            CROSS JOIN LATERAL generate_series(1, s.n) AS i
            """,
            (PARENT,),
        )
    return migrated_url


def assert_by_key(raw: Any, text: str) -> None:
    nodes = plan_nodes(raw[0]["Plan"])
    on_executions = [n for n in nodes if n.get("Relation Name") == "executions"]
    assert on_executions, text
    assert not [n for n in on_executions if n.get("Index Name") in STATUS_INDEXES], text
    assert not [n for n in on_executions if n["Node Type"] == "Seq Scan"], text
    # Nor a whole index walked in place of a seq scan (enable_seqscan = off leads a hash join
    # that way): every index scan of executions looks up keys.
    walks = [n for n in on_executions if "Index" in n["Node Type"] and "Index Cond" not in n]
    assert not walks, text


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_statement_finds_executions_by_key_not_by_status(skewed: str, name: str) -> None:
    with psycopg.connect(skewed, autocommit=True) as conn:
        (raw,) = conn.execute(  # type: ignore[misc]
            "EXPLAIN (FORMAT JSON) " + query(name), STATEMENTS[name]
        ).fetchone()
        text = "\n".join(
            r[0] for r in conn.execute("EXPLAIN " + query(name), STATEMENTS[name]).fetchall()
        )
    assert_by_key(raw, text)


@pytest.mark.parametrize("name", sorted(STATEMENTS))
def test_a_worker_connection_keeps_a_plan_that_finds_executions_by_key(
    skewed: str, name: str
) -> None:
    """The statement is prepared on a connection set up as the worker's are, run once (in a
    transaction rolled back: nothing it names exists), and its kept plan explained."""
    kwargs = Timeouts(settings=WORKER_SETTINGS).connection_kwargs(skewed)
    with psycopg.connect(skewed, **kwargs, prepare_threshold=0) as conn:
        try:
            with conn.transaction():  # a savepoint: the statement's error leaves the rest usable
                conn.execute(query(name), STATEMENTS[name])
        except psycopg.Error as exc:
            assert exc.sqlstate == FENCED_OUT, (
                exc
            )  # claim_chained_step and lock_steps_or_fail find no such step
        (prepared, params), *others = conn.execute(
            "SELECT name, cardinality(parameter_types) FROM pg_prepared_statements"
            " WHERE NOT from_sql",
            prepare=False,
        ).fetchall()
        assert not others
        nulls = ", ".join(["NULL"] * params)
        explain = f"EXPLAIN {{}} EXECUTE {prepared} ({nulls})"
        (raw,) = conn.execute(  # type: ignore[misc]
            explain.format("(FORMAT JSON)"), prepare=False
        ).fetchone()
        text = "\n".join(r[0] for r in conn.execute(explain.format(""), prepare=False))
        kept = conn.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            (prepared,),
            prepare=False,
        ).fetchone()
        conn.rollback()
    assert kept is not None and kept[0] > 0 and kept[1] == 0, kept  # the plan kept, never redone
    assert_by_key(raw, text)


async def test_worker_connections_keep_their_plans_and_the_url_wins(migrated_url: str) -> None:
    shown = "SELECT current_setting('plan_cache_mode') AS p, current_setting('enable_seqscan') AS s"
    pool = open_pool(migrated_url, 1, 30.0)
    async with pool.connection() as conn:
        row = await (await conn.execute(shown)).fetchone()
    await pool.close()
    assert row == {"p": "force_generic_plan", "s": "off"}
    own = make_conninfo(migrated_url, options="-c plan_cache_mode=auto")
    pool = open_pool(own, 1, 30.0)
    async with pool.connection() as conn:
        row = await (await conn.execute(shown)).fetchone()
    await pool.close()
    assert row == {"p": "auto", "s": "off"}


def test_a_wake_up_finds_its_workflow_by_key(skewed: str) -> None:
    """Trigger workflow_results_wake's UPDATE, planned inside the trigger (auto_explain sends
    the plans of nested statements to the client)."""
    plans: list[str] = []
    with psycopg.connect(skewed) as conn:
        try:
            conn.execute("LOAD 'auto_explain'")
        except psycopg.errors.UndefinedFile:
            pytest.skip("this Postgres has no auto_explain module: the trigger's plan is not seen")
        conn.add_notice_handler(lambda notice: plans.append(notice.message_primary or ""))
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_level = notice",
            "client_min_messages = notice",
        ):
            conn.execute(f"SET LOCAL {setting}")
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, status) VALUES (%s, 'workflow', 'w',"
            " 'suspended')",
            (WORKFLOW,),
        )
        conn.execute(
            "INSERT INTO rhythm.workflow_state (execution_id, version_hash, state, waiting_on)"
            " VALUES (%s, 'v', '{}', '{1}')",
            (WORKFLOW,),
        )
        conn.execute(
            "INSERT INTO rhythm.workflow_results (execution_id, handle, result)"
            " VALUES (%s, 1, '{}')",
            (WORKFLOW,),
        )
        (status,) = conn.execute(  # type: ignore[misc]
            "SELECT status FROM rhythm.executions WHERE id = %s", (WORKFLOW,)
        ).fetchone()
        conn.rollback()
    assert status == "pending"  # woken
    wake = [p for p in plans if "UPDATE rhythm.executions" in p and "woken" in p]
    assert wake, plans
    assert not [p for p in wake if any(index in p for index in STATUS_INDEXES)], wake
