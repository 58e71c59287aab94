"""The Worker against a real Postgres: ordering, queues, delays, retries, timeouts, cancellation,
bad inputs and outputs, wake-up latency and hand-back."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import defaultdict
from typing import Any

import psycopg

from rhythm.client import Client
from rhythm.worker import current_execution, task
from rhythm.worker.worker import _cancel_and_wait

events: dict[str, list[Any]] = defaultdict(list)
lock = threading.Lock()


def record(key: str, value: Any) -> None:
    with lock:
        events[key].append(value)


@task("w-record")
def w_record(inputs: dict) -> dict:
    record(inputs["key"], inputs.get("value"))
    return {"ok": inputs.get("value")}


@task("w-flaky", retries=3)
def w_flaky(inputs: dict) -> dict:
    ctx = current_execution()
    record(inputs["key"], (ctx.attempt, time.monotonic()))
    if ctx.attempt < 3:
        raise RuntimeError(f"flaky failure on attempt {ctx.attempt}")
    return {"attempt": ctx.attempt}


@task("w-always-fails", retries=1)
def w_always_fails(inputs: dict) -> None:
    raise KeyError("missing thing")


@task("w-async-sleep")
async def w_async_sleep(inputs: dict) -> dict:
    try:
        record(inputs["key"], "started")
        await asyncio.sleep(inputs["seconds"])
    except asyncio.CancelledError:
        record(inputs["key"], "cancelled")
        raise
    record(inputs["key"], "finished")
    return {"slept": inputs["seconds"]}


@task("w-sync-sleep")
def w_sync_sleep(inputs: dict) -> dict:
    record(inputs["key"], "started")
    time.sleep(inputs["seconds"])
    record(inputs["key"], "finished")
    return {"slept": inputs["seconds"]}


@task("w-slow-timeout", timeout=0.3)
async def w_slow_timeout(inputs: dict) -> None:
    try:
        await asyncio.sleep(10)
    except asyncio.CancelledError:
        record(inputs["key"], "cancelled")
        raise


@task("w-returns-set")
def w_returns_set(inputs: dict) -> Any:
    return {"a", "b"}


@task("w-returns-nan")
async def w_returns_nan(inputs: dict) -> Any:
    return {"x": float("nan")}


ALL = [
    w_record,
    w_flaky,
    w_always_fails,
    w_async_sleep,
    w_sync_sleep,
    w_slow_timeout,
    w_returns_set,
    w_returns_nan,
]


def q() -> str:
    """A fresh queue name, so tests sharing the module database never take each other's work."""
    return f"q-{uuid.uuid4().hex[:8]}"


def test_runs_by_priority_then_age(client: Client, start_worker) -> None:
    queue, key = q(), "prio"
    plan = [("low", 0), ("high-1", 5), ("mid", 1), ("high-2", 5), ("neg", -3)]
    ids = [
        client.tasks.run("w-record", {"key": key, "value": v}, queue=queue, priority=p)
        for v, p in plan
    ]
    start_worker(tasks=ALL, queues=[queue], concurrency=1, claim_batch=1)
    for i in ids:
        assert client.executions.wait(i, timeout=10).status == "completed"
    assert events[key] == ["high-1", "high-2", "mid", "low", "neg"]


def test_a_worker_only_takes_its_queues(client: Client, start_worker) -> None:
    mine, other = q(), q()
    a = client.tasks.run("w-record", {"key": "queues", "value": "mine"}, queue=mine)
    b = client.tasks.run("w-record", {"key": "queues", "value": "other"}, queue=other)
    start_worker(tasks=ALL, queues=[mine])
    assert client.executions.wait(a, timeout=10).output == {"ok": "mine"}
    time.sleep(0.3)
    assert client.executions.get(b).status == "pending"
    start_worker(tasks=ALL, queues=[other, "unused"])
    assert client.executions.wait(b, timeout=10).status == "completed"


def test_delay_postpones_the_start(client: Client, start_worker) -> None:
    queue = q()
    start_worker(tasks=ALL, queues=[queue])
    tid = client.tasks.run("w-record", {"key": "delay"}, queue=queue, delay=0.6)
    ex = client.executions.wait(tid, timeout=10)
    assert ex.status == "completed"
    assert ex.started_at is not None
    waited = (ex.started_at - ex.created_at).total_seconds()
    assert 0.6 <= waited < 1.5  # woken by the scheduled-work notice, not a slow poll


