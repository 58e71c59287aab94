"""Poison work: whatever a task returns or raises, and whatever another producer wrote into a
row, fails that one execution with a clear error; the good work beside it runs and the worker
lives on (issue 9, defects 1-6 and 12, and the timeout rough edges)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
import uuid
from typing import Any

import psycopg
import pytest

from rhythm.client import Client
from rhythm.client.queries import query
from rhythm.worker import task


@task("p-echo")
def p_echo(inputs: dict) -> dict:
    return {"echo": inputs.get("value")}


@task("p-async-echo")
async def p_async_echo(inputs: dict) -> dict:
    return {"echo": inputs.get("value")}


@task("p-lone-surrogate")
def p_lone_surrogate(inputs: dict) -> dict:
    return {"s": "\ud800"}


@task("p-returns")
def p_returns(inputs: dict) -> Any:
    if "nul_after" in inputs:  # the client refuses NUL in inputs: make one here
        return {inputs["nul_after"]: inputs["value"] + "\x00"}
    return inputs["value"]


@task("p-nul-message")
def p_nul_message(inputs: dict) -> None:
    raise ValueError("bad\x00byte and a lone \udc80 surrogate")


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("cannot print me")


@task("p-unprintable")
def p_unprintable(inputs: dict) -> None:
    raise Unprintable()


@task("p-sync-exit")
def p_sync_exit(inputs: dict) -> None:
    sys.exit(inputs.get("code", 3))


@task("p-async-exit")
async def p_async_exit(inputs: dict) -> None:
    sys.exit(4)


@task("p-async-exit-timed", timeout=30)
async def p_async_exit_timed(inputs: dict) -> None:
    sys.exit(5)  # with a timeout the task runs in an asyncio task of its own


@task("p-async-interrupt-timed", timeout=30)
async def p_async_interrupt_timed(inputs: dict) -> None:
    raise KeyboardInterrupt


@task("p-sync-interrupt")
def p_sync_interrupt(inputs: dict) -> None:
    raise KeyboardInterrupt


@task("p-async-interrupt")
async def p_async_interrupt(inputs: dict) -> None:
    raise KeyboardInterrupt


@task("p-async-cancels-itself")
async def p_async_cancels_itself(inputs: dict) -> None:
    raise asyncio.CancelledError("my own doing")


@task("p-swallows-cancel", timeout=0.2)
async def p_swallows_cancel(inputs: dict) -> dict:
    until = time.monotonic() + inputs["seconds"]
    while time.monotonic() < until:
        # A badly written task: it ignores being told to stop.
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(until - time.monotonic())
    return {"finished": True}


@task("p-sync-overdue", timeout=0.2)
def p_sync_overdue(inputs: dict) -> dict:
    time.sleep(inputs["seconds"])
    return {"finished": True}


ALL = [
    p_echo,
    p_async_echo,
    p_lone_surrogate,
    p_returns,
    p_nul_message,
    p_unprintable,
    p_sync_exit,
    p_async_exit,
    p_async_exit_timed,
    p_async_interrupt_timed,
    p_sync_interrupt,
    p_async_interrupt,
    p_async_cancels_itself,
    p_swallows_cancel,
    p_sync_overdue,
]


def q() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


def status_of(url: str, execution_id: str) -> tuple[str, dict[str, Any] | None, int]:
    """Read a row with SQL (the client may not decode a poisoned row)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT status, error, attempt FROM rhythm.executions WHERE id = %s",
            (uuid.UUID(execution_id),),
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def wait_final(url: str, execution_id: str, timeout: float = 10) -> tuple[str, Any, int]:
    deadline = time.monotonic() + timeout
    while True:
        found = status_of(url, execution_id)
        if found[0] in ("completed", "failed", "cancelled"):
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {execution_id} still {found[0]} after {timeout}s")
        time.sleep(0.05)


