"""Client (blocking) and AsyncClient (asyncio): the same surface, both thin drivers of the
operations in rhythm.client.operations.

    client = Client()                     # URL: argument, $RHYTHM_DATABASE_URL, [tool.rhythm], embedded
    client.register_workflows("flows/")
    wid = client.workflows.run("onboard_user", {"userId": "u-42"})
    client.signals.send(wid, "approved", {"by": "maria"})
    ex = client.executions.wait(wid, timeout=30)

Every method builds an operation (a generator of steps, written once) and hands it to `_drive`,
which runs its steps on a pooled connection, retrying a step while the database is unreachable.
The two clients differ only in `_drive` and `_run`."""

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

from rhythm.client import operations as ops
from rhythm.client import validation as v
from rhythm.client.database import (
    CONNECT_TIMEOUT_SECONDS,
    CONNECTION_KWARGS,
    STATEMENT_TIMEOUT_SECONDS,
    Timeouts,
    connect,
    connect_async,
)
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.errors import DatabaseUnavailable
from rhythm.client.inspection import Inspection
from rhythm.client.migrations import migrate as run_migrations
from rhythm.client.models import PRUNABLE, Execution, Overview
from rhythm.client.pool import AsyncPool, Pool
from rhythm.client.queries import query
from rhythm.client.retrying import RETRY_SECONDS, Attempts, RetryPolicy, transient
from rhythm.client.waiting import AsyncDoneListener, DoneListener
from rhythm.client.workflow_files import WorkflowDefinition, WorkflowSources, load_workflows

Seconds = float | int | timedelta | None
T = TypeVar("T")
Conn = psycopg.Connection[dict[str, Any]]
AsyncConn = psycopg.AsyncConnection[dict[str, Any]]


def _pool_kwargs() -> dict[str, Any]:
    return {**CONNECTION_KWARGS, "row_factory": dict_row}


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


def _fetch(cursor: psycopg.Cursor[Any], call: ops.Call) -> Any:
    if call.fetch == "one":
        return cursor.fetchone()
    if call.fetch == "all":
        return cursor.fetchall()
    return None


async def _fetch_async(cursor: psycopg.AsyncCursor[Any], call: ops.Call) -> Any:
    if call.fetch == "one":
        return await cursor.fetchone()
    if call.fetch == "all":
        return await cursor.fetchall()
    return None


class _Commit:
    """Whether a statement run by `_run(..., replay_safe=False)` had reached its COMMIT: a
    connection lost before it rolled the statement back (safe to run again), one lost during it
    leaves the outcome unknown."""

    def __init__(self) -> None:
        self.reached = False