def test_retries_with_exponential_backoff(client: Client, start_worker) -> None:
    queue, key = q(), "flaky"
    start_worker(tasks=ALL, queues=[queue], retry_backoff=0.2)
    ex = client.executions.wait(client.tasks.run("w-flaky", {"key": key}, queue=queue), timeout=10)
    assert (ex.status, ex.attempt, ex.output, ex.error) == ("completed", 3, {"attempt": 3}, None)
    (a1, t1), (a2, t2), (a3, t3) = events[key]
    assert (a1, a2, a3) == (1, 2, 3)
    assert t2 - t1 >= 0.1  # first backoff: 0.2 s with jitter in [0.1, 0.2]
    assert t3 - t2 >= 0.2  # second backoff doubles: [0.2, 0.4]


def test_last_error_is_stored_when_retries_run_out(client: Client, start_worker) -> None:
    queue = q()
    start_worker(tasks=ALL, queues=[queue])
    ex = client.executions.wait(client.tasks.run("w-always-fails", {}, queue=queue), timeout=10)
    assert (ex.status, ex.attempt) == ("failed", 2)
    assert ex.error["type"] == "KeyError"
    assert ex.error["message"] == "'missing thing'"
    assert "w_always_fails" in ex.error["traceback"] and ex.error["attempt"] == 2
    assert ex.completed_at is not None
    # retries= given by the producer overrides the task's default
    ex = client.executions.wait(
        client.tasks.run("w-always-fails", {}, queue=queue, retries=0), timeout=10
    )
    assert (ex.status, ex.attempt) == ("failed", 1)


def test_async_timeout_cancels_the_task(client: Client, start_worker) -> None:
    queue, key = q(), "async-timeout"
    start_worker(tasks=ALL, queues=[queue])
    ex = client.executions.wait(client.tasks.run("w-slow-timeout", {"key": key}, queue=queue), 10)
    assert ex.status == "failed"
    assert ex.error["type"] == "TaskTimeout"
    assert ex.error["message"] == "task 'w-slow-timeout' did not finish within its timeout of 0.3 s"
    assert events[key] == ["cancelled"]


def test_sync_timeout_fails_the_attempt_while_the_thread_runs_on(
    client: Client, start_worker
) -> None:
    queue, key = q(), "sync-timeout"
    start_worker(tasks=ALL, queues=[queue])
    tid = client.tasks.run("w-sync-sleep", {"key": key, "seconds": 1.0}, queue=queue, timeout=0.2)
    started = time.monotonic()
    ex = client.executions.wait(tid, timeout=10)
    assert time.monotonic() - started < 0.9
    assert ex.status == "failed" and ex.error["type"] == "TaskTimeout"
    assert "within its timeout of 0.2 s" in ex.error["message"]
    time.sleep(1.0)
    assert events[key] == ["started", "finished"]  # the thread could not be stopped...
    assert client.executions.get(tid).status == "failed"  # ...and its late result was dropped


def test_cancel_a_running_async_task(client: Client, start_worker) -> None:
    queue, key = q(), "cancel-async"
    start_worker(tasks=ALL, queues=[queue], lease_seconds=0.6)
    tid = client.tasks.run("w-async-sleep", {"key": key, "seconds": 1.5}, queue=queue)
    deadline = time.monotonic() + 5
    while client.executions.get(tid).status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.executions.cancel(tid) is True
    time.sleep(2.0)
    ex = client.executions.get(tid)
    assert (ex.status, ex.output) == ("cancelled", None)
    assert events[key] == ["started", "cancelled"]  # noticed at lease renewal and stopped


