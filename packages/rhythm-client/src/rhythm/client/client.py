"""Client (blocking) and AsyncClient (asyncio): the same surface over one shared core.

client = Client()                       # URL: argument, $RHYTHM_DATABASE_URL, [tool.rhythm], embedded
tid = client.tasks.run("send-email", {"to": "a@b.c"})
ex = client.executions.wait(tid, timeout=30)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from rhythm.client import core
from rhythm.client.database import connect, connect_async
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.errors import WaitTimeout
from rhythm.client.migrations import migrate as run_migrations
from rhythm.client.models import PRUNABLE, Execution, Overview
from rhythm.client.queries import query
from rhythm.client.waiting import AsyncDoneListener, DoneListener
from rhythm.client.workflow_files import (
    WorkflowDefinition,
    WorkflowSources,
    load_workflows,
    store_workflow_definitions,
)

# wait() trusts NOTIFY, but re-reads the row this often anyway in case a notification was missed.
WAIT_RECHECK_SECONDS = 5.0
POOL_TIMEOUT_SECONDS = 10.0
Seconds = float | int | timedelta | None


def _pool_kwargs() -> dict[str, Any]:
    return {**core.CONNECTION_KWARGS, "row_factory": dict_row}


# ---------------------------------------------------------------- blocking


class Client:
    """A blocking client. Thread-safe: it holds a small connection pool."""

    def __init__(self, database_url: str | None = None, *, max_connections: int = 4) -> None:
        self.database_url = resolve_database_url(database_url)
        connect(self.database_url).close()  # unreachable database: one clear error, right here
        self._pool: ConnectionPool[psycopg.Connection[dict[str, Any]]] = ConnectionPool(
            self.database_url,
            min_size=1,
            max_size=max(1, max_connections),
            kwargs=_pool_kwargs(),
            timeout=POOL_TIMEOUT_SECONDS,
            open=True,
            name="rhythm-client",
        )
        self._listener: DoneListener | None = None
        self._listener_lock = threading.Lock()
        self.tasks = Tasks(self)
        self.executions = Executions(self)

    def _done_listener(self) -> DoneListener:
        with self._listener_lock:
            if self._listener is None:
                self._listener = DoneListener(self.database_url)
            return self._listener

    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the file names applied now."""
        return [m.filename for m in run_migrations(self.database_url)]

    def register_workflows(self, workflows: WorkflowSources) -> list[WorkflowDefinition]:
        """Check and store workflows: .flow files, folders (searched recursively) and
        WorkflowFile(name=..., file_path=...) items; a workflow's name is its file's stem unless
        given. A file with errors is refused (WorkflowFileError, `path:line:col: message` for
        every error) and then nothing of this call is stored. Each workflow is stored under
        (name, SHA-256 of its source); new runs use the latest version stored."""
        found = load_workflows(workflows)
        with self._pool.connection() as conn:
            store_workflow_definitions(conn, found)
        return found

    def status(self) -> Overview:
        """Executions per status, and per queue what is ready, scheduled and running."""
        with self._pool.connection() as conn:
            counts = conn.execute(query("status_counts")).fetchall()
            queues = conn.execute(query("queue_overview")).fetchall()
        return Overview.from_rows(counts, queues)

    def _one(self, call: core.Call) -> dict[str, Any] | None:
        with self._pool.connection() as conn:
            return conn.execute(query(call.query), call.params).fetchone()

    def _all(self, call: core.Call) -> list[dict[str, Any]]:
        with self._pool.connection() as conn:
            return conn.execute(query(call.query), call.params).fetchall()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Tasks:
    def __init__(self, client: Client) -> None:
        self._client = client

    def run(
        self,
        name: str,
        inputs: dict[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int = 0,
        delay: Seconds = None,
        idempotency_key: str | None = None,
        retries: int | None = None,
        timeout: Seconds = None,
    ) -> str:
        """Enqueue one task; return its execution id. Higher `priority` runs first; `delay`
        (seconds) postpones it; the same `idempotency_key` with the same task name always returns
        the same id (another name holding it: IdempotencyConflict)."""
        call = core.run_task(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            idempotency_key=idempotency_key,
            retries=retries,
            timeout=timeout,
        )
        lookup = core.existing_for_key(call)
        with self._client._pool.connection() as conn:
            for _ in range(core.IDEMPOTENT_TRIES):
                row = conn.execute(query(call.query), call.params).fetchone()
                if row is not None:
                    return str(row["id"])
                # The idempotency key is taken: hand back that execution if it is the same
                # task, else IdempotencyConflict. (None: it was pruned meanwhile; try again.)
                held = conn.execute(query(lookup.query), lookup.params).fetchone()
                if held is not None:
                    return core.idempotent_id(held, call)
        raise core.key_vanished(call)

    def run_many(
        self,
        name: str,
        inputs: Iterable[dict[str, Any]],
        *,
        queue: str | None = None,
        priority: int = 0,
        delay: Seconds = None,
        retries: int | None = None,
        timeout: Seconds = None,
    ) -> list[str]:
        """Enqueue one task per inputs dict in a single round trip; return the ids in order."""
        call = core.run_many(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            retries=retries,
            timeout=timeout,
        )
        if call.params["ids"]:
            self._client._one(call)
        return [str(i) for i in call.params["ids"]]


class Executions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, execution_id: str) -> Execution:
        return core.execution_or_raise(self._client._one(core.get(execution_id)), execution_id)

    def list(
        self,
        status: str | None = None,
        name: str | None = None,
        limit: int = 50,
        *,
        queue: str | None = None,
        type: str | None = None,
    ) -> list[Execution]:
        """Newest first; `type` "task" or "workflow" lists only that kind."""
        rows = self._client._all(core.list_executions(status, name, queue, limit, type))
        return [Execution.from_row(r) for r in rows]

    def cancel(self, execution_id: str) -> bool:
        """Cancel a pending, running or suspended execution. True if this call cancelled it,
        False if it had already finished. A running task's result is then discarded."""
        call = core.cancel(execution_id)
        with self._client._pool.connection() as conn, conn.transaction():
            conn.execute(query("cancel_unqueue"), call.params)
            row = conn.execute(query(call.query), call.params).fetchone()
        return core.cancel_result(row, execution_id)

    def prune(
        self,
        older_than: float | int | timedelta,
        statuses: Iterable[str] = PRUNABLE,
        *,
        batch_size: int = core.PRUNE_BATCH,
    ) -> int:
        """Delete executions that finished (with one of `statuses`) more than `older_than`
        (seconds or a timedelta) ago; return how many. Runs in batches of `batch_size`, each its
        own short transaction. Never touches pending, running or suspended executions, nor the
        children of an unfinished parent, nor a parent with unfinished children."""
        call = core.prune(older_than, statuses, batch_size)
        total = 0
        while True:
            with self._client._pool.connection() as conn, conn.transaction():
                conn.execute(query("prune_gate"))
                row = conn.execute(query(call.query), call.params).fetchone()
            deleted = core.pruned(row)
            total += deleted
            if deleted < batch_size:
                return total

    def wait(self, execution_id: str, timeout: Seconds = None) -> Execution:
        """Block until the execution is completed, failed or cancelled (LISTEN/NOTIFY, no
        polling); WaitTimeout (a TimeoutError) after `timeout` seconds."""
        limit = core.check_wait_timeout(timeout)
        call = core.get(execution_id)
        wanted = str(call.params["id"])
        deadline = None if limit is None else time.monotonic() + limit
        listener = self._client._done_listener()
        event = listener.subscribe(wanted, timeout=min(limit or 10.0, 10.0))
        try:
            while True:
                event.clear()
                ex = core.execution_or_raise(self._client._one(call), execution_id)
                if ex.finished:
                    return ex
                remaining = WAIT_RECHECK_SECONDS
                if deadline is not None:
                    remaining = min(remaining, deadline - time.monotonic())
                    if remaining <= 0:
                        raise WaitTimeout(
                            f"execution {wanted} did not finish within {limit:g} s "
                            f"(status: {ex.status})"
                        )
                event.wait(remaining)
        finally:
            listener.unsubscribe(wanted, event)


