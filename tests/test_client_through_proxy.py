"""The clients through rhythm.worker.testing.FaultProxy, against a private Postgres this module
starts itself: a reply lost after the server committed (the client retries, and every enqueue
lands exactly once and returns the id that landed), and a silent network partition (every call
ends, with DatabaseUnavailable naming the host, within its timeouts)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import psycopg
import pytest

from rhythm.client import AsyncClient, Client, DatabaseUnavailable
from rhythm.client.fault_injection import PrivatePostgres
from rhythm.client.migrations import migrate
from rhythm.worker.testing import FaultProxy


@pytest.fixture(scope="module")
def server() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres().start()
    try:
        migrate(pg.url)
        yield pg
    finally:
        pg.close()


@pytest.fixture
def proxy(server: PrivatePostgres) -> Iterator[FaultProxy]:
    p = FaultProxy(server.port)
    yield p
    p.close()


def stored(url: str, name: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id FROM rhythm.executions WHERE name = %s", (name,))
        return sorted(str(r[0]) for r in rows)


def test_run_lands_once_when_its_reply_is_lost(server: PrivatePostgres, proxy: FaultProxy) -> None:
    with Client(proxy.url()) as client:
        proxy.drop_reply_to("lost-reply-plain")
        tid = client.tasks.run("lost-reply-plain", {})
        assert proxy.dropped == 1
        assert stored(server.url, "lost-reply-plain") == [tid]

        proxy.drop_reply_to("lost-reply-keyed")
        keyed = client.tasks.run("lost-reply-keyed", {}, idempotency_key="lost-reply-key")
        assert proxy.dropped == 2
        assert stored(server.url, "lost-reply-keyed") == [keyed]

        proxy.drop_reply_to("lost-reply-many")
        ids = client.tasks.run_many("lost-reply-many", [{"i": i} for i in range(3)])
        assert proxy.dropped == 3
        assert stored(server.url, "lost-reply-many") == sorted(ids)


def test_async_run_lands_once_when_its_reply_is_lost(
    server: PrivatePostgres, proxy: FaultProxy
) -> None:
    async def scenario() -> None:
        async with AsyncClient(proxy.url()) as client:
            proxy.drop_reply_to("lost-reply-async")
            tid = await client.tasks.run("lost-reply-async", {})
            assert proxy.dropped == 1
            assert stored(server.url, "lost-reply-async") == [tid]

    asyncio.run(scenario())


def test_a_silent_network_partition_never_blocks_a_call_forever(proxy: FaultProxy) -> None:
    with Client(proxy.url(), connect_timeout=2, statement_timeout=1, retry_for=1) as client:
        tid = client.tasks.run("before", {})
        proxy.blackhole()
        started = time.monotonic()
        with pytest.raises(DatabaseUnavailable, match=f"127.0.0.1:{proxy.port}"):
            client.tasks.run("during", {})
        # the guard cuts the statement after 1 + 2 s; one reconnect may take 2 s more
        assert time.monotonic() - started < 12
        proxy.heal()
        assert client.executions.get(tid).name == "before"


def test_async_silent_network_partition(proxy: FaultProxy) -> None:
    async def scenario() -> None:
        async with AsyncClient(
            proxy.url(), connect_timeout=2, statement_timeout=1, retry_for=1
        ) as client:
            tid = await client.tasks.run("before", {})
            proxy.blackhole()
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match=f"127.0.0.1:{proxy.port}"):
                await client.executions.get(tid)
            assert time.monotonic() - started < 12
            proxy.heal()
            assert (await client.executions.get(tid)).name == "before"

    asyncio.run(scenario())
