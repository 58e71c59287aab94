"""The clients under faults: Postgres restarted or stopped (a private cluster this module starts
itself, never the shared server). Through a proxy (lost replies, a silent partition):
tests/test_client_through_proxy.py."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest

from rhythm.client import AsyncClient, Client, DatabaseUnavailable
from rhythm.client.database import Timeouts
from rhythm.client.fault_injection import PrivatePostgres
from rhythm.client.migrations import migrate


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres().start()
    try:
        migrate(pg.url)
        yield pg
    finally:
        pg.close()


@pytest.fixture
def running(server: PrivatePostgres) -> PrivatePostgres:
    """The private server, up (a test that failed half-way may have left it stopped)."""
    try:
        psycopg.connect(server.url, connect_timeout=2).close()
    except psycopg.OperationalError:
        server.start()
    return server


def finish(url: str, execution_id: str) -> None:
    """What a worker does when a task completes (the update fires the rhythm_done NOTIFY)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "WITH gone AS (DELETE FROM rhythm.ready WHERE execution_id = %(id)s) "
            "UPDATE rhythm.executions SET status = 'completed', output = '{\"ok\": true}', "
            "started_at = now(), completed_at = now() WHERE id = %(id)s",
            {"id": execution_id},
        )


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_wait_rides_out_a_restart(running: PrivatePostgres, mode: str) -> None:
    with Client(running.url) as client:
        tid = client.tasks.run("slow", {"n": 1})
        outcome: dict[str, object] = {}

        def waiter() -> None:
            try:
                outcome["result"] = client.executions.wait(tid, timeout=60)
            except BaseException as exc:  # reported below
                outcome["error"] = exc

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)  # the waiter is listening and has read the row once
        running.restart(mode)
        time.sleep(1.5)  # its pooled and LISTEN connections are dead; it must reconnect
        finish(running.url, tid)
        thread.join(timeout=30)
        assert not thread.is_alive()
        assert "error" not in outcome, outcome.get("error")
        result = outcome["result"]
        assert result.status == "completed" and result.output == {"ok": True}  # type: ignore[attr-defined]


