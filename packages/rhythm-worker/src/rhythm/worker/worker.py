"""The Worker: the engine that claims ready executions, runs them and stores what happened.

One asyncio loop per worker process. A claim loop takes up to `claim_batch` items per round trip
(never more than the free concurrency slots) and sleeps on LISTEN/NOTIFY, with a poll as fallback.
Each claimed row goes to the runner of its type (runners.py): tasks to TaskRunner (async tasks on
the loop, sync tasks in a daemon thread pool), workflows to the stepper; `concurrency` bounds all.
Outcomes are queued and written in batches by a few flusher coroutines. A lease keeper renews the
leases of what this worker runs and requeues work whose worker died. Every statement lives in
WorkerStore (store.py); every write is fenced by (execution id, attempt)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from rhythm.client.database import CONNECTION_KWARGS, connect_async
from rhythm.client.database import database_url as resolve_database_url
from rhythm.worker.failpoints import failpoint
from rhythm.worker.outcomes import Claimed, Completed, Failed, Outcome
from rhythm.worker.registry import DEFAULT_QUEUE, TaskDefinition, collect
from rhythm.worker.runners import Runner, TaskRunner, workflow_runner
from rhythm.worker.settings import WorkerSettings
from rhythm.worker.store import FailedAttempt, Finished, Pool, WorkerStore
from rhythm.worker.threads import DaemonThreadPool

log = logging.getLogger("rhythm.worker")

READY_CHANNEL = "rhythm_ready"
SCHEDULED_CHANNEL = "rhythm_scheduled"
FLUSH_BATCH = 500
PROMOTE_BATCH = 1000


@dataclass(eq=False)
class _Running:
    item: Claimed
    definition: TaskDefinition | None  # None for workflows and unknown tasks
    claimed_at: float
    task: asyncio.Task[None] | None = None
    discard: bool = False  # lease lost or handed back: whatever the runner returns is dropped

    @property
    def cancellable(self) -> bool:
        """A sync task's thread cannot be stopped: its slot stays taken until it returns."""
        return self.definition is None or self.definition.is_async

    def cancel(self) -> None:
        if self.task is not None and self.cancellable:
            self.task.cancel()