def _unsure(call: ops.Call, exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"lost the connection to the database while committing {ops.describe(call)}: it may or "
        f"may not have been stored, so it was not sent again ({' '.join(str(exc).split())})"
    )


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
        self.workflows = Workflows(self)
        self.signals = Signals(self)
        self.executions = Executions(self)

    def migrate(self) -> list[str]:
        """Apply pending schema migrations; return the file names applied now."""
        return [m.filename for m in run_migrations(self.database_url)]

    def register_workflows(self, workflows: WorkflowSources) -> list[WorkflowDefinition]:
        """Check and store workflows: .flow files, folders (searched recursively) and
        WorkflowFile(name=..., file_path=...) items; a workflow's name is its file's stem unless
        given. A file with errors is refused (WorkflowFileError, `path:line:col: message` for
        every error) and then nothing of this call is stored. Each workflow is stored under
        (name, SHA-256 of its source); new runs use the version registered last."""
        found = load_workflows(workflows)
        self._drive(ops.store_definitions(found))
        return found

    def status(self) -> Overview:
        """Executions per status, per queue what is ready, scheduled and running, and the tasks
        still running past their timeout (`Overview.overdue`: each holds a worker's slot)."""
        return self._drive(ops.overview())

    # -- the driver

    def _drive(self, operation: ops.Operation[T]) -> T:
        """Run `operation` to its end: each step on a pooled connection (see _run), its result
        sent back in, its error thrown in."""
        events: dict[str, threading.Event] = {}
        sent: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = operation.send(sent) if error is None else operation.throw(error)
                except StopIteration as done:
                    return done.value
                sent, error = None, None
                try:
                    sent = self._step(step, events)
                except Exception as exc:
                    error = exc
        finally:
            operation.close()
            for execution_id, event in events.items():
                self._done_listener().unsubscribe(execution_id, event)

    def _step(self, step: ops.Step, events: dict[str, threading.Event]) -> Any:
        if isinstance(step, ops.Subscribe):
            listener = self._done_listener()
            events[step.execution_id] = listener.subscribe(step.execution_id, step.ready_within)
            return None
        if isinstance(step, ops.Pause):
            event = events[step.execution_id]
            event.wait(max(0.0, step.seconds))
            event.clear()
            return None
        if isinstance(step, ops.Atomic):
            return self._run(lambda conn: self._atomic(conn, step))
        if step.replay_safe:
            return self._run(
                lambda conn: _fetch(conn.execute(query(step.query), step.params), step),
                patience=step.patience,
            )
        commit = _Commit()
        try:
            return self._run(lambda conn: self._once(conn, step, commit), commit)
        except Exception as exc:
            if commit.reached and transient(exc):
                raise _unsure(step, exc) from None
            raise

    @staticmethod
    def _atomic(conn: Conn, step: ops.Atomic) -> list[Any]:
        with conn.transaction():
            return [_fetch(conn.execute(query(c.query), c.params), c) for c in step.calls]

    @staticmethod
    def _once(conn: Conn, call: ops.Call, commit: _Commit) -> Any:
        with conn.transaction():
            result = _fetch(conn.execute(query(call.query), call.params), call)
            commit.reached = True
        return result

    def _run(
        self,
        work: Callable[[Conn], T],
        commit: _Commit | None = None,
        patience: float | None = None,
    ) -> T:
        """`work` on a pooled connection, tried again while the database is unreachable (for
        retry_for seconds, or `patience` when that is longer), but never once `commit` says a
        non-repeatable statement reached its COMMIT."""
        attempts = self._retry.start(self.database_url, self._timeouts.statement, patience)
        while True:
            try:
                with self._pool.connection(_slot_wait(self._timeouts, attempts)) as conn:
                    return work(conn)
            except Exception as exc:
                if commit is not None and commit.reached:
                    raise
                time.sleep(attempts.failed(exc))

    def _done_listener(self) -> DoneListener:
        with self._listener_lock:
            if self._listener is None:
                self._listener = DoneListener(self.database_url, self._timeouts)
            return self._listener

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
        call = ops.run_task(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            idempotency_key=idempotency_key,
            retries=retries,
            timeout=timeout,
        )
        return self._client._drive(ops.enqueue(call))

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
        call = ops.run_many(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            retries=retries,
            timeout=timeout,
        )
        return self._client._drive(ops.enqueue_many(call))


