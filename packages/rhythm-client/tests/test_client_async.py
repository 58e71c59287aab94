"""AsyncClient: the same surface as Client, awaited."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from rhythm.client import (
    AsyncClient,
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    WaitTimeout,
)


async def test_async_surface(migrated_url: str) -> None:
    async with AsyncClient(migrated_url) as client:
        assert await client.migrate() == []  # already migrated by the fixture
        tid = await client.tasks.run("a-task", {"x": 1}, priority=2, retries=1, timeout=5)
        ex = await client.executions.get(tid)
        assert (ex.name, ex.status, ex.inputs, ex.priority) == ("a-task", "pending", {"x": 1}, 2)
        ids = await client.tasks.run_many("a-many", [{"i": 0}, {"i": 1}])
        assert [(await client.executions.get(i)).inputs for i in ids] == [{"i": 0}, {"i": 1}]
        same = await client.tasks.run("a-task", {}, idempotency_key="k")
        assert same == await client.tasks.run("a-task", {"other": 1}, idempotency_key="k")
        with pytest.raises(IdempotencyConflict, match=f"task 'a-task' \\(execution {same}\\)"):
            await client.tasks.run("b-task", {}, idempotency_key="k")
        assert {e.id for e in await client.executions.list(name="a-many")} == set(ids)

        with pytest.raises(WaitTimeout, match=tid):
            await client.executions.wait(tid, timeout=0.2)
        waiter = asyncio.create_task(client.executions.wait(tid, timeout=10))
        await asyncio.sleep(0.1)
        assert await client.executions.cancel(tid) is True
        assert (await asyncio.wait_for(waiter, 1.0)).status == "cancelled"

        with pytest.raises(ExecutionNotFound):
            await client.executions.get(str(uuid.uuid4()))
        with pytest.raises(InvalidInput, match="delay must be >= 0"):
            await client.tasks.run("a-task", {}, delay=-5)
        with pytest.raises(InvalidInput, match=r"inputs\['f'\] is builtin_function_or_method"):
            await client.tasks.run("a-task", {"f": print})