# ---------------------------------------------------------------- asyncio


class AsyncClient:
    """The asyncio twin of Client: the same methods, awaited."""

    def __init__(self, database_url: str | None = None, *, max_connections: int = 4) -> None:
        self.database_url = resolve_database_url(database_url)
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] = (
            AsyncConnectionPool(
                self.database_url,
                min_size=1,
                max_size=max(1, max_connections),
                kwargs=_pool_kwargs(),
                timeout=POOL_TIMEOUT_SECONDS,
                open=False,
                name="rhythm-async-client",
            )
        )
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._listener: AsyncDoneListener | None = None
        self.tasks = AsyncTasks(self)
        self.executions = AsyncExecutions(self)

    def _done_listener(self) -> AsyncDoneListener:
        if self._listener is None:
            self._listener = AsyncDoneListener(self.database_url)
        return self._listener

    async def _ready(self) -> AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]]:
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    await (await connect_async(self.database_url)).close()
                    await self._pool.open()
                    self._opened = True
        return self._pool

    async def migrate(self) -> list[str]:
        applied = await asyncio.to_thread(run_migrations, self.database_url)
        return [m.filename for m in applied]

    async def register_workflows(self, workflows: WorkflowSources) -> list[WorkflowDefinition]:
        found = await asyncio.to_thread(load_workflows, workflows)  # reads files, parses
        async with (await self._ready()).connection() as conn:
            await store_workflow_definitions(conn, found)
        return found

    async def status(self) -> Overview:
        async with (await self._ready()).connection() as conn:
            counts = await (await conn.execute(query("status_counts"))).fetchall()
            queues = await (await conn.execute(query("queue_overview"))).fetchall()
        return Overview.from_rows(counts, queues)

    async def _one(self, call: core.Call) -> dict[str, Any] | None:
        async with (await self._ready()).connection() as conn:
            return await (await conn.execute(query(call.query), call.params)).fetchone()

    async def _all(self, call: core.Call) -> list[dict[str, Any]]:
        async with (await self._ready()).connection() as conn:
            return await (await conn.execute(query(call.query), call.params)).fetchall()

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
        await self._pool.close()

    async def __aenter__(self) -> AsyncClient:
        await self._ready()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncTasks:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def run(
        self,
        name: str,
        inputs: dict[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int = 0,
        delay: Seconds = None,
        idempotency_key: str | None = None,
        retries: int | None = None,
        timeout: Seconds = None,
    ) -> str:
        call = core.run_task(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            idempotency_key=idempotency_key,
            retries=retries,
            timeout=timeout,
        )
        lookup = core.existing_for_key(call)
        async with (await self._client._ready()).connection() as conn:
            for _ in range(core.IDEMPOTENT_TRIES):
                row = await (await conn.execute(query(call.query), call.params)).fetchone()
                if row is not None:
                    return str(row["id"])
                cur = await conn.execute(query(lookup.query), lookup.params)
                held = await cur.fetchone()
                if held is not None:
                    return core.idempotent_id(held, call)
        raise core.key_vanished(call)

    async def run_many(
        self,
        name: str,
        inputs: Iterable[dict[str, Any]],
        *,
        queue: str | None = None,
        priority: int = 0,
        delay: Seconds = None,
        retries: int | None = None,
        timeout: Seconds = None,
    ) -> list[str]:
        call = core.run_many(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            retries=retries,
            timeout=timeout,
        )
        if call.params["ids"]:
            await self._client._one(call)
        return [str(i) for i in call.params["ids"]]


class AsyncExecutions:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, execution_id: str) -> Execution:
        row = await self._client._one(core.get(execution_id))
        return core.execution_or_raise(row, execution_id)

    async def list(
        self,
        status: str | None = None,
        name: str | None = None,
        limit: int = 50,
        *,
        queue: str | None = None,
        type: str | None = None,
    ) -> list[Execution]:
        rows = await self._client._all(core.list_executions(status, name, queue, limit, type))
        return [Execution.from_row(r) for r in rows]

    async def cancel(self, execution_id: str) -> bool:
        call = core.cancel(execution_id)
        async with (await self._client._ready()).connection() as conn, conn.transaction():
            await conn.execute(query("cancel_unqueue"), call.params)
            row = await (await conn.execute(query(call.query), call.params)).fetchone()
        return core.cancel_result(row, execution_id)

    async def prune(
        self,
        older_than: float | int | timedelta,
        statuses: Iterable[str] = PRUNABLE,
        *,
        batch_size: int = core.PRUNE_BATCH,
    ) -> int:
        call = core.prune(older_than, statuses, batch_size)
        total = 0
        while True:
            async with (await self._client._ready()).connection() as conn, conn.transaction():
                await conn.execute(query("prune_gate"))
                row = await (await conn.execute(query(call.query), call.params)).fetchone()
            deleted = core.pruned(row)
            total += deleted
            if deleted < batch_size:
                return total

    async def wait(self, execution_id: str, timeout: Seconds = None) -> Execution:
        limit = core.check_wait_timeout(timeout)
        call = core.get(execution_id)
        wanted = str(call.params["id"])
        loop = asyncio.get_running_loop()
        deadline = None if limit is None else loop.time() + limit
        await self._client._ready()
        listener = self._client._done_listener()
        event = await listener.subscribe(wanted, timeout=min(limit or 10.0, 10.0))
        try:
            while True:
                event.clear()
                ex = core.execution_or_raise(await self._client._one(call), execution_id)
                if ex.finished:
                    return ex
                remaining = WAIT_RECHECK_SECONDS
                if deadline is not None:
                    remaining = min(remaining, deadline - loop.time())
                    if remaining <= 0:
                        raise WaitTimeout(
                            f"execution {wanted} did not finish within {limit:g} s "
                            f"(status: {ex.status})"
                        )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            listener.unsubscribe(wanted, event)


def init(
    database_url: str | None = None,
    auto_migrate: bool = True,
    workflows: WorkflowSources = (),
) -> Client:
    """The one-call setup for apps: a Client, the schema migrated (unless auto_migrate=False),
    and the given workflows registered (paths, folders, WorkflowFile items; see
    Client.register_workflows)."""
    client = Client(database_url)
    try:
        if auto_migrate:
            client.migrate()
        if workflows:
            client.register_workflows(workflows)
    except BaseException:
        client.close()
        raise
    return client
