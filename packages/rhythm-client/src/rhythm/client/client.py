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
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from rhythm.client import core
from rhythm.client import validation as v
from rhythm.client.database import (
    CONNECT_TIMEOUT_SECONDS,
    STATEMENT_TIMEOUT_SECONDS,
    Timeouts,
    connect,
    connect_async,
)
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.errors import WaitTimeout
from rhythm.client.migrations import migrate as run_migrations
from rhythm.client.models import PRUNABLE, Execution
from rhythm.client.pool import AsyncPool, Pool
from rhythm.client.queries import query
from rhythm.client.retrying import RETRY_SECONDS, Attempts, RetryPolicy, landed_before
from rhythm.client.waiting import AsyncDoneListener, DoneListener
from rhythm.client.workflow_files import (
    WorkflowDefinition,
    WorkflowSources,
    load_workflows,
    store_workflow_definitions,
)

# wait() trusts NOTIFY, but re-reads the row this often anyway in case a notification was missed.
WAIT_RECHECK_SECONDS = 5.0
Seconds = float | int | timedelta | None
T = TypeVar("T")
Conn = psycopg.Connection[dict[str, Any]]
AsyncConn = psycopg.AsyncConnection[dict[str, Any]]


def _pool_kwargs() -> dict[str, Any]:
    return {**core.CONNECTION_KWARGS, "row_factory": dict_row}


def _settings(
    connect_timeout: object, statement_timeout: object, retry_for: object
) -> tuple[Timeouts, RetryPolicy]:
    connect_s = v.check_seconds(connect_timeout, "connect_timeout", allow_zero=False)
    statement_s = v.check_seconds(statement_timeout, "statement_timeout", allow_zero=False)
    retry_s = v.check_seconds(retry_for, "retry_for", allow_zero=True)
    return (
        Timeouts(connect=connect_s or CONNECT_TIMEOUT_SECONDS, statement=statement_s),
        RetryPolicy(retry_s or 0.0),
    )


def _slot_wait(timeouts: Timeouts, attempts: Attempts) -> float:
    # Waiting for a free pooled connection is bounded like a connect, or by the retry budget.
    return max(timeouts.connect, attempts.remaining())


def _enqueued_id(conn: Conn, call: core.Call) -> str:
    """Run an enqueue (retried safely: see rhythm.client.retrying) and return the new id."""
    lookup = core.existing_for_key(call)
    try:
        for _ in range(core.IDEMPOTENT_TRIES):
            row = conn.execute(query(call.query), call.params).fetchone()
            if row is not None:
                return str(row["id"])
            # The idempotency key is taken: hand back that execution if it is the same
            # task, else IdempotencyConflict. (None: it was pruned meanwhile; try again.)
            held = conn.execute(query(lookup.query), lookup.params).fetchone()
            if held is not None:
                return core.idempotent_id(held, call)
    except psycopg.errors.UniqueViolation as exc:
        if landed_before(exc):
            return str(call.params["id"])
        raise
    raise core.key_vanished(call)


def _enqueued_many(conn: Conn, call: core.Call) -> None:
    try:
        conn.execute(query(call.query), call.params)
    except psycopg.errors.UniqueViolation as exc:
        if not landed_before(exc):  # else: a retry after the batch had committed
            raise


async def _enqueued_many_async(conn: AsyncConn, call: core.Call) -> None:
    try:
        await conn.execute(query(call.query), call.params)
    except psycopg.errors.UniqueViolation as exc:
        if not landed_before(exc):
            raise


async def _enqueued_id_async(conn: AsyncConn, call: core.Call) -> str:
    lookup = core.existing_for_key(call)
    try:
        for _ in range(core.IDEMPOTENT_TRIES):
            row = await (await conn.execute(query(call.query), call.params)).fetchone()
            if row is not None:
                return str(row["id"])
            held = await (await conn.execute(query(lookup.query), lookup.params)).fetchone()
            if held is not None:
                return core.idempotent_id(held, call)
    except psycopg.errors.UniqueViolation as exc:
        if landed_before(exc):
            return str(call.params["id"])
        raise
    raise core.key_vanished(call)


