"""The Worker: the engine that claims ready executions, runs them and stores what happened.

One asyncio loop per worker process. A claim loop takes up to `claim_batch` items per round trip
(never more than the free concurrency slots) and sleeps on LISTEN/NOTIFY, with a poll as fallback.
Each claimed row goes to the runner of its type (runners.py): tasks to TaskRunner (async tasks on
the loop, sync tasks in a daemon thread pool), workflows to the stepper; `concurrency` bounds all.
Outcomes are queued and written in batches by a few flusher coroutines. A lease keeper renews the
leases of what this worker runs and requeues work whose worker died. Every statement lives in
WorkerStore (store.py); every write is fenced by (execution id, attempt).

Eager paths (settings.eager): work this worker produces for itself skips the queue. A step's
commit creates the tasks it can run already claimed (the stepper returns them as `Started`), and
the transaction that stores a task's result claims the parent workflow it wakes; either runs at
once, in slots set aside (`_reserved`) before that transaction, so `concurrency` still bounds
everything. Eager work is leased and fenced exactly like claimed work. They apply while the last
claim came back short: under a backlog, batched claims and writes cost less per workflow.
Eager continuation (settings.chain): a task whose parent workflow awaits it alone, as this
worker's own last commit of that workflow left it, is stored together with that workflow's next
step by the stepper (runners.Continuer), in the task's slot."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from rhythm.client.database import connect_async, describe_target
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.errors import SchemaMissing
from rhythm.client.migrations import applied_migrations, load_migrations
from rhythm.client.workflow_files import (
    WorkflowDefinition,
    WorkflowSources,
    load_workflows,
    store_workflow_definitions,
)
from rhythm.worker.failpoints import failpoint
from rhythm.worker.outcomes import (
    Claimed,
    Completed,
    Failed,
    Outcome,
    Started,
    one_line,
    storable,
)
from rhythm.worker.overdue import OverdueReport
from rhythm.worker.registry import DEFAULT_QUEUE, TaskDefinition, collect
from rhythm.worker.runners import Continuer, Runner, TaskRunner, workflow_runner
from rhythm.worker.settings import WorkerSettings
from rhythm.worker.store import (
    DATABASE_ERRORS,
    EagerClaim,
    FailedAttempt,
    Finished,
    OverdueAttempt,
    WorkerStore,
    is_outage,
    open_pool,
)
from rhythm.worker.threads import DaemonThreadPool

log = logging.getLogger("rhythm.worker")

READY_CHANNEL = "rhythm_ready"
SCHEDULED_CHANNEL = "rhythm_scheduled"
FLUSH_BATCH = 500
PROMOTE_BATCH = 1000
FLUSH_AT_LEAST = 2.0  # seconds a stopping worker always gives its unwritten results


@dataclass
class _Slots:
    """Slots set aside for the parents a batch of results may wake, not yet used."""

    left: int


@dataclass(eq=False)
class _Running:
    item: Claimed
    definition: TaskDefinition | None  # None for workflows and unknown tasks
    claimed_at: float
    task: asyncio.Task[None] | None = None
    discard: bool = False  # lease lost or handed back: whatever the runner returns is dropped
    overdue: bool = False  # past its timeout, could not be stopped, attempt already failed
    reserved: int = 0  # slots kept, until its result is stored, for the parent it may wake
    committing: bool = False  # a step whose VM has run: its slot is free, its commit goes on

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

    `tasks`: modules, module names or functions (None: every @task imported so far, unless only
    `workflows` is given: then a worker that runs workflow steps only).
    `workflows`: .flow files or folders registered when the worker starts (checked at once).
    Claimed workflow executions, registered here or elsewhere, go to the stepper's runner.
    `queues`: None means the queues of those tasks. Timing knobs (lease_seconds, poll_interval,
    retry_backoff, grace_period, ...) are WorkerSettings fields, accepted as keywords."""

    def __init__(
        self,
        queues: Iterable[str] | None = None,
        concurrency: int = 8,
        tasks: Iterable[object] | None = None,
        database_url: str | None = None,
        *,
        workflows: WorkflowSources | None = None,
        settings: WorkerSettings | None = None,
        worker_id: str | None = None,
        **knobs: Any,
    ) -> None:
        # Checked now (one clear error naming every bad file), stored when the worker starts.
        self.workflows: list[WorkflowDefinition] = (
            load_workflows(workflows) if workflows is not None else []
        )
        self.tasks: dict[str, TaskDefinition] = (
            collect(tasks) if tasks is not None or not self.workflows else {}
        )
        if not self.tasks and not self.workflows:
            raise ValueError(
                "the worker has no tasks and no workflows: pass tasks=[module_or_function, ...]"
                " and/or workflows='folder/'"
            )
        if isinstance(queues, str):
            queues = [queues]
        chosen = (
            list(queues)
            if queues is not None
            # Workflows run on the queue they were started on: "default" unless told.
            else sorted(
                {d.queue for d in self.tasks.values()}
                | ({DEFAULT_QUEUE} if self.workflows or not self.tasks else set())
            )
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
        # By (execution id, attempt): an overdue attempt still holds its slot while the next
        # attempt of the same execution may already run here.
        self._running: dict[tuple[str, int], _Running] = {}
        self._unwritten: dict[str, _Running] = {}  # outcomes queued or being written
        self._reserved = 0  # free slots set aside for eager work being committed right now
        self._queue_busy = False  # the last claim came back full: eager paths wait
        self._overdue: OverdueReport | None = None  # while serving
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._notified = True
        self._schedule_changed = True
        self._skipped: dict[str, float] = {}  # handed-back execution id -> monotonic deadline

    @property
    def overdue(self) -> int:
        """Tasks past their timeout that could not be stopped, each holding a slot (shown by
        `rhythm status` from rhythm.overdue)."""
        return 0 if self._overdue is None else len(self._overdue)

    # ------------------------------------------------------------ entry points

    def run(self) -> None:
        """Run until SIGTERM/SIGINT (or stop()); blocks. A second signal skips the grace period."""
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve(handle_signals=True))
        finally:
            _cancel_leftovers(loop)
            loop.close()

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
        await asyncio.to_thread(_check_schema, url)
        pool = open_pool(url, self.settings.flushers + 2, self.settings.statement_timeout)
        store = self.store = WorkerStore(pool, self.worker_id)
        overdue = self._overdue = OverdueReport(store, self.settings.lease_seconds)
        if self.workflows:
            async with store.connection() as conn:
                await store_workflow_definitions(conn, self.workflows)
        self._runners = {
            "task": TaskRunner(self.tasks, self.threads, self.worker_id),
            "workflow": workflow_runner(self),
        }
        stepper = self._runners["workflow"]
        self._continuer = stepper if isinstance(stepper, Continuer) else None
        signals = (signal.SIGTERM, signal.SIGINT) if handle_signals else ()
        for sig in signals:
            self._loop.add_signal_handler(sig, self._request_stop, False)
        background = [
            asyncio.create_task(self._listen(url, store), name="rhythm-listen"),
            asyncio.create_task(self._keep_leases(store), name="rhythm-leases"),
            asyncio.create_task(overdue.keep(), name="rhythm-overdue"),
            *(
                asyncio.create_task(self._flush_results(store), name=f"rhythm-flush-{i}")
                for i in range(self.settings.flushers)
            ),
        ]
        log.info(
            "worker %s ready: queues %s; concurrency %d; tasks %s; workflows %s",
            self.worker_id,
            ", ".join(self.queues),
            self.concurrency,
            ", ".join(sorted(self.tasks)) or "none",
            ", ".join(sorted({d.name for d in self.workflows})) or "any registered",
        )
        try:
            await self._claim_loop(store)
            await self._shut_down(store)
        finally:
            with contextlib.suppress(Exception):  # best effort: unrenewed rows expire anyway
                async with asyncio.timeout(FLUSH_AT_LEAST):
                    await overdue.close()
            for sig in signals:
                self._loop.remove_signal_handler(sig)
            await _cancel_and_wait(background)
            for r in list(self._running.values()):
                r.cancel()
            await pool.close()
            self.threads.shutdown()
            self.store = None
            self._overdue = None
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
        # Results already produced are written before anything is handed back; during an outage
        # that is given as long as the running tasks were, then reported. A second stop request
        # cuts it short, but never below FLUSH_AT_LEAST: a healthy database needs milliseconds.
        flushed = asyncio.ensure_future(self._results.join())
        hurried = self._hurry.is_set()
        if not hurried:
            hurry = asyncio.ensure_future(self._hurry.wait())
            await asyncio.wait(
                {flushed, hurry},
                timeout=max(FLUSH_AT_LEAST, self.settings.grace_period),
                return_when=asyncio.FIRST_COMPLETED,
            )
            hurried = hurry.done()
            hurry.cancel()
        if hurried and not flushed.done():
            await asyncio.wait({flushed}, timeout=FLUSH_AT_LEAST)
        flushed.cancel()
        if self._unwritten:
            log.error(
                "could not store %d finished result(s) before stopping (%s); they will run "
                "again once their leases lapse: %s",
                len(self._unwritten),
                "asked to stop now" if self._hurry.is_set() else "database unreachable",
                ", ".join(sorted(self._unwritten)),
            )
        handing = [(r.item.id, r.item.attempt) for r in leftovers if not r.overdue]
        if handing:
            try:
                back = await store.release(handing)
                log.info("handed %d unfinished execution(s) back to the queue", len(back))
            except DATABASE_ERRORS as exc:
                log.error(
                    "could not hand %d unfinished execution(s) back (%s); they will run again "
                    "once their leases lapse: %s",
                    len(handing),
                    one_line(str(exc)),
                    ", ".join(sorted(i for i, _ in handing)),
                )

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
            free = self._free()
            if free > 0 and (backlog or self._notified):
                self._notified = False
                wanted = min(free, s.claim_batch)
                rows = await self._claim(store, wanted)
                for row in rows:
                    self._start(Claimed.from_row(row))
                backlog = len(rows) == wanted
                # A full claim means work is waiting in the queue: it is claimed in batches,
                # and eager paths give way to it until a claim comes back short.
                self._queue_busy = backlog
                if backlog and self._free() > 0:
                    continue
            if self._stopping:
                break
            try:
                async with asyncio.timeout(max(0.0, next_promote - loop.time())):
                    await self._wakeup.wait()
            except TimeoutError:
                backlog = True  # polling fallback
            self._wakeup.clear()

    def skip(self, execution_id: str) -> None:
        """Leave `execution_id` out of this worker's claims for `hand_back_seconds` (a workflow
        the stepper handed back because this worker cannot resume it)."""
        self._skipped[execution_id] = time.monotonic() + self.settings.hand_back_seconds

    def _skipping(self) -> list[str]:
        now = time.monotonic()
        for execution_id in [i for i, until in self._skipped.items() if until <= now]:
            del self._skipped[execution_id]
        return list(self._skipped)

    async def _claim(self, store: WorkerStore, limit: int) -> list[dict[str, Any]]:
        try:
            return await store.claim(
                self.queues, limit, self.settings.lease_seconds, self._skipping()
            )
        except DATABASE_ERRORS as exc:
            log.warning("claim failed, retrying in %gs: %s", self.settings.poll_interval, exc)
            await asyncio.sleep(self.settings.poll_interval)
            return []

    async def _promote(self, store: WorkerStore) -> tuple[int, float | None]:
        """Due scheduled executions to the ready queue and due workflow timers into their
        workflows' inboxes: (how many, seconds until the next of either is due)."""
        try:
            promoted, next_due = await store.promote(PROMOTE_BATCH)
            fired, taken, next_timer = await store.fire_timers(PROMOTE_BATCH)
        except DATABASE_ERRORS as exc:
            log.warning("scheduled-work scan failed: %s", exc)
            return 0, None
        if promoted == PROMOTE_BATCH or taken == PROMOTE_BATCH:
            return promoted + fired, 0.0
        dues = [d for d in (next_due, next_timer) if d is not None]
        return promoted + fired, min(dues) if dues else None

    async def _listen(self, url: str, store: WorkerStore) -> None:
        queues = set(self.queues)
        while True:
            try:
                conn = await connect_async(url, store.pool.timeouts, autocommit=True)
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

    # ------------------------------------------------------------ eager work

    def eager_now(self) -> bool:
        """Whether eager paths are on (settings.eager), the worker is not stopping and its last
        claim came back short. While the queue holds more than the worker can take, work goes
        through it: claims, results and loads then go in batches of many executions per
        statement, which costs less per workflow than eager work's one transaction per step;
        eager paths are for the latency of a worker that has room."""
        return self.settings.eager and not self._stopping and not self._queue_busy

    def reserve(self) -> int:
        """Set aside every free slot for work a transaction is about to claim for this worker;
        returns how many (0 when eager paths are off or the worker is stopping). A runner that
        claims work for itself also has its own slot, free once it returns: it is not counted
        here (it is still running)."""
        if not self.eager_now():
            return 0
        free = max(0, self._free())
        self._reserved += free
        return free

    def _free(self) -> int:
        """Slots neither running work nor set aside. A step whose VM has run and that is
        committing holds none (`step_ran`), up to `concurrency` of them: past that the slots
        stay taken, so a slow database slows the claims instead of piling up commits."""
        committing = sum(r.committing for r in self._running.values())
        busy = len(self._running) - min(committing, self.concurrency)
        return self.concurrency - busy - self._reserved

    def step_ran(self, item: Claimed) -> None:
        """A workflow step's VM has run and its commit (which claims nothing for this worker)
        is under way: its slot is free for the next claim, as a task's slot is free once the
        function returns while its result is stored. The execution stays leased and renewed
        until the commit ends."""
        r = self._running.get((item.id, item.attempt))
        if r is not None and not r.committing:
            r.committing = True
            self._wakeup.set()

    def unreserve(self, slots: int) -> None:
        """Give back slots set aside by `reserve` that no claimed work took."""
        self._reserved -= slots
        if slots:
            self._wakeup.set()  # the claim loop may use them now

    def runs_task(self, name: str, queue: str) -> bool:
        """Whether this worker can run task `name` of `queue` itself (eager dispatch)."""
        return queue in self.queues and name in self.tasks

    def _adopt(self, claimed: list[Claimed], reserved: int) -> None:
        """Run what an eager transaction claimed for this worker, in the slots set aside."""
        self._reserved -= reserved
        for item in claimed:
            self._start(item)
        self._wakeup.set()

    # ------------------------------------------------------------ running

    def _start(self, item: Claimed) -> None:
        definition = self.tasks.get(item.name) if item.type == "task" else None
        r = _Running(item, definition, asyncio.get_running_loop().time())
        self._running[(item.id, item.attempt)] = r
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
        except Exception:  # a runner bug must not leave the execution running unnoticed
            log.exception("runner for %s %s (%s) raised", item.type, item.name, item.id)
            outcome = Failed(
                {
                    "type": "WorkerError",
                    "message": f"the worker's {item.type} runner failed (see the worker's log)",
                    "traceback": None,
                }
            )
        if is_task:
            failpoint("task-after-run")
        started = outcome if isinstance(outcome, Started) else None
        try:
            if isinstance(outcome, Completed) and item.parent_id is not None and not r.discard:
                chained = await self._chain(item, outcome)
                if chained is not None:  # stored with its parent's next step
                    outcome, started = None, chained
                    self.completed += 1
            if isinstance(outcome, Completed | Failed) and not r.discard:
                lingering = isinstance(outcome, Failed) and outcome.lingering is not None
                if item.parent_id is not None and not lingering and self.eager_now():
                    # This slot stays set aside until the result is stored: that transaction
                    # may claim the parent it wakes, to step it here at once (eager resume).
                    r.reserved = 1
                    self._reserved += 1
                self._unwritten[item.id] = r
                self._results.put_nowait((r, outcome))
            if isinstance(outcome, Failed) and outcome.lingering is not None:
                await self._hold_slot(r, outcome.lingering)
        finally:
            if is_task and self._continuer is not None:
                self._continuer.forget(item.id)
            self._running.pop((item.id, item.attempt), None)
            if started is not None:
                self._adopt(started.claimed, started.reserved)
            self._wakeup.set()

    async def _chain(self, item: Claimed, outcome: Completed) -> Started | None:
        """Eager continuation (settings.chain): the task's result stored together with its
        parent's next step by the stepper, in this task's slot; None: store it as usual."""
        if self._continuer is None or not self.settings.chain or not self.eager_now():
            return None
        try:
            return await self._continuer.chain(item, outcome.output)
        except Exception:  # a bug there must not lose the result: it goes the usual way
            log.exception("eager continuation after %s (%s) failed", item.name, item.id)
            return None

    async def _hold_slot(self, r: _Running, lingering: asyncio.Future[Any]) -> None:
        """A task past its timeout that could not be stopped keeps its slot until it returns:
        counting the slot free would run more tasks at once than `concurrency` promises."""
        r.overdue = r.discard = True  # its attempt is failed; it is no longer leased
        report = self._overdue
        item = r.item
        if report is not None:
            timeout = item.timeout
            if timeout is None and r.definition is not None:
                timeout = r.definition.timeout
            report.add(OverdueAttempt(item.id, item.attempt, item.name, timeout))
        loop = asyncio.get_running_loop()
        since = loop.time()
        log.warning(
            "%s %s (%s) ran past its timeout and could not be stopped: it holds 1 of %d slot(s) "
            "until it returns (%d slot(s) held by overdue tasks now; `rhythm status` lists them)",
            r.item.type,
            r.item.name,
            r.item.id,
            self.concurrency,
            self.overdue,
        )
        try:
            with contextlib.suppress(Exception):
                await asyncio.wait([lingering])
        finally:
            if report is not None:
                report.remove(item.id, item.attempt)
        log.info(
            "overdue %s %s (%s) returned after its timeout (%.1f s late); its slot is free again "
            "and its result was dropped",
            r.item.type,
            r.item.name,
            r.item.id,
            loop.time() - since,
        )

    # ------------------------------------------------------------ results and leases

    async def _flush_results(self, store: WorkerStore) -> None:
        while True:
            batch = [await self._results.get()]
            while len(batch) < FLUSH_BATCH and not self._results.empty():
                batch.append(self._results.get_nowait())
            slots = _Slots(sum(r.reserved for r, _ in batch))
            try:
                await self._write(store, batch, slots)
            except Exception:  # a bug here must not silently stop result writing
                log.exception("could not store %d result(s); their leases will lapse", len(batch))
            finally:
                self.unreserve(slots.left)  # what no woken parent took
                for r, _ in batch:
                    r.reserved = 0
                    self._unwritten.pop(r.item.id, None)
                    self._results.task_done()

    def _claiming(
        self,
        write: Callable[[list[Any], EagerClaim | None], Awaitable[tuple[set[str], list[Any]]]],
        slots: _Slots,
    ) -> Callable[[list[Any]], Awaitable[set[str]]]:
        """`write` (complete_claiming or fail_claiming) claiming, in the same transaction, up to
        `slots.left` of the parent workflows its results wake; they start here at once."""

        async def run(rows: list[Any]) -> set[str]:
            claim = None
            if slots.left > 0 and self.eager_now():
                claim = EagerClaim(
                    self.queues, slots.left, self.settings.lease_seconds, self._skipping()
                )
            stored, woken = await write(rows, claim)
            if woken:
                failpoint("eager-step-claimed")
                for row in woken:
                    slots.left -= 1
                    self._reserved -= 1
                    self._start(Claimed.from_row(row))
            return stored

        return run

    async def _write(
        self, store: WorkerStore, batch: list[tuple[_Running, Outcome]], slots: _Slots
    ) -> None:
        """Store a batch: completions, then failures, each its own transaction (each locks its
        executions in id order; holding one batch's locks while taking the next batch's would
        break that order). An outage is waited out; a row Postgres refuses fails on its own."""
        done = {r.item.id: (r, o) for r, o in batch if isinstance(o, Completed)}
        failed = [(r, o) for r, o in batch if isinstance(o, Failed)]
        if done:
            rows = [Finished(r.item.id, r.item.attempt, o.output) for r, o in done.values()]
            refused = await self._persist(self._claiming(store.complete_claiming, slots), rows)
            for row, exc in refused:
                r, _ = done[row.id]
                message = f"the task's output could not be stored: {one_line(str(exc))}"
                failed.append((r, Failed({"type": "InvalidOutput", "message": message})))
            self.completed += len(rows) - len(refused)
        if failed:
            by_id = {r.item.id: r for r, _ in failed}
            attempts = [self._failed_attempt(r, o) for r, o in failed]
            fail = self._claiming(store.fail_claiming, slots)
            for row, exc in await self._persist(fail, attempts):
                # Even a sanitized error was refused: store a bare one rather than nothing.
                bare = {
                    "type": "StorageError",
                    "message": f"the error of this attempt could not be stored: {exc!r}",
                    "attempt": row.attempt,
                }
                plain = FailedAttempt(
                    row.id, row.attempt, json.dumps(bare, ensure_ascii=True), row.retry_delay
                )
                for _, last in await self._persist(fail, [plain]):
                    log.error(
                        "could not store the failure of %s (%s); its lease will lapse: %s",
                        by_id[row.id].item.name,
                        row.id,
                        last,
                    )
            self.failed += len(failed)

    async def _persist(
        self, write: Callable[[list[Any]], Awaitable[object]], rows: list[Any]
    ) -> list[tuple[Any, BaseException]]:
        """Write `rows`, riding out outages; returns the rows Postgres refused, with why. A
        refused batch is split in halves until each bad row stands alone."""
        tries = 0
        while True:
            try:
                failpoint("task-before-commit")
                await write(rows)
                failpoint("task-after-commit")
                return []
            except (*DATABASE_ERRORS, UnicodeError, ValueError) as exc:
                if is_outage(exc):
                    tries += 1
                    # Short waits: resume within a second of the database answering again.
                    delay = min(1.0, 0.05 * 2**tries)
                    log.warning(
                        "storing %d result(s) failed (try %d, again in %.2gs): %s",
                        len(rows),
                        tries,
                        delay,
                        one_line(str(exc)),
                    )
                    await asyncio.sleep(delay)
                    continue
                if len(rows) == 1:
                    return [(rows[0], exc)]
                half = len(rows) // 2
                return await self._persist(write, rows[:half]) + await self._persist(
                    write, rows[half:]
                )

    def _failed_attempt(self, r: _Running, o: Failed) -> FailedAttempt:
        delay = self._retry_delay(r)
        then = f"retry in {delay:.2f}s" if delay is not None else "no retries left"
        error = storable({**o.error, "attempt": r.item.attempt})
        log.warning(
            "%s %s (%s) attempt %d failed, %s: %s: %s",
            r.item.type,
            r.item.name,
            r.item.id,
            r.item.attempt,
            then,
            error.get("type"),
            error.get("message"),
        )
        return FailedAttempt(
            r.item.id, r.item.attempt, json.dumps(error, ensure_ascii=False), delay
        )

    def _retry_delay(self, r: _Running) -> float | None:
        retries = r.item.max_retries
        if retries is None:
            retries = r.definition.retries if r.definition is not None else 0
        if r.item.attempt > retries:
            return None
        return self.settings.backoff(r.item.attempt)

    def _held(self) -> list[tuple[str, int]]:
        """What this worker knows it holds: running work and results not yet stored."""
        held = {r.item.id: r.item.attempt for r in self._unwritten.values()}
        held.update((r.item.id, r.item.attempt) for r in self._running.values() if not r.discard)
        return list(held.items())

    async def _keep_leases(self, store: WorkerStore) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(interval)
            try:
                began = loop.time()
                held = await store.renew(self._held(), self.settings.lease_seconds)
                await store.reap(self.settings.lost_worker_retries)
            except DATABASE_ERRORS as exc:
                log.warning("lease renewal failed: %s", one_line(str(exc)))
                continue
            for r in list(self._running.values()):
                execution_id = r.item.id
                mine = (execution_id, r.item.attempt) in held
                if r.claimed_at < began and not mine and not r.discard:
                    log.warning(
                        "execution %s is no longer leased to this worker (cancelled or taken "
                        "over); its result will be dropped",
                        execution_id,
                    )
                    r.discard = True
                    r.cancel()