def test_cancel_a_running_sync_task_is_not_overwritten(client: Client, start_worker) -> None:
    queue, key = q(), "cancel-sync"
    start_worker(tasks=ALL, queues=[queue])
    tid = client.tasks.run("w-sync-sleep", {"key": key, "seconds": 0.6}, queue=queue)
    deadline = time.monotonic() + 5
    while events[key] != ["started"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.executions.cancel(tid) is True
    time.sleep(1.0)
    assert events[key] == ["started", "finished"]
    ex = client.executions.get(tid)
    assert (ex.status, ex.output) == ("cancelled", None)


def test_bad_work_fails_clearly_and_the_worker_lives_on(
    client: Client, start_worker, migrated_url: str
) -> None:
    queue = q()
    unknown = client.tasks.run("w-no-such-task", {}, queue=queue)
    not_object = client.tasks.run("w-record", {"key": "x"}, queue=queue)
    with psycopg.connect(migrated_url) as conn:  # a producer that bypassed the client
        conn.execute(
            "UPDATE rhythm.executions SET inputs = '[1, 2]'::jsonb WHERE id = %s",
            (uuid.UUID(not_object),),
        )
    returns_set = client.tasks.run("w-returns-set", {}, queue=queue)
    returns_nan = client.tasks.run("w-returns-nan", {}, queue=queue)
    start_worker(tasks=ALL, queues=[queue])

    ex = client.executions.wait(unknown, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "UnknownTask")
    assert ex.error["message"].startswith(
        "no task named 'w-no-such-task' is registered in this worker (it knows: "
    )
    ex = client.executions.wait(not_object, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "InvalidInputs")
    assert ex.error["message"] == "inputs of task 'w-record' must be a JSON object, got list [1, 2]"
    ex = client.executions.wait(returns_set, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "InvalidOutput")
    assert "task 'w-returns-set' returned set" in ex.error["message"]
    assert "which is not JSON" in ex.error["message"]
    ex = client.executions.wait(returns_nan, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "InvalidOutput")
    assert "nan" in ex.error["message"]

    fine = client.tasks.run("w-record", {"key": "after-bad", "value": 1}, queue=queue)
    assert client.executions.wait(fine, timeout=10).status == "completed"


def test_idle_worker_wakes_on_notify_not_on_poll(client: Client, start_worker) -> None:
    queue = q()
    start_worker(tasks=ALL, queues=[queue], poll_interval=30.0)
    time.sleep(0.3)  # idle: the worker is asleep on LISTEN
    lags = []
    for _ in range(5):
        ex = client.executions.wait(client.tasks.run("w-record", {"key": "wake"}, queue=queue), 5)
        assert ex.started_at is not None
        lags.append((ex.started_at - ex.created_at).total_seconds())
        time.sleep(0.05)
    assert sorted(lags)[2] < 0.1, lags


def test_stop_hands_unfinished_work_back(client: Client, start_worker) -> None:
    queue, key = q(), "hand-back"
    worker = start_worker(tasks=ALL, queues=[queue], grace_period=0.2)
    quick = client.tasks.run("w-record", {"key": key, "value": "quick"}, queue=queue)
    slow = client.tasks.run("w-async-sleep", {"key": key, "seconds": 30}, queue=queue)
    assert client.executions.wait(quick, timeout=5).status == "completed"
    deadline = time.monotonic() + 5
    while client.executions.get(slow).status != "running" and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.stop()
    time.sleep(1.0)
    ex = client.executions.get(slow)
    assert (ex.status, ex.attempt) == ("pending", 0)
    with psycopg.connect(client.database_url) as conn:
        ready = conn.execute(
            "SELECT count(*) FROM rhythm.ready WHERE execution_id = %s", (uuid.UUID(slow),)
        ).fetchone()
        leases = conn.execute(
            "SELECT count(*) FROM rhythm.leases WHERE execution_id = %s", (uuid.UUID(slow),)
        ).fetchone()
    assert ready == (1,) and leases == (0,)
    assert sorted(events[key]) == ["cancelled", "quick", "started"]
    client.executions.cancel(slow)


def test_queue_tables_are_empty_after_draining(client: Client, start_worker) -> None:
    queue = q()
    ids = client.tasks.run_many("w-record", [{"key": "drain"} for _ in range(300)], queue=queue)
    start_worker(tasks=ALL, queues=[queue], concurrency=16)
    assert client.executions.wait(ids[-1], timeout=20).status == "completed"
    deadline = time.monotonic() + 10
    while (
        client.executions.list(status="pending", queue=queue, limit=1)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert len(events["drain"]) == 300
    with psycopg.connect(client.database_url) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM rhythm.ready WHERE queue = %(q)s),"
            " (SELECT count(*) FROM rhythm.leases l JOIN rhythm.executions e"
            "  ON e.id = l.execution_id WHERE e.queue = %(q)s)",
            {"q": queue},
        ).fetchone()
    assert counts == (0, 0)


def test_a_claimed_workflow_without_a_runner_fails_alone_and_clearly(
    client: Client, start_worker, migrated_url: str
) -> None:
    queue = q()
    wid = uuid.uuid4()
    with psycopg.connect(migrated_url) as conn:  # a workflow row, as a workflow producer writes it
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, queue, version_hash)"
            " VALUES (%s, 'workflow', 'w-no-such-flow', %s, 'abc123')",
            (wid, queue),
        )
        conn.execute(
            "INSERT INTO rhythm.ready (execution_id, queue, priority) VALUES (%s, %s, 0)",
            (wid, queue),
        )
    tid = client.tasks.run("w-record", {"key": "beside-a-workflow"}, queue=queue)
    start_worker(tasks=ALL, queues=[queue])
    ex = client.executions.wait(str(wid), timeout=10)
    assert ex.status == "failed"
    assert "w-no-such-flow" in ex.error["message"]
    assert client.executions.wait(tid, timeout=10).status == "completed"


async def test_stopping_outlasts_a_background_task_that_swallows_its_cancellation() -> None:
    """A cancellation can be lost on its way through an inner await; the worker's shutdown
    cancels again rather than wait forever for that task."""
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                swallowed += 1
                if swallowed > 1:
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(_cancel_and_wait([task]), 5)
    assert task.cancelled() and swallowed == 2