class Workflows:
    def __init__(self, client: Client) -> None:
        self._client = client

    def run(
        self,
        name: str,
        inputs: dict[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int = 0,
        idempotency_key: str | None = None,
        delay: Seconds = None,
    ) -> str:
        """Start the latest registered version of workflow `name`; return the execution id.
        An unknown name raises UnknownWorkflow naming the registered ones; the same
        `idempotency_key` with the same workflow returns the same id."""
        return self._client._drive(
            ops.start_workflow(
                name,
                inputs,
                queue=queue,
                priority=priority,
                idempotency_key=idempotency_key,
                delay=delay,
            )
        )


class Signals:
    def __init__(self, client: Client) -> None:
        self._client = client

    def send(self, workflow_id: str, signal_name: str, payload: Any = None) -> None:
        """Send a signal to a running or suspended workflow. A signal sent before the workflow
        waits for it is kept; signals of one name are delivered in the order sent. An unknown
        execution (ExecutionNotFound), a task (NotAWorkflow) or a finished workflow
        (ExecutionFinished) is refused."""
        self._client._drive(ops.send_signal(workflow_id, signal_name, payload))


class Executions:
    def __init__(self, client: Client) -> None:
        self._client = client

    def get(self, execution_id: str) -> Execution:
        return self._client._drive(ops.fetch_execution(execution_id))

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
        call = ops.list_executions(status, name, queue, limit, type)
        return self._client._drive(ops.fetch_executions(call))

    def cancel(self, execution_id: str) -> bool:
        """Cancel a pending, running or suspended execution and, for a workflow, every
        unfinished child workflow and task under it. True if this call cancelled it, False if it
        had already finished. A task running when cancelled is told at its next lease renewal,
        and its result is discarded."""
        return self._client._drive(ops.cancel_execution(execution_id))

    def retry(self, execution_id: str) -> None:
        """Run a failed task again: back in its queue, its error cleared, its attempts kept.
        Only a task started by a client (a workflow's task has delivered its failure to the
        workflow: restart the workflow instead); CannotRetry says why otherwise."""
        self._client._drive(ops.retry_task(execution_id))

    def restart(self, execution_id: str, from_step: int | None = None) -> str:
        """Start a NEW execution of a workflow from one of its kept snapshots (time travel
        history): step `from_step` (None: the last one kept, e.g. where a failed workflow last
        suspended; 0: from the beginning with the same inputs), on the same version. What the
        snapshot was waiting for (tasks, child workflows, timers, signal waits) is created
        again for it. The new execution records where it came from (`restarted_from`,
        `restarted_from_step`); returns its id. SnapshotNotFound / CannotRestart say why not."""
        return self._client._drive(ops.restart_workflow(execution_id, from_step))

    def prune(
        self,
        older_than: float | int | timedelta,
        statuses: Iterable[str] = PRUNABLE,
        *,
        batch_size: int = ops.PRUNE_BATCH,
    ) -> int:
        """Delete executions that finished (with one of `statuses`) more than `older_than`
        (seconds or a timedelta) ago; return how many. Runs in batches of `batch_size`, each its
        own short transaction. Never touches pending, running or suspended executions, nor the
        children of an unfinished parent, nor a parent with unfinished children."""
        return self._client._drive(ops.prune_executions(older_than, statuses, batch_size))

    def wait(self, execution_id: str, timeout: Seconds = None) -> Execution:
        """Block until the execution is completed, failed or cancelled (LISTEN/NOTIFY, no
        polling); WaitTimeout (a TimeoutError) after `timeout` seconds."""
        return self._client._drive(ops.wait_for(execution_id, timeout))

    def inspect(self, execution_id: str) -> Inspection:
        """The execution, all its descendants (child workflows and tasks) and, for a suspended
        workflow, where it waits: the source span, what it waits on, its variables."""
        return self._client._drive(ops.inspect(execution_id))


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
        self.workflows = AsyncWorkflows(self)
        self.signals = AsyncSignals(self)
        self.executions = AsyncExecutions(self)

    async def migrate(self) -> list[str]:
        applied = await asyncio.to_thread(run_migrations, self.database_url)
        return [m.filename for m in applied]

    async def register_workflows(self, workflows: WorkflowSources) -> list[WorkflowDefinition]:
        found = await asyncio.to_thread(load_workflows, workflows)  # reads files, parses
        await self._drive(ops.store_definitions(found))
        return found

    async def status(self) -> Overview:
        return await self._drive(ops.overview())

    # -- the driver

    async def _drive(self, operation: ops.Operation[T]) -> T:
        events: dict[str, asyncio.Event] = {}
        sent: Any = None
        error: Exception | None = None
        try:
            while True:
                try:
                    step = operation.send(sent) if error is None else operation.throw(error)
                except StopIteration as done:
                    return done.value
                sent, error = None, None
                try:
                    sent = await self._step(step, events)
                except Exception as exc:
                    error = exc
        finally:
            operation.close()
            for execution_id, event in events.items():
                self._done_listener().unsubscribe(execution_id, event)

    async def _step(self, step: ops.Step, events: dict[str, asyncio.Event]) -> Any:
        if isinstance(step, ops.Subscribe):
            await self._ready()
            listener = self._done_listener()
            events[step.execution_id] = await listener.subscribe(
                step.execution_id, step.ready_within
            )
            return None
        if isinstance(step, ops.Pause):
            event = events[step.execution_id]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, step.seconds)):
                    await event.wait()
            event.clear()
            return None
        if isinstance(step, ops.Atomic):
            return await self._run(lambda conn: self._atomic(conn, step))
        if step.replay_safe:

            async def one(conn: AsyncConn) -> Any:
                return await _fetch_async(await conn.execute(query(step.query), step.params), step)

            return await self._run(one, patience=step.patience)
        commit = _Commit()
        try:
            return await self._run(lambda conn: self._once(conn, step, commit), commit)
        except Exception as exc:
            if commit.reached and transient(exc):
                raise _unsure(step, exc) from None
            raise

    @staticmethod
    async def _atomic(conn: AsyncConn, step: ops.Atomic) -> list[Any]:
        async with conn.transaction():
            return [
                await _fetch_async(await conn.execute(query(c.query), c.params), c)
                for c in step.calls
            ]

    @staticmethod
    async def _once(conn: AsyncConn, call: ops.Call, commit: _Commit) -> Any:
        async with conn.transaction():
            result = await _fetch_async(await conn.execute(query(call.query), call.params), call)
            commit.reached = True
        return result

    async def _run(
        self,
        work: Callable[[AsyncConn], Awaitable[T]],
        commit: _Commit | None = None,
        patience: float | None = None,
    ) -> T:
        pool = await self._ready()
        attempts = self._retry.start(self.database_url, self._timeouts.statement, patience)
        while True:
            try:
                async with pool.connection(_slot_wait(self._timeouts, attempts)) as conn:
                    return await work(conn)
            except Exception as exc:
                if commit is not None and commit.reached:
                    raise
                await asyncio.sleep(attempts.failed(exc))

    async def _ready(self) -> AsyncPool:
        if not self._opened:
            async with self._open_lock:
                if not self._opened:
                    # unreachable database: one clear error on first use
                    await (await connect_async(self.database_url, self._timeouts)).close()
                    self._opened = True
        return self._pool

    def _done_listener(self) -> AsyncDoneListener:
        if self._listener is None:
            self._listener = AsyncDoneListener(self.database_url, self._timeouts)
        return self._listener

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
        call = ops.run_task(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            idempotency_key=idempotency_key,
            retries=retries,
            timeout=timeout,
        )
        return await self._client._drive(ops.enqueue(call))

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
        call = ops.run_many(
            name,
            inputs,
            queue=queue,
            priority=priority,
            delay=delay,
            retries=retries,
            timeout=timeout,
        )
        return await self._client._drive(ops.enqueue_many(call))


