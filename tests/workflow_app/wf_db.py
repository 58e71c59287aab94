"""What the end-to-end workflow tests do as a client: start workflows, send signals, cancel
trees and wait, through the named statements of queries.sql (the statements the client API
runs), on short-lived connections."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg.rows import dict_row

from rhythm.client.queries import query


def _conn(url: str) -> psycopg.Connection[dict[str, Any]]:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def start(url: str, name: str, inputs: dict[str, Any] | None = None, queue: str = "default") -> str:
    """Start the latest version of workflow `name`; returns the execution id."""
    with _conn(url) as conn:
        version = conn.execute(query("latest_workflow_version"), {"name": name}).fetchone()
        assert version is not None, f"workflow {name!r} is not registered"
        return _start(conn, name, version["version_hash"], inputs or {}, queue)


def start_many(url: str, name: str, inputs: Iterable[dict[str, Any]]) -> list[str]:
    with _conn(url) as conn:
        version = conn.execute(query("latest_workflow_version"), {"name": name}).fetchone()
        assert version is not None
        with conn.transaction():
            return [_start(conn, name, version["version_hash"], i, "default") for i in inputs]


def _start(conn: Any, name: str, version: str, inputs: dict[str, Any], queue: str) -> str:
    params = {
        "id": uuid.uuid4(),
        "name": name,
        "version_hash": version,
        "queue": queue,
        "priority": 0,
        "inputs": json.dumps(inputs),
        "idempotency_key": None,
        "delay": None,
    }
    return str(conn.execute(query("start_workflow"), params).fetchone()["id"])


def signal(url: str, execution_id: str, name: str, payload: Any) -> None:
    with _conn(url) as conn:
        row = conn.execute(
            query("send_signal"), {"id": execution_id, "name": name, "payload": json.dumps(payload)}
        ).fetchone()
    assert row is not None and row["signal_id"] is not None, row


def rows(url: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    with _conn(url) as conn:
        found = conn.execute(
            "SELECT id, name, status, output, error, attempt, version_hash, parent_id, queue,"
            " priority, created_at, started_at, completed_at FROM rhythm.executions"
            " WHERE id = ANY(%s::uuid[])",
            ([uuid.UUID(i) for i in ids],),
        ).fetchall()
    return {str(r["id"]): r for r in found}


def children(url: str, execution_id: str) -> list[dict[str, Any]]:
    with _conn(url) as conn:
        return conn.execute(
            query("execution_children"), {"id": execution_id, "limit": 1000}
        ).fetchall()


def wait(
    url: str,
    ids: list[str],
    timeout: float,
    statuses: tuple[str, ...] = ("completed", "failed", "cancelled"),
) -> dict[str, dict[str, Any]]:
    """Poll until every execution has one of `statuses`; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = rows(url, ids)
        except psycopg.OperationalError:  # the server is restarting: ask again
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
            continue
        if len(found) == len(set(ids)) and all(r["status"] in statuses for r in found.values()):
            return found
        if time.monotonic() > deadline:
            waiting = {i: r["status"] for i, r in found.items() if r["status"] not in statuses}
            raise AssertionError(
                f"still waiting after {timeout}s: {dict(list(waiting.items())[:5])}"
            )
        time.sleep(0.1)
