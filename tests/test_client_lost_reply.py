"""Producer calls whose reply is lost after the server committed (rhythm.worker.testing.FaultProxy
drops it and closes the connection): the client retries, and every enqueue lands exactly once
and returns the id that landed. Against a private Postgres this module starts itself."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import psycopg
import pytest

from rhythm.client import AsyncClient, Client
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