class AsyncWorkflows:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def run(
        self,
        name: str,
        inputs: dict[str, Any] | None = None,
        *,
        queue: str | None = None,
        priority: int = 0,
        idempotency_key: str | None = None,
        delay: Seconds = None,
    ) -> str:
        return await self._client._drive(
            ops.start_workflow(
                name,
                inputs,
                queue=queue,
                priority=priority,
                idempotency_key=idempotency_key,
                delay=delay,
            )
        )


class AsyncSignals:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def send(self, workflow_id: str, signal_name: str, payload: Any = None) -> None:
        await self._client._drive(ops.send_signal(workflow_id, signal_name, payload))


class AsyncExecutions:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def get(self, execution_id: str) -> Execution:
        return await self._client._drive(ops.fetch_execution(execution_id))

    async def list(
        self,
        status: str | None = None,
        name: str | None = None,
        limit: int = 50,
        *,
        queue: str | None = None,
        type: str | None = None,
    ) -> list[Execution]:
        call = ops.list_executions(status, name, queue, limit, type)
        return await self._client._drive(ops.fetch_executions(call))

    async def cancel(self, execution_id: str) -> bool:
        return await self._client._drive(ops.cancel_execution(execution_id))

    async def retry(self, execution_id: str) -> None:
        await self._client._drive(ops.retry_task(execution_id))

    async def restart(self, execution_id: str, from_step: int | None = None) -> str:
        return await self._client._drive(ops.restart_workflow(execution_id, from_step))

    async def prune(
        self,
        older_than: float | int | timedelta,
        statuses: Iterable[str] = PRUNABLE,
        *,
        batch_size: int = ops.PRUNE_BATCH,
    ) -> int:
        return await self._client._drive(ops.prune_executions(older_than, statuses, batch_size))

    async def wait(self, execution_id: str, timeout: Seconds = None) -> Execution:
        return await self._client._drive(ops.wait_for(execution_id, timeout))

    async def inspect(self, execution_id: str) -> Inspection:
        return await self._client._drive(ops.inspect(execution_id))


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