def test_wait_outlasts_an_outage_longer_than_retry_for(
    running: PrivatePostgres, caplog: pytest.LogCaptureFixture
) -> None:
    """An outage during a wait is more waiting (until the wait's own deadline), and the LISTEN
    connection reports the outage once, not once a second."""
    caplog.set_level(logging.INFO, logger="rhythm.client")
    with Client(running.url, retry_for=0.5) as client:
        tid = client.tasks.run("slow", {})
        outcome: dict[str, object] = {}

        def waiter() -> None:
            try:
                outcome["result"] = client.executions.wait(tid, timeout=60)
            except BaseException as exc:
                outcome["error"] = exc

        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.5)
        running.stop("fast")
        time.sleep(6)  # past WAIT_RECHECK_SECONDS: the waiter reads while the server is down
        running.start()
        time.sleep(1.5)
        finish(running.url, tid)
        thread.join(timeout=30)
        assert "error" not in outcome, outcome.get("error")
        assert outcome["result"].status == "completed"  # type: ignore[attr-defined]
    lost = [r for r in caplog.records if "connection lost" in r.getMessage()]
    assert len(lost) == 1 and lost[0].levelno == logging.WARNING
    assert any("connection restored" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_async_wait_rides_out_a_restart(running: PrivatePostgres, mode: str) -> None:
    async def scenario() -> None:
        async with AsyncClient(running.url) as client:
            tid = await client.tasks.run("slow", {"n": 1})
            waiting = asyncio.create_task(client.executions.wait(tid, timeout=60))
            await asyncio.sleep(0.5)
            await asyncio.to_thread(running.restart, mode)
            await asyncio.sleep(1.5)
            await asyncio.to_thread(finish, running.url, tid)
            result = await asyncio.wait_for(waiting, 30)
            assert result.status == "completed" and result.output == {"ok": True}

    asyncio.run(scenario())


def test_producer_calls_ride_out_a_restart_exactly_once(running: PrivatePostgres) -> None:
    """Enqueues keep succeeding across a restart (retried), and each landed exactly once."""
    with Client(running.url, max_connections=2) as client:
        before = len(client.executions.list(name="steady", limit=10_000))
        ids: list[str] = []
        errors: list[BaseException] = []
        stop = threading.Event()

        def produce() -> None:
            while not stop.is_set():
                try:
                    ids.append(client.tasks.run("steady", {"i": len(ids)}))
                    ids.extend(client.tasks.run_many("steady", [{"b": 1}, {"b": 2}]))
                    client.tasks.run("steady", {}, idempotency_key=f"k{len(ids)}")
                    ids.append("keyed")
                except BaseException as exc:
                    errors.append(exc)
                    return

        thread = threading.Thread(target=produce)
        thread.start()
        time.sleep(0.5)
        running.restart("immediate")
        time.sleep(0.5)
        running.restart("fast")
        time.sleep(0.5)
        stop.set()
        thread.join(timeout=60)
        assert errors == []
        stored = client.executions.list(name="steady", limit=10_000)
        assert len(stored) - before == len(ids)
        real = [i for i in ids if i != "keyed"]
        assert len(set(real)) == len(real)
        assert set(real) <= {ex.id for ex in stored}


def test_calls_while_the_database_is_down_raise_database_unavailable(
    running: PrivatePostgres,
) -> None:
    url = running.url.replace("postgres@", "postgres:S3cretPW@")
    with Client(url, retry_for=1.0) as client:
        tid = client.tasks.run("t", {})
        running.stop("fast")
        try:
            for call in (
                lambda: client.tasks.run("t", {}),
                lambda: client.executions.get(tid),
                lambda: client.executions.cancel(tid),
            ):
                started = time.monotonic()
                with pytest.raises(DatabaseUnavailable) as caught:
                    call()
                assert time.monotonic() - started < 8
                message = str(caught.value)
                assert f"127.0.0.1:{running.port}/postgres" in message
                assert "S3cretPW" not in message
        finally:
            running.start()
        # and it recovers as soon as the server is back
        assert client.executions.get(tid).status == "pending"


def test_async_calls_while_the_database_is_down_raise_database_unavailable(
    running: PrivatePostgres,
) -> None:
    async def scenario() -> None:
        async with AsyncClient(running.url, retry_for=1.0) as client:
            tid = await client.tasks.run("t", {})
            await asyncio.to_thread(running.stop, "fast")
            try:
                with pytest.raises(DatabaseUnavailable, match=f"127.0.0.1:{running.port}"):
                    await client.executions.get(tid)
            finally:
                await asyncio.to_thread(running.start)
            assert (await client.executions.get(tid)).status == "pending"

    asyncio.run(scenario())


def test_timeouts_are_set_and_the_url_wins() -> None:
    custom = "-c plan_cache_mode=force_custom_plan"
    kwargs = Timeouts(connect=3, statement=1.5).connection_kwargs("postgresql://u@h/db")
    assert kwargs["connect_timeout"] == 3
    assert kwargs["options"] == f"{custom} -c statement_timeout=1500"
    assert kwargs["keepalives"] == 1 and kwargs["tcp_user_timeout"] == 25_000
    mine = "postgresql://u@h/db?connect_timeout=7&keepalives_idle=60&options=-c%20work_mem%3D8MB"
    kwargs = Timeouts().connection_kwargs(mine)
    assert "connect_timeout" not in kwargs and "keepalives_idle" not in kwargs
    assert kwargs["options"] == f"-c work_mem=8MB {custom} -c statement_timeout=30000"
    own = "postgresql://u@h/db?options=-c%20statement_timeout%3D5000"
    assert Timeouts().connection_kwargs(own)["options"] == f"-c statement_timeout=5000 {custom}"
    all_own = own + "%20-c%20plan_cache_mode%3Dauto"
    assert "options" not in Timeouts().connection_kwargs(all_own)
    assert Timeouts(statement=None).connection_kwargs("postgresql://u@h/db")["options"] == custom


def test_every_connection_plans_each_run_for_its_parameters(database_url: str) -> None:
    with psycopg.connect(database_url, **Timeouts().connection_kwargs(database_url)) as conn:
        row = conn.execute("SELECT current_setting('plan_cache_mode')").fetchone()
    assert row == ("force_custom_plan",)


def test_a_statement_past_its_timeout_raises_database_unavailable(running: PrivatePostgres) -> None:
    with Client(running.url, statement_timeout=1) as client:
        tid = client.tasks.run("locked", {})
        with psycopg.connect(running.url) as holder:
            # another session holds the row: cancel's UPDATE waits for it past statement_timeout
            holder.execute("SELECT 1 FROM rhythm.executions WHERE id = %s FOR UPDATE", (tid,))
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=r"statement_timeout \(1 s\)"):
                client.executions.cancel(tid)
            assert time.monotonic() - started < 5
        assert client.executions.cancel(tid) is True


def test_no_free_connection_is_database_unavailable_naming_the_host(
    running: PrivatePostgres,
) -> None:
    with Client(running.url, max_connections=1, connect_timeout=1, retry_for=0) as client:
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with client._pool.connection():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(5)
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable) as caught:
                client.executions.list()
            assert f"no database connection to 127.0.0.1:{running.port}/postgres" in str(
                caught.value
            )
            assert "became free within 1 s (all 1 in use)" in str(caught.value)
            assert time.monotonic() - started < 4
        finally:
            release.set()
            holder.join()
        assert client.executions.list(limit=1) is not None  # and it is usable again