# ---------------------------------------------------------------- blocking


class Client:
    """A blocking client. Thread-safe: it holds a small connection pool.

    `connect_timeout` bounds opening a connection, `statement_timeout` (None: no limit) each
    statement, and a statement that gets no answer at all is cut off 2 s after that. While the
    database restarts or is unreachable, calls are retried for up to `retry_for` seconds (0: not
    at all), then raise DatabaseUnavailable naming the host."""

    def __init__(
        self,
        database_url: str | None = None,
        *,
        max_connections: int = 4,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        statement_timeout: float | None = STATEMENT_TIMEOUT_SECONDS,
        retry_for: float = RETRY_SECONDS,
    ) -> None:
        self._timeouts, self._retry = _settings(connect_timeout, statement_timeout, retry_for)
        self.database_url = resolve_database_url(database_url)
        # unreachable database: one clear error, right here
        connect(self.database_url, self._timeouts).close()
        self._pool = Pool(
            self.database_url, self._timeouts, max(1, max_connections), _pool_kwargs()
        )
        self._listener: DoneListener | None = None
        self._listener_lock = threading.Lock()
        self.tasks = Tasks(self)
        self.executions = Executions(self)

    def _done_listener(self) -> DoneListener:
        with self._listener_lock:
            if self._listener is None:
                self._listener = DoneListener(self.database_url, self._timeouts)
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
        self._run(lambda conn: store_workflow_definitions(conn, found))
        return found

    def _run(self, work: Callable[[Conn], T], patience: float | None = None) -> T:
        """`work` on a pooled connection, tried again while the database is unreachable (for
        retry_for seconds, or `patience` when that is longer)."""
        attempts = self._retry.start(self.database_url, self._timeouts.statement, patience)
        while True:
            try:
                with self._pool.connection(_slot_wait(self._timeouts, attempts)) as conn:
                    return work(conn)
            except Exception as exc:
                time.sleep(attempts.failed(exc))

    def _one(self, call: core.Call, patience: float | None = None) -> dict[str, Any] | None:
        return self._run(
            lambda conn: conn.execute(query(call.query), call.params).fetchone(), patience
        )

    def _all(self, call: core.Call) -> list[dict[str, Any]]:
        return self._run(lambda conn: conn.execute(query(call.query), call.params).fetchall())

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
        return self._client._run(lambda conn: _enqueued_id(conn, call))

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
            self._client._run(lambda conn: _enqueued_many(conn, call))
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
    ) -> list[Execution]:
        """Newest first."""
        rows = self._client._all(core.list_executions(status, name, queue, limit))
        return [Execution.from_row(r) for r in rows]

    def cancel(self, execution_id: str) -> bool:
        """Cancel a pending, running or suspended execution. True if this call cancelled it,
        False if it had already finished. A running task's result is then discarded."""
        call = core.cancel(execution_id)

        def cancel(conn: Conn) -> dict[str, Any] | None:
            with conn.transaction():
                conn.execute(query("cancel_unqueue"), call.params)
                return conn.execute(query(call.query), call.params).fetchone()

        return core.cancel_result(self._client._run(cancel), execution_id)

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

        def batch(conn: Conn) -> dict[str, Any] | None:
            with conn.transaction():
                conn.execute(query("prune_gate"))
                return conn.execute(query(call.query), call.params).fetchone()

        total = 0
        while True:
            deleted = core.pruned(self._client._run(batch))
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
                # an outage during a wait is more waiting: reads keep trying until the deadline
                patience = None if deadline is None else deadline - time.monotonic()
                ex = core.execution_or_raise(self._client._one(call, patience), execution_id)
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

    def __init__(
        self,
        database_url: str | None = None,
        *,
        max_connections: int = 4,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        statement_timeout: float | None = STATEMENT_TIMEOUT_SECONDS,
        retry_for: float = RETRY_SECONDS,
    ) -> None:
        self._timeouts, self._retry = _settings(connect_timeout, statement_timeout, retry_for)
        self.database_url = resolve_database_url(database_url)
        self._pool = AsyncPool(
            self.database_url, self._timeouts, max(1, max_connections), _pool_kwargs()
        )
        self._opened = False
        self._open_lock = asyncio.Lock()
        self._listener: AsyncDoneListener | None = None
        self.tasks = AsyncTasks(self)
        self.executions = AsyncExecutions(self)

    def _done_listener(self) -> AsyncDoneListener:
        if self._listener is None:
            self._listener = AsyncDoneListener(self.database_url, self._timeouts)
        return self._listener

    async def _ready(self) -> AsyncPool:
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    # unreachable database: one clear error on first use
                    await (await connect_async(self.database_url, self._timeouts)).close()
                    self._opened = True
        return self._pool

    async def _run(
        self, work: Callable[[AsyncConn], Awaitable[T]], patience: float | None = None
    ) -> T:
        """`work` on a pooled connection, tried again while the database is unreachable (for
        retry_for seconds, or `patience` when that is longer)."""
        pool = await self._ready()
        attempts = self._retry.start(self.database_url, self._timeouts.statement, patience)
        while True:
            try:
                async with pool.connection(_slot_wait(self._timeouts, attempts)) as conn:
                    return await work(conn)
            except Exception as exc:
                await asyncio.sleep(attempts.failed(exc))

    async def migrate(self) -> list[str]:
        applied = await asyncio.to_thread(run_migrations, self.database_url)
        return [m.filename for m in applied]

    async def register_workflows(self, workflows: WorkflowSources) -> list[WorkflowDefinition]:
        found = await asyncio.to_thread(load_workflows, workflows)  # reads files, parses
        await self._run(lambda conn: store_workflow_definitions(conn, found))
        return found

    async def _one(self, call: core.Call, patience: float | None = None) -> dict[str, Any] | None:
        async def one(conn: AsyncConn) -> dict[str, Any] | None:
            return await (await conn.execute(query(call.query), call.params)).fetchone()

        return await self._run(one, patience)

    async def _all(self, call: core.Call) -> list[dict[str, Any]]:
        async def all_rows(conn: AsyncConn) -> list[dict[str, Any]]:
            return await (await conn.execute(query(call.query), call.params)).fetchall()

        return await self._run(all_rows)

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
        return await self._client._run(lambda conn: _enqueued_id_async(conn, call))

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
            await self._client._run(lambda conn: _enqueued_many_async(conn, call))
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
    ) -> list[Execution]:
        rows = await self._client._all(core.list_executions(status, name, queue, limit))
        return [Execution.from_row(r) for r in rows]

    async def cancel(self, execution_id: str) -> bool:
        call = core.cancel(execution_id)

        async def cancel(conn: AsyncConn) -> dict[str, Any] | None:
            async with conn.transaction():
                await conn.execute(query("cancel_unqueue"), call.params)
                return await (await conn.execute(query(call.query), call.params)).fetchone()

        return core.cancel_result(await self._client._run(cancel), execution_id)

    async def prune(
        self,
        older_than: float | int | timedelta,
        statuses: Iterable[str] = PRUNABLE,
        *,
        batch_size: int = core.PRUNE_BATCH,
    ) -> int:
        call = core.prune(older_than, statuses, batch_size)

        async def batch(conn: AsyncConn) -> dict[str, Any] | None:
            async with conn.transaction():
                await conn.execute(query("prune_gate"))
                return await (await conn.execute(query(call.query), call.params)).fetchone()

        total = 0
        while True:
            deleted = core.pruned(await self._client._run(batch))
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
                patience = None if deadline is None else deadline - loop.time()
                ex = core.execution_or_raise(await self._client._one(call, patience), execution_id)
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