def _check_schema(url: str) -> None:
    """One clear line, not a worker that starts and logs warnings forever, when the database
    lacks Rhythm's schema or migrations this worker needs."""
    expected = load_migrations()
    applied = {version for version, _ in applied_migrations(url)}
    missing = [m.filename for m in expected if m.version not in applied]
    if not applied:
        raise SchemaMissing(
            f"the database at {describe_target(url)} has no Rhythm schema: "
            "run `rhythm migrate` first"
        )
    if missing:
        raise SchemaMissing(
            f"the database at {describe_target(url)} lacks migration(s) {', '.join(missing)}: "
            "run `rhythm migrate` first"
        )


async def _cancel_and_wait(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancel `tasks` and wait until each has ended, cancelling again any that is still running
    a second later: a cancellation that lands just as an inner await completes can be swallowed
    on the way (asyncio.wait_for in Python 3.11 does), and stopping must not hang on it."""
    pending = set(tasks)
    while pending:
        for t in pending:
            t.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop, wait: float = 2.0) -> None:
    """Cancel what still runs on the loop and wait a little, unlike asyncio.run, which waits
    forever: an async task that ignores its cancellation must not keep the process alive."""
    leftovers = asyncio.all_tasks(loop)
    for t in leftovers:
        t.cancel()
    if leftovers:
        _, stuck = loop.run_until_complete(asyncio.wait(leftovers, timeout=wait))
        if stuck:
            log.warning(
                "%d task(s) ignored their cancellation at shutdown; leaving them behind",
                len(stuck),
            )
    with contextlib.suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())