class Worker:
    """Runs tasks from the given queues until stopped.

        Worker(queues=["default"], concurrency=8, tasks=[my_tasks_module]).run()

    `tasks`: modules, module names or functions (None: every @task imported so far).
    Claimed workflow executions go to the stepper's runner (runners.workflow_runner).
    `queues`: None means the queues of those tasks. Timing knobs (lease_seconds, poll_interval,
    retry_backoff, grace_period, ...) are WorkerSettings fields, accepted as keywords."""

    def __init__(
        self,
        queues: Iterable[str] | None = None,
        concurrency: int = 8,
        tasks: Iterable[object] | None = None,
        database_url: str | None = None,
        *,
        settings: WorkerSettings | None = None,
        worker_id: str | None = None,
        **knobs: Any,
    ) -> None:
        self.tasks: dict[str, TaskDefinition] = collect(tasks)
        if not self.tasks:
            raise ValueError("the worker has no tasks: pass tasks=[module_or_function, ...]")
        if isinstance(queues, str):
            queues = [queues]
        chosen = (
            list(queues)
            if queues is not None
            else sorted({d.queue for d in self.tasks.values()} or {DEFAULT_QUEUE})
        )
        for q in chosen:
            if not isinstance(q, str) or not q.strip():
                raise ValueError(f"queue names must be non-empty strings, got {q!r}")
        if not chosen:
            raise ValueError("the worker needs at least one queue")
        self.queues: list[str] = list(dict.fromkeys(chosen))
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be an integer >= 1, got {concurrency!r}")
        self.concurrency = concurrency
        self.settings = replace(settings or WorkerSettings(), **knobs)
        self.database_url = database_url
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.completed = 0
        self.failed = 0
        self.threads = DaemonThreadPool(concurrency)
        self.store: WorkerStore | None = None  # while serving
        self._runners: dict[str, Runner] = {}
        self._running: dict[str, _Running] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._notified = True
        self._schedule_changed = True

    # ------------------------------------------------------------ entry points

    def run(self) -> None:
        """Run until SIGTERM/SIGINT (or stop()); blocks. A second signal skips the grace period."""
        asyncio.run(self._serve(handle_signals=True))

    async def run_async(self, handle_signals: bool = False) -> None:
        """Run on the current event loop until stop() is called (or the task is cancelled)."""
        await self._serve(handle_signals=handle_signals)

    def stop(self, now: bool = False) -> None:
        """Stop claiming and shut down gracefully (now=True: hand running work back at once).
        Safe to call from any thread or a signal handler."""
        loop = self._loop
        if loop is None:
            self._stopping = True
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed: nothing to stop
            loop.call_soon_threadsafe(self._request_stop, now)

    # ------------------------------------------------------------ lifecycle

    async def _serve(self, handle_signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._hurry = asyncio.Event()
        self._results: asyncio.Queue[tuple[_Running, Outcome]] = asyncio.Queue()
        url = await asyncio.to_thread(resolve_database_url, self.database_url)
        await (await connect_async(url)).close()  # unreachable database: one clear error now
        pool: Pool = AsyncConnectionPool(
            url,
            min_size=2,
            max_size=self.settings.flushers + 2,
            kwargs={**CONNECTION_KWARGS, "row_factory": dict_row},
            open=False,
            name=f"rhythm-worker-{self.worker_id}",
        )
        await pool.open(wait=True, timeout=30)
        store = self.store = WorkerStore(pool, self.worker_id)
        self._runners = {
            "task": TaskRunner(self.tasks, self.threads, self.worker_id),
            "workflow": workflow_runner(self),
        }
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            self._loop.add_signal_handler(sig, self._request_stop, False)
        background = [
            asyncio.create_task(self._listen(url), name="rhythm-listen"),
            asyncio.create_task(self._keep_leases(store), name="rhythm-leases"),
            *(
                asyncio.create_task(self._flush_results(store), name=f"rhythm-flush-{i}")
                for i in range(self.settings.flushers)
            ),
        ]
        log.info(
            "worker %s ready: queues %s; concurrency %d; tasks %s",
            self.worker_id,
            ", ".join(self.queues),
            self.concurrency,
            ", ".join(sorted(self.tasks)),
        )
        try:
            await self._claim_loop(store)
            await self._shut_down(store)
        finally:
            for sig in signals:
                self._loop.remove_signal_handler(sig)
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            for r in list(self._running.values()):
                r.cancel()
            await pool.close()
            self.threads.shutdown()
            self.store = None
            self._loop = None
            log.info(
                "worker %s stopped (%d completed, %d failed attempts)",
                self.worker_id,
                self.completed,
                self.failed,
            )

    def _request_stop(self, now: bool = False) -> None:
        if self._stopping or now:
            if self._stopping:
                log.warning("second stop request: handing running work back now")
            self._hurry.set()
        if not self._stopping:
            self._stopping = True
            log.info(
                "stopping: no new work; running tasks get %gs (signal again to hand back now)",
                self.settings.grace_period,
            )
        self._wakeup.set()

    async def _shut_down(self, store: WorkerStore) -> None:
        running = [r.task for r in self._running.values() if r.task is not None]
        if running:
            everything = asyncio.ensure_future(asyncio.wait(running))
            hurry = asyncio.ensure_future(self._hurry.wait())
            await asyncio.wait(
                {everything, hurry},
                timeout=self.settings.grace_period,
                return_when=asyncio.FIRST_COMPLETED,
            )
            everything.cancel()
            hurry.cancel()
        leftovers = list(self._running.values())
        for r in leftovers:
            r.discard = True
            r.cancel()
        # Results already produced are written before anything is handed back.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._results.join(), timeout=30)
        if leftovers:
            try:
                back = await store.release([(r.item.id, r.item.attempt) for r in leftovers])
                log.info("handed %d unfinished execution(s) back to the queue", len(back))
            except psycopg.Error as exc:
                log.error("could not hand work back (its leases will lapse instead): %s", exc)

    # ------------------------------------------------------------ claiming

    async def _claim_loop(self, store: WorkerStore) -> None:
        loop = asyncio.get_running_loop()
        s = self.settings
        backlog = True  # the last claim came back full, or a poll is due: claim without a NOTIFY
        next_promote = 0.0
        while not self._stopping:
            if self._schedule_changed or loop.time() >= next_promote:
                self._schedule_changed = False
                promoted, next_due = await self._promote(store)
                wait = s.poll_interval if next_due is None else min(s.poll_interval, next_due)
                next_promote = loop.time() + max(0.0, wait)
                backlog = backlog or promoted > 0
            free = self.concurrency - len(self._running)
            if free > 0 and (backlog or self._notified):
                self._notified = False
                wanted = min(free, s.claim_batch)
                rows = await self._claim(store, wanted)
                for row in rows:
                    self._start(Claimed.from_row(row))
                backlog = len(rows) == wanted
                if backlog and len(self._running) < self.concurrency:
                    continue
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wakeup.wait(), max(0.0, next_promote - loop.time()))
            except TimeoutError:
                backlog = True  # polling fallback
            self._wakeup.clear()

    async def _claim(self, store: WorkerStore, limit: int) -> list[dict[str, Any]]:
        try:
            return await store.claim(self.queues, limit, self.settings.lease_seconds)
        except psycopg.Error as exc:
            log.warning("claim failed, retrying in %gs: %s", self.settings.poll_interval, exc)
            await asyncio.sleep(self.settings.poll_interval)
            return []

    async def _promote(self, store: WorkerStore) -> tuple[int, float | None]:
        try:
            promoted, next_due = await store.promote(PROMOTE_BATCH)
        except psycopg.Error as exc:
            log.warning("scheduled-work scan failed: %s", exc)
            return 0, None
        return promoted, 0.0 if promoted == PROMOTE_BATCH else next_due

    async def _listen(self, url: str) -> None:
        queues = set(self.queues)
        while True:
            try:
                conn = await connect_async(url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {READY_CHANNEL}")
                    await conn.execute(f"LISTEN {SCHEDULED_CHANNEL}")
                    self._notified = self._schedule_changed = True  # catch up on missed news
                    self._wakeup.set()
                    async for note in conn.notifies():
                        if note.channel == READY_CHANNEL:
                            if note.payload in queues:
                                self._notified = True
                                self._wakeup.set()
                        else:
                            self._schedule_changed = True
                            self._wakeup.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN connection lost (%s); polling until it is back", exc)
                await asyncio.sleep(self.settings.poll_interval)

    # ------------------------------------------------------------ running

    def _start(self, item: Claimed) -> None:
        definition = self.tasks.get(item.name) if item.type == "task" else None
        r = _Running(item, definition, asyncio.get_running_loop().time())
        self._running[item.id] = r
        r.task = asyncio.create_task(self._execute(r), name=f"rhythm-{item.type}-{item.id}")

    async def _execute(self, r: _Running) -> None:
        item = r.item
        is_task = item.type == "task"
        if is_task:
            failpoint("task-after-claim")
        runner = self._runners.get(item.type) or self._runners["task"]
        try:
            outcome = await runner.run(item)
        except asyncio.CancelledError:
            outcome = None  # lease lost, cancelled or handed back: nothing to record
        if is_task:
            failpoint("task-after-run")
        try:
            if outcome is not None and not r.discard:
                self._results.put_nowait((r, outcome))
            if isinstance(outcome, Failed) and outcome.lingering is not None:
                # A timed-out sync task still occupies its thread: keep its slot until it returns.
                with contextlib.suppress(BaseException):
                    await asyncio.wait([outcome.lingering])
        finally:
            self._running.pop(item.id, None)
            self._wakeup.set()

    # ------------------------------------------------------------ results and leases

    async def _flush_results(self, store: WorkerStore) -> None:
        while True:
            batch = [await self._results.get()]
            while len(batch) < FLUSH_BATCH and not self._results.empty():
                batch.append(self._results.get_nowait())
            try:
                await self._write(store, batch)
            except Exception:  # a bug here must not silently stop result writing
                log.exception("could not store %d result(s); their leases will lapse", len(batch))
            finally:
                for _ in batch:
                    self._results.task_done()

    async def _write(self, store: WorkerStore, batch: list[tuple[_Running, Outcome]]) -> None:
        done = [(r, o) for r, o in batch if isinstance(o, Completed)]
        failed = [(r, o) for r, o in batch if isinstance(o, Failed)]
        writes: list[Callable[[], Coroutine[Any, Any, Any]]] = []
        if done:
            finished = [Finished(r.item.id, r.item.attempt, o.output) for r, o in done]
            writes.append(lambda: store.complete(finished))
        if failed:
            attempts = [self._failed_attempt(r, o) for r, o in failed]
            writes.append(lambda: store.fail(attempts))
        # Each write is its own transaction: each locks its executions in id order, and
        # holding one batch's locks while taking the next batch's would break that order.
        await self._write_all(writes, len(batch))
        self.completed += len(done)
        self.failed += len(failed)

    async def _write_all(
        self, writes: Sequence[Callable[[], Coroutine[Any, Any, Any]]], count: int
    ) -> None:
        tries = 0
        pending = list(writes)
        while pending:  # the database may be briefly away: keep the results (and leases)
            try:
                failpoint("task-before-commit")
                await pending[0]()
                failpoint("task-after-commit")
                pending.pop(0)
            except psycopg.Error as exc:
                tries += 1
                log.warning("storing %d result(s) failed (try %d): %s", count, tries, exc)
                await asyncio.sleep(min(5.0, 0.1 * 2**tries))

    def _failed_attempt(self, r: _Running, o: Failed) -> FailedAttempt:
        delay = self._retry_delay(r)
        then = f"retry in {delay:.2f}s" if delay is not None else "no retries left"
        log.warning(
            "%s %s (%s) attempt %d failed, %s: %s: %s",
            r.item.type,
            r.item.name,
            r.item.id,
            r.item.attempt,
            then,
            o.error["type"],
            o.error["message"],
        )
        return FailedAttempt(r.item.id, r.item.attempt, _error_json(r, o), delay)

    def _retry_delay(self, r: _Running) -> float | None:
        retries = r.item.max_retries
        if retries is None:
            retries = r.definition.retries if r.definition is not None else 0
        if r.item.attempt > retries:
            return None
        return self.settings.backoff(r.item.attempt)

    async def _keep_leases(self, store: WorkerStore) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                began = loop.time()
                held = await store.renew(self.settings.lease_seconds)
                await store.reap(self.settings.lost_worker_retries)
            except psycopg.Error as exc:
                log.warning("lease renewal failed: %s", exc)
                continue
            for execution_id, r in list(self._running.items()):
                mine = (execution_id, r.item.attempt) in held
                if r.claimed_at < began and not mine and not r.discard:
                    log.warning(
                        "execution %s is no longer leased to this worker (cancelled or taken "
                        "over); its result will be dropped",
                        execution_id,
                    )
                    r.discard = True
                    r.cancel()


def _error_json(r: _Running, outcome: Failed) -> str:
    return json.dumps({**outcome.error, "attempt": r.item.attempt}, ensure_ascii=False)
