"""A cancelled running execution stays cancelled whatever its worker does afterwards: a late
completion, failure, retry, hand-back or the reaper never overwrite `cancelled`."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from rhythm.client import Client
from rhythm.client.queries import query

LATE = {
    "complete": lambda i: (
        "complete",
        {"ids": [i], "attempts": [1], "outputs": ['{"late": true}']},
    ),
    "fail": lambda i: (
        "fail",
        {"ids": [i], "attempts": [1], "errors": ['{"type": "E"}'], "retry_delays": [None]},
    ),
    "retry": lambda i: (
        "fail",
        {"ids": [i], "attempts": [1], "errors": ['{"type": "E"}'], "retry_delays": [0.0]},
    ),
    "release": lambda i: ("release", {"ids": [i], "attempts": [1]}),
}


def claim(conn: psycopg.Connection[Any], queue: str) -> uuid.UUID:
    params = {
        "queues": [queue],
        "limit": 1,
        "worker_id": "fence",
        "lease_seconds": 30.0,
        "skip": [],
    }
    (row,) = conn.execute(query("claim"), params).fetchall()
    return row[0]


@pytest.mark.parametrize("late", sorted(LATE))
def test_late_result_of_a_cancelled_task_is_dropped(migrated_url: str, late: str) -> None:
    queue = f"fence-{late}"
    with Client(migrated_url) as client, psycopg.connect(migrated_url, autocommit=True) as conn:
        tid = client.tasks.run("fenced", {}, queue=queue)
        assert claim(conn, queue) == uuid.UUID(tid)
        assert client.executions.cancel(tid) is True
        name, params = LATE[late](uuid.UUID(tid))
        assert conn.execute(query(name), params).fetchall() == []  # nothing was changed
        conn.execute("UPDATE rhythm.leases SET expires_at = now() - interval '1 hour'")
        conn.execute(query("reap_expired_leases"), {"lost_worker_retries": 2})
        ex = client.executions.get(tid)
        left = conn.execute(
            "SELECT (SELECT count(*) FROM rhythm.ready WHERE execution_id = %(i)s)"
            " + (SELECT count(*) FROM rhythm.scheduled WHERE execution_id = %(i)s)"
            " + (SELECT count(*) FROM rhythm.leases WHERE execution_id = %(i)s)",
            {"i": uuid.UUID(tid)},
        ).fetchone()
    assert (ex.status, ex.output, ex.error, ex.attempt) == ("cancelled", None, None, 1)
    assert left == (0,)


def test_a_running_tasks_lease_is_dropped_by_cancel(migrated_url: str) -> None:
    """The worker learns of a cancellation from renew_leases: the lease is gone at once."""
    with Client(migrated_url) as client, psycopg.connect(migrated_url, autocommit=True) as conn:
        tid = client.tasks.run("fenced", {}, queue="fence-renew")
        claim(conn, "fence-renew")
        renew = {
            "worker_id": "fence",
            "lease_seconds": 30.0,
            "ids": [uuid.UUID(tid)],
            "attempts": [1],
        }
        assert uuid.UUID(tid) in {r[0] for r in conn.execute(query("renew_leases"), renew)}
        client.executions.cancel(tid)
        assert uuid.UUID(tid) not in {r[0] for r in conn.execute(query("renew_leases"), renew)}
