"""Client against a real Postgres: enqueueing, reading, listing, cancelling, waiting, bad inputs."""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from rhythm.client import (
    Client,
    DatabaseUnavailable,
    Execution,
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    WaitTimeout,
    WorkflowFileError,
    init,
)


@pytest.fixture(scope="module")
def client(migrated_url: str):
    with Client(migrated_url) as c:
        yield c


def table_ids(url: str, table: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {str(r[0]) for r in conn.execute(f"SELECT execution_id FROM rhythm.{table}")}


def test_run_then_get_returns_every_field(client: Client) -> None:
    tid = client.tasks.run(
        "send-email", {"to": "a@b.c", "n": [1, 2.5, None]}, queue="mail", priority=3
    )
    ex = client.executions.get(tid)
    assert isinstance(ex, Execution)
    assert (ex.id, ex.type, ex.name, ex.queue, ex.priority) == (
        tid,
        "task",
        "send-email",
        "mail",
        3,
    )
    assert ex.status == "pending" and ex.attempt == 0
    assert ex.inputs == {"to": "a@b.c", "n": [1, 2.5, None]}
    assert ex.output is None and ex.error is None and ex.parent_id is None
    assert ex.created_at is not None and ex.started_at is None and ex.completed_at is None
    assert tid in table_ids(client.database_url, "ready")


def test_run_many_returns_ids_in_input_order(client: Client) -> None:
    ids = client.tasks.run_many("batch", [{"i": i} for i in range(50)], queue="batchq")
    assert len(set(ids)) == 50
    assert [client.executions.get(i).inputs["i"] for i in ids] == list(range(50))
    assert client.tasks.run_many("batch", []) == []


def test_delay_goes_to_the_scheduled_table(client: Client) -> None:
    tid = client.tasks.run("later", {}, delay=timedelta(minutes=5))
    assert tid in table_ids(client.database_url, "scheduled")
    assert tid not in table_ids(client.database_url, "ready")
    now = client.tasks.run("now", {}, delay=0)
    assert now in table_ids(client.database_url, "ready")


def test_idempotency_key_returns_the_same_id(client: Client) -> None:
    first = client.tasks.run("charge", {"amount": 1}, idempotency_key="order-1")
    again = client.tasks.run("charge", {"amount": 999}, idempotency_key="order-1")
    assert first == again
    assert client.executions.get(first).inputs == {"amount": 1}


def test_idempotency_under_concurrent_producers(migrated_url: str) -> None:
    clients = [Client(migrated_url) for _ in range(4)]
    barrier = threading.Barrier(16)

    def produce(n: int) -> str:
        barrier.wait()
        return clients[n % 4].tasks.run("race", {"n": n}, idempotency_key="the-key")

    try:
        with ThreadPoolExecutor(16) as pool:
            ids = list(pool.map(produce, range(16)))
    finally:
        for c in clients:
            c.close()
    assert len(set(ids)) == 1
    with psycopg.connect(migrated_url) as conn:
        rows = conn.execute(
            "SELECT count(*) FROM rhythm.executions WHERE idempotency_key = 'the-key'"
        ).fetchone()
        ready = conn.execute(
            "SELECT count(*) FROM rhythm.ready WHERE execution_id = %s", (uuid.UUID(ids[0]),)
        ).fetchone()
    assert rows == (1,) and ready == (1,)


def test_idempotency_key_with_another_name_is_refused(client: Client) -> None:
    first = client.tasks.run("charge", {"amount": 1}, idempotency_key="order-2")
    with pytest.raises(IdempotencyConflict) as caught:
        client.tasks.run("refund", {"amount": 1}, idempotency_key="order-2")
    err = caught.value
    assert isinstance(err, InvalidInput)
    assert (err.key, err.existing_id, err.existing_name, err.requested_name) == (
        "order-2",
        first,
        "charge",
        "refund",
    )
    message = str(err)
    for part in ("'order-2'", "task 'charge'", first, "task 'refund'"):
        assert part in message, message
    assert client.tasks.run("charge", {}, idempotency_key="order-2") == first  # still fine
    with psycopg.connect(client.database_url) as conn:
        n = conn.execute(
            "SELECT count(*) FROM rhythm.executions WHERE idempotency_key = 'order-2'"
        ).fetchone()
    assert n == (1,)


def test_idempotency_key_held_by_a_workflow_is_refused_for_a_task(client: Client) -> None:
    wid = uuid.uuid4()
    with psycopg.connect(client.database_url) as conn:
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, idempotency_key)"
            " VALUES (%s, 'workflow', 'onboard', 'signup-7')",
            (wid,),
        )
    with pytest.raises(IdempotencyConflict, match=f"workflow 'onboard' \\(execution {wid}\\)"):
        client.tasks.run("onboard", {}, idempotency_key="signup-7")


