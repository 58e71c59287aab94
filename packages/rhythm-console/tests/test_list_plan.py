"""The executions list's query plans on a table of many rows: every shape of filter walks an
index to the page and never sorts or scans the whole table."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import psycopg
import pytest

from rhythm.console.queries import console_query
from rhythm.console.reads import Cursor, list_params

ROWS = 50_000


@pytest.fixture(scope="module")
def filled(migrated_url: str) -> str:
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO rhythm.executions (id, type, name, queue, status, created_at)
            SELECT gen_random_uuid(), 'task', 'job_' || (i %% 20), 'q' || (i %% 3),
                   (ARRAY['completed', 'failed', 'pending'])[1 + i %% 3],
                   now() - make_interval(secs => i)
            FROM generate_series(1, %s) AS i
            """,
            (ROWS,),
        )
        conn.execute("ANALYZE rhythm.executions")
    return migrated_url


def _plan(url: str, params: dict) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "EXPLAIN (FORMAT JSON) " + console_query("list_executions"), params
        ).fetchone()
    return row[0][0]["Plan"]


def _nodes(plan: dict) -> list[str]:
    return [plan["Node Type"], *(n for p in plan.get("Plans", []) for n in _nodes(p))]


CURSOR = Cursor(datetime(2026, 1, 1, tzinfo=UTC), "00000000-0000-0000-0000-000000000000")


@pytest.mark.parametrize(
    ("filters", "cursor"),
    [
        ({}, None),
        ({}, CURSOR),
        ({"status": "failed"}, None),
        ({"status": "failed"}, CURSOR),
        ({"name": "job_7"}, CURSOR),
        ({"name": "job_7", "status": "failed", "type": "task"}, None),
        ({"name": "job_7", "status": "failed"}, CURSOR),
    ],
)
def test_the_list_walks_an_index_and_never_sorts_the_table(filled: str, filters, cursor) -> None:
    plan = _plan(filled, list_params(filters, None, None, cursor, 50))
    nodes = _nodes(plan)
    assert plan["Node Type"] == "Limit", json.dumps(plan)
    assert "Seq Scan" not in nodes, nodes
    assert "Sort" not in nodes, nodes  # an Incremental Sort of a few tied rows is fine
    assert any("Index" in n for n in nodes), nodes


def test_name_and_status_together_use_their_own_index(filled: str) -> None:
    plan = json.dumps(
        _plan(filled, list_params({"name": "job_7", "status": "failed"}, None, None, None, 50))
    )
    assert "executions_name_status_created" in plan, plan