def test_a_lone_surrogate_in_an_output_fails_only_that_task(
    client: Client, start_worker, migrated_url: str
) -> None:
    queue = q()
    good = [client.tasks.run("p-echo", {"value": i}, queue=queue) for i in range(5)]
    bad = client.tasks.run("p-lone-surrogate", {}, queue=queue)
    good += [client.tasks.run("p-echo", {"value": i}, queue=queue) for i in range(5, 10)]
    start_worker(tasks=ALL, queues=[queue], concurrency=16)
    status, error, _ = wait_final(migrated_url, bad)
    assert status == "failed" and error["type"] == "InvalidOutput"
    assert "lone surrogate" in error["message"] and "\\ud800" in error["message"]
    for i, tid in enumerate(good):
        assert client.executions.wait(tid, timeout=10).output == {"echo": i}


def test_nul_in_an_exception_message_is_stored_visibly(
    client: Client, start_worker, migrated_url: str
) -> None:
    queue = q()
    bad = [client.tasks.run("p-nul-message", {}, queue=queue, retries=0) for _ in range(4)]
    start_worker(tasks=ALL, queues=[queue])
    for tid in bad:
        status, error, _ = wait_final(migrated_url, tid)
        assert status == "failed" and error["type"] == "ValueError"
        assert error["message"] == "bad\\x00byte and a lone \\udc80 surrogate"
        assert "p_nul_message" in error["traceback"]
    after = client.tasks.run("p-echo", {"value": "after"}, queue=queue)
    assert client.executions.wait(after, timeout=10).output == {"echo": "after"}


def test_an_exception_whose_str_raises_fails_its_task_and_frees_the_slot(
    client: Client, start_worker, migrated_url: str
) -> None:
    queue = q()
    bad = client.tasks.run("p-unprintable", {}, queue=queue, retries=0)
    after = client.tasks.run("p-echo", {"value": 1}, queue=queue)
    start_worker(tasks=ALL, queues=[queue], concurrency=1)
    status, error, _ = wait_final(migrated_url, bad)
    assert status == "failed" and error["type"] == "Unprintable"
    assert error["message"] == "<Unprintable: str() raised RuntimeError: cannot print me>"
    assert client.executions.wait(after, timeout=10).output == {"echo": 1}


@pytest.mark.parametrize(
    ("name", "error_type", "message"),
    [
        ("p-sync-exit", "SystemExit", "the task called sys.exit(3)"),
        ("p-async-exit", "SystemExit", "the task called sys.exit(4)"),
        ("p-async-exit-timed", "SystemExit", "the task called sys.exit(5)"),
        ("p-async-interrupt-timed", "KeyboardInterrupt", "the task raised KeyboardInterrupt"),
        ("p-sync-interrupt", "KeyboardInterrupt", "the task raised KeyboardInterrupt"),
        ("p-async-interrupt", "KeyboardInterrupt", "the task raised KeyboardInterrupt"),
        ("p-async-cancels-itself", "CancelledError", "the task raised CancelledError"),
    ],
)
def test_exit_and_interrupt_inside_a_task_fail_only_that_task(
    client: Client, start_worker, migrated_url: str, name: str, error_type: str, message: str
) -> None:
    queue = q()
    bad = client.tasks.run(name, {}, queue=queue, retries=0)
    start_worker(tasks=ALL, queues=[queue], concurrency=1)
    status, error, _ = wait_final(migrated_url, bad)
    assert (status, error["type"]) == ("failed", error_type)
    assert error["message"].startswith(message)
    after = client.tasks.run("p-async-echo", {"value": 2}, queue=queue)
    assert client.executions.wait(after, timeout=10).output == {"echo": 2}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"n": 1e5000}', "Exceeds the limit (4300 digits)"),
        ("[" * 3000 + "]" * 3000, "nested too deeply"),
    ],
)
def test_inputs_python_cannot_decode_fail_alone(
    client: Client, start_worker, migrated_url: str, raw: str, reason: str
) -> None:
    queue = q()
    good = [client.tasks.run("p-echo", {"value": i}, queue=queue) for i in range(3)]
    bad = client.tasks.run("p-echo", {}, queue=queue)
    good += [client.tasks.run("p-echo", {"value": i}, queue=queue) for i in range(3, 6)]
    with psycopg.connect(migrated_url) as conn:  # another producer, or a hand-written UPDATE
        conn.execute(
            "UPDATE rhythm.executions SET inputs = %s::jsonb WHERE id = %s",
            (raw, uuid.UUID(bad)),
        )
    start_worker(tasks=ALL, queues=[queue], concurrency=8, claim_batch=8)
    status, error, _ = wait_final(migrated_url, bad)
    assert (status, error["type"]) == ("failed", "InvalidInputs")
    assert error["message"].startswith("inputs of task 'p-echo' cannot be decoded in Python: ")
    assert reason in error["message"]
    for i, tid in enumerate(good):
        assert client.executions.wait(tid, timeout=10).output == {"echo": i}