def test_idempotency_conflict_under_concurrent_producers(migrated_url: str) -> None:
    clients = [Client(migrated_url) for _ in range(4)]
    barrier = threading.Barrier(16)

    def produce(n: int) -> tuple[str, str | IdempotencyConflict]:
        name = "race-a" if n % 2 else "race-b"
        barrier.wait()
        try:
            return name, clients[n % 4].tasks.run(name, {"n": n}, idempotency_key="contested")
        except IdempotencyConflict as exc:
            return name, exc

    try:
        with ThreadPoolExecutor(16) as pool:
            outcomes = list(pool.map(produce, range(16)))
    finally:
        for c in clients:
            c.close()
    ids = {r for _, r in outcomes if isinstance(r, str)}
    winners = {name for name, r in outcomes if isinstance(r, str)}
    conflicts = [r for _, r in outcomes if isinstance(r, IdempotencyConflict)]
    assert len(ids) == 1 and len(winners) == 1 and len(conflicts) == 8
    (winner_id,), (winner,) = ids, winners
    assert all(
        (c.existing_id, c.existing_name, c.key) == (winner_id, winner, "contested")
        and c.requested_name != winner
        for c in conflicts
    )


def test_list_filters_and_limits(client: Client) -> None:
    ids = client.tasks.run_many("listed", [{"i": i} for i in range(5)])
    client.executions.cancel(ids[0])
    listed = client.executions.list(name="listed")
    assert {e.id for e in listed} == set(ids)
    assert [e.id for e in client.executions.list(status="cancelled", name="listed")] == [ids[0]]
    assert len(client.executions.list(status="pending", name="listed", limit=2)) == 2
    assert client.executions.list(name="listed", queue="elsewhere") == []


def test_cancel(client: Client) -> None:
    tid = client.tasks.run("to-cancel", {}, delay=60)
    assert client.executions.cancel(tid) is True
    assert client.executions.cancel(tid) is False  # already finished
    ex = client.executions.get(tid)
    assert ex.status == "cancelled" and ex.completed_at is not None
    assert tid not in table_ids(client.database_url, "scheduled")


def test_missing_execution_is_named(client: Client) -> None:
    missing = str(uuid.uuid4())
    for call in (client.executions.get, client.executions.cancel, client.executions.wait):
        with pytest.raises(ExecutionNotFound, match=missing):
            call(missing)


def test_wait_times_out_naming_the_id(client: Client) -> None:
    tid = client.tasks.run("never-runs", {}, queue="nobody")
    started = time.monotonic()
    with pytest.raises(WaitTimeout, match=f"{tid} did not finish within 0.3 s") as info:
        client.executions.wait(tid, timeout=0.3)
    assert isinstance(info.value, TimeoutError)
    assert 0.25 < time.monotonic() - started < 2