def test_a_backslash_u0000_in_a_string_is_not_a_nul(client: Client, start_worker) -> None:
    queue = q()
    start_worker(tasks=ALL, queues=[queue])
    legal = client.tasks.run("p-returns", {"value": {"path": "C:\\u0000dir"}}, queue=queue)
    assert client.executions.wait(legal, timeout=10).output == {"path": "C:\\u0000dir"}
    real_nul = client.tasks.run("p-returns", {"value": "a\\\\", "nul_after": "k\\"}, queue=queue)
    ex = client.executions.wait(real_nul, timeout=10)
    assert (ex.status, ex.error["type"]) == ("failed", "InvalidOutput")
    assert "NUL" in ex.error["message"]


def test_a_claim_the_worker_never_heard_of_lapses_and_runs(
    client: Client, start_worker, migrated_url: str
) -> None:
    """Defect 1: the claim committed but its reply was lost; the worker must not keep renewing a
    lease it does not know it holds (it would stay running forever)."""
    queue = q()
    worker = start_worker(
        tasks=ALL, queues=[queue + "-other"], worker_id="ghost-w", lease_seconds=1
    )
    tid = client.tasks.run("p-echo", {"value": "ghost"}, queue=queue)
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        params = {
            "queues": [queue],
            "limit": 1,
            "worker_id": worker.worker_id,
            "lease_seconds": 1,
            "skip": [],
        }
        assert len(conn.execute(query("claim"), params).fetchall()) == 1  # reply "lost"
    start_worker(tasks=ALL, queues=[queue])
    ex = client.executions.wait(tid, timeout=10)
    assert (ex.status, ex.attempt, ex.output) == ("completed", 2, {"echo": "ghost"})


def test_an_async_task_that_swallows_cancellation_still_times_out(
    client: Client, start_worker, migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = q()
    caplog.set_level(logging.WARNING, logger="rhythm.worker")
    start_worker(tasks=ALL, queues=[queue], concurrency=1)
    tid = client.tasks.run("p-swallows-cancel", {"seconds": 2.5}, queue=queue, retries=0)
    after = client.tasks.run("p-echo", {"value": "next"}, queue=queue)
    started = time.monotonic()
    status, error, _ = wait_final(migrated_url, tid, timeout=5)
    assert time.monotonic() - started < 2.0
    assert (status, error["type"]) == ("failed", "TaskTimeout")
    assert "ignored its cancellation" in error["message"]
    # The slot stays taken until the task really ends: the next task waits for it.
    ex = client.executions.wait(after, timeout=10)
    assert ex.started_at is not None
    assert time.monotonic() - started > 1.5
    assert any("ignored its cancellation" in r.getMessage() for r in caplog.records)


def test_a_sync_task_past_its_timeout_is_reported_and_keeps_its_slot(
    client: Client, start_worker, migrated_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    queue = q()
    caplog.set_level(logging.INFO, logger="rhythm.worker")
    start_worker(tasks=ALL, queues=[queue], concurrency=1)
    tid = client.tasks.run("p-sync-overdue", {"seconds": 1.2}, queue=queue, retries=0)
    after = client.tasks.run("p-echo", {"value": "next"}, queue=queue)
    status, error, _ = wait_final(migrated_url, tid, timeout=5)
    assert (status, error["type"]) == ("failed", "TaskTimeout")
    assert "its thread cannot be stopped" in error["message"]
    assert client.executions.get(after).status == "pending"  # no free slot meanwhile
    assert client.executions.wait(after, timeout=10).status == "completed"
    messages = [r.getMessage() for r in caplog.records]
    assert any("holds 1 of 1 slot(s)" in m for m in messages), messages
    assert any("returned after its timeout" in m for m in messages), messages