def test_wait_wakes_on_notify_not_polling(client: Client) -> None:
    tid = client.tasks.run("wake-me", {}, queue="nobody")
    finisher = threading.Timer(0.2, client.executions.cancel, args=(tid,))
    finisher.start()
    started = time.monotonic()
    ex = client.executions.wait(tid, timeout=10)
    elapsed = time.monotonic() - started
    assert ex.status == "cancelled"
    assert elapsed < 1.0  # the fallback re-read is every 5 s: this came from NOTIFY


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.tasks.run("t", {"when": object()}), r"inputs\['when'\] is object"),
        (lambda c: c.tasks.run("t", {"x": [1, math.nan]}), r"inputs\['x'\]\[1\] is float nan"),
        (lambda c: c.tasks.run("t", {"s": "a\x00b"}), r"NUL characters"),
        (lambda c: c.tasks.run("t", {1: "x"}), r"inputs key is int 1"),
        (lambda c: c.tasks.run("t", [1, 2]), r"inputs must be a dict .* \[1, 2\]"),
        (lambda c: c.tasks.run("", {}), r"task name must be a non-empty string, got ''"),
        (lambda c: c.tasks.run(None, {}), r"task name must be a non-empty string, got None"),
        (lambda c: c.tasks.run("t", {}, delay=-1), r"delay must be >= 0 seconds, got -1"),
        (lambda c: c.tasks.run("t", {}, delay="soon"), r"delay must be a number .* got 'soon'"),
        (lambda c: c.tasks.run("t", {}, timeout=0), r"timeout must be > 0 seconds, got 0"),
        (lambda c: c.tasks.run("t", {}, retries=-2), r"retries must be between 0 and 1000, got -2"),
        (lambda c: c.tasks.run("t", {}, priority=True), r"priority must be an integer, got True"),
        (lambda c: c.tasks.run("t", {}, queue=""), r"queue must be a non-empty string"),
        (lambda c: c.tasks.run("t", {}, idempotency_key=""), r"idempotency_key must be"),
        (lambda c: c.tasks.run_many("t", [{}, {"b": {1, 2}}]), r"inputs\[1\]\['b'\] is set"),
        (lambda c: c.tasks.run_many("t", "abc"), r"run_many expects a list"),
        (lambda c: c.executions.list(status="done"), r"unknown status 'done'; expected one of"),
        (lambda c: c.executions.list(limit=0), r"limit must be between 1 and"),
        (lambda c: c.executions.get("not-an-id"), r"not an execution id: 'not-an-id'"),
        (lambda c: c.executions.wait(str(uuid.uuid4()), timeout=-1), r"timeout must be >= 0"),
    ],
)
def test_bad_inputs_fail_loudly_at_the_client(client: Client, call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call(client)


def test_nothing_was_enqueued_by_bad_calls(client: Client) -> None:
    assert client.executions.list(name="t") == []


def test_unreachable_database_is_one_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"cannot connect to the database at 127.0.0.1:9"):
        Client("postgresql://nobody@127.0.0.1:9/nothing")


def test_init_migrates_and_stores_workflows(database_url: str, tmp_path: Path) -> None:
    flow = tmp_path / "onboarding.flow"
    flow.write_text("let x = 1;\n", encoding="utf-8")
    with init(database_url, workflows=[flow]) as c:
        c.tasks.run("after-init", {})
        with psycopg.connect(database_url) as conn:
            rows = conn.execute(
                "SELECT name, version_hash, source FROM rhythm.workflow_definitions"
            ).fetchall()
    digest = hashlib.sha256(b"let x = 1;\n").hexdigest()
    assert rows == [("onboarding", digest, "let x = 1;\n")]
    with pytest.raises(WorkflowFileError, match=r"missing\.flow: no such file or directory"):
        init(database_url, workflows=[tmp_path / "missing.flow"])


def test_many_concurrent_waits_share_one_listening_connection(migrated_url: str) -> None:
    with Client(migrated_url, max_connections=2) as small:
        ids = small.tasks.run_many("many-waits", [{"i": i} for i in range(12)], queue="nobody")
        with ThreadPoolExecutor(12) as pool:
            waits = [pool.submit(small.executions.wait, i, 10) for i in ids]
            time.sleep(0.3)  # every waiter is parked; the pool (2 connections) is still free
            started = time.monotonic()
            for i in ids:
                assert small.executions.cancel(i) is True
            statuses = {w.result(timeout=5).status for w in waits}
        assert statuses == {"cancelled"}
        assert time.monotonic() - started < 3
