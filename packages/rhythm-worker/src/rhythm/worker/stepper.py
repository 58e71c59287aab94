"""The workflow stepper: the runner the worker engine hands claimed workflow executions to.

One step: load the workflow (its version's source, inputs, snapshot and every result in its
inbox), run the VM (`vm.start` on the first step, `vm.resume` after) - on the event loop when
the step is small (INLINE_INSTRUCTIONS), else in the worker's thread pool, so that a step of a
million instructions never stalls the event loop and its lease renewals - then commit the new
snapshot, every effect the step produced and the new status in ONE transaction fenced by
(id, attempt) (WorkerStore.commit_step). A crash anywhere before the
commit leaves the step to be run again from the same snapshot and inbox by whoever claims it
next; after the commit it is never run again. So steps commit exactly once; the tasks they start
run at least once (a task's worker may die mid-run and the task runs again).

A running execution always resumes on the version hash it started with (the row names it; the
definition cannot be deleted while it runs). Limits (the VM's instruction budget, its time for
regular expressions and the state size) fail only the workflow that hit them. Failpoints:
step-after-claim, step-after-vm, step-before-commit, step-after-commit, eager-task-claimed.

Rolling upgrades: a workflow this worker cannot resume because another rhythm-core wrote its
snapshot (`IncompatibleSnapshot`: another snapshot format, or a program compiled differently) or
cannot compile its stored source is not failed: it is handed back to the ready queue (attempt
not counted, a note in its `error` saying why) for a worker that can, and this worker leaves it
out of its claims for `hand_back_seconds`. A snapshot that is damaged fails the workflow.

Eager dispatch: the tasks a step starts that this worker can run (no delay, its queue and task
name, a free slot, this step's own slot included) are created already claimed by it, in the
step's commit, and returned to the engine as `Started`, which runs them at once: no ready row,
no NOTIFY, no claim. They are leased like claimed tasks, so a crash before they run loses
nothing (the lease lapses and the reaper hands them on).

Eager continuation (`chain`): when such a commit leaves the workflow awaiting exactly one of
those tasks, the stepper keeps the snapshot it committed. When the task returns, the engine
hands its output to `chain`, which runs the next step on that snapshot and stores the task's
result with the step in one transaction (WorkerStore.chain_step), in the task's slot. That
transaction claims the workflow only if it is exactly as the step assumed; otherwise nothing is
stored and the result goes the usual way (eager resume, or the queue)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from rhythm.client import operations as client_ops
from rhythm.client import step_tasks
from rhythm.client.errors import InvalidInput
from rhythm.client.ids import new_id
from rhythm.client.validation import encode_inputs
from rhythm.core import vm
from rhythm.core.compiler import CompiledWorkflow, FlowCompileError, compile_source
from rhythm.core.effects import StartTask, StartTimer, StartWorkflow, WaitSignal
from rhythm.core.limits import MAX_DELAY_SECONDS
from rhythm.core.snapshot import check_state
from rhythm.worker.failpoints import failpoint
from rhythm.worker.outcomes import Claimed, Outcome, Started, decode_json, one_line
from rhythm.worker.store import (
    DATABASE_ERRORS,
    ChainedStep,
    Finished,
    StepCommit,
    WorkerStore,
    is_outage,
)

if TYPE_CHECKING:
    from rhythm.worker.worker import Worker

log = logging.getLogger("rhythm.worker.stepper")

COMPILED_CACHE = 256  # compiled versions kept per worker (a version compiles once)
# A small step runs on the event loop itself: handing it to a thread and back costs a busy
# worker about 2 ms of waiting (measured: 1.0 ms to reach the thread, 1.0 ms back), ten times
# what a typical step runs. Small means: a compiled version, a snapshot under INLINE_STEP_CHARS
# of JSON, and it settles (suspends or completes) within INLINE_INSTRUCTIONS instructions and
# INLINE_REGEX_SECONDS of regular expressions. Anything else (a step that outgrows those
# limits, or fails for any reason) is run again from the same snapshot in the thread pool with
# the full limits, and that run is the one committed: the VM is deterministic, and the inline
# attempt stored nothing.
INLINE_INSTRUCTIONS = 20_000
INLINE_REGEX_SECONDS = 0.005
INLINE_STEP_CHARS = 64 * 1024


def workflow_runner(engine: Worker) -> Stepper:
    """The runner for claimed workflow executions (called by runners.workflow_runner)."""
    return Stepper(engine)


class StepFailure(Exception):
    """A problem of the workflow itself (not of the database): the workflow fails with it."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message

    def error(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message}


class HandBack(Exception):
    """This worker's rhythm-core cannot resume the workflow, another one may: hand it back."""

    def __init__(self, type_: str, message: str) -> None:
        super().__init__(message)
        self.type = type_
        self.message = message


class Stepper:
    """Runs one step per claimed workflow execution and commits it (Runner protocol)."""

    def __init__(self, engine: Worker) -> None:
        self.engine = engine
        self.budget = vm.DEFAULT_BUDGET
        self.max_state_bytes = vm.DEFAULT_MAX_STATE_BYTES
        self.regex_seconds = vm.DEFAULT_REGEX_SECONDS
        self._compiled: OrderedDict[tuple[str, str], CompiledWorkflow] = OrderedDict()
        self._loads = _BatchedLoads()
        self._commits = _BatchedCommits()
        # Eager continuation: by task id, workflows suspended on that one task, run here.
        self._continuations: dict[str, _Continuation] = {}

    async def run(self, item: Claimed) -> Outcome | Started | None:
        failpoint("step-after-claim")
        store = self.engine.store
        assert store is not None, "the stepper runs only while the worker serves"
        try:
            if item.step is not None:  # read by the claim itself (rhythm.step_data)
                loaded = {item.id: item.step}
            else:
                loaded = await self._retrying(item, lambda: self._loads.load(store, item.id))
        except DATABASE_ERRORS as exc:  # not an outage: this row cannot be loaded, say so
            log.error("workflow %s (%s): cannot load it: %s", item.name, item.id, exc)
            failure = StepFailure("LoadError", f"the workflow could not be loaded: {exc}")
            loaded = {}
            row = {"parent_id": None, "version_hash": item.version_hash or "", "results": None}
            await self._retrying(item, lambda: store.commit_step(self._failed(item, row, failure)))
        row = loaded.get(item.id)
        if row is None:  # pruned or gone between claim and load: nothing to step
            return None
        size = item.step_chars if item.step is not None else None
        commit = await self._run_step(item, row, time.time(), size)
        if isinstance(commit, HandBack):
            await self._hand_back(item, commit)
            return None
        failpoint("step-after-vm")
        failpoint("step-before-commit")
        commit, reserved = self._eager_tasks(commit)
        if not commit.claims_tasks:  # nothing to run here next: the slot is free already
            self.engine.step_ran(item)
        handed = False
        try:
            lease = self.engine.settings.lease_seconds
            try:
                status, claimed = await self._retrying(
                    item, lambda: self._commits.commit(store, commit, lease)
                )
            except DATABASE_ERRORS as exc:
                # The store refused something the step produced: fail this workflow, say why.
                log.error("workflow %s (%s): step refused by the database: %s", item.name,
                          item.id, exc)  # fmt: skip
                failure = StepFailure(
                    "StepRefused", f"the database refused this step's commit: {exc}"
                )
                status, claimed = await self._retrying(
                    item,
                    lambda: store.commit_step_claiming(self._failed(item, row, failure), lease),
                )
            failpoint("step-after-commit")
            if status is None:
                log.info(
                    "workflow %s (%s): step fenced out (lease lost or cancelled)",
                    item.name,
                    item.id,
                )
                return None
            self._committed(item, row, commit, status, claimed)
            if not claimed:
                return None
            failpoint("eager-task-claimed")
            handed = True
            return Started([Claimed.from_row(r) for r in claimed], reserved)
        finally:
            if not handed:
                self.engine.unreserve(reserved)

    async def chain(self, task: Claimed, output: str) -> Started | None:
        """Eager continuation: `task` (run here, created by a step this worker committed) just
        returned `output` (JSON text), and its parent workflow awaits it alone. Run the parent's
        next step on the snapshot that commit wrote, then store the task's result and commit
        the step in ONE transaction (WorkerStore.chain_step). Returns what the step created
        already claimed by this worker (possibly nothing) once committed; None when this task
        has no continuation here or the parent was not as the step assumed (a signal, a timer
        or a cancellation got there first; the database was away): nothing was stored, and the
        result goes the usual way. Failpoints: chain-after-vm, chain-after-commit."""
        cont = self._continuations.pop(task.id, None)
        store = self.engine.store
        if cont is None or store is None:  # the engine asks only while eager paths apply
            return None
        value, problem = decode_json(output)
        if problem is not None:
            return None
        item = replace(cont.item, attempt=cont.item.attempt + 1)
        row = {
            **cont.row,
            "state": json.loads(cont.state),
            "steps": cont.steps,
            "results": [[cont.handle, {"status": "completed", "output": value}]],
        }
        commit = await self._run_step(item, row, time.time(), len(cont.state))
        if isinstance(commit, HandBack) or (
            # Finishing a child would lock its parent after `complete` locked the child's:
            # against the lock order. Such a step goes the usual way.
            commit.status != "suspended" and commit.parent_id is not None
        ):
            return None
        failpoint("chain-after-vm")
        commit, reserved = self._eager_tasks(commit)
        handed = False
        try:
            chained = ChainedStep(cont.item.id, cont.item.attempt, cont.steps, cont.handle)
            lease = self.engine.settings.lease_seconds
            try:
                done = await store.chain_step(
                    Finished(task.id, task.attempt, output), chained, commit, lease
                )
            except DATABASE_ERRORS as exc:
                log.info("workflow %s (%s): continuation not stored (%s); the usual way then",
                         item.name, item.id, one_line(str(exc)))  # fmt: skip
                return None
            if done is None:
                return None
            failpoint("chain-after-commit")
            status, claimed = done
            self._committed(item, row, commit, status, claimed)
            started = Started([Claimed.from_row(r) for r in claimed], reserved)
            if claimed:
                failpoint("eager-task-claimed")
            handed = True
            return started
        finally:
            if not handed:
                self.engine.unreserve(reserved)

    async def _run_step(
        self, item: Claimed, row: dict[str, Any], now: float, size: int | None
    ) -> StepCommit | HandBack:
        """The step, on the event loop when it is small (see INLINE_INSTRUCTIONS; `size`: the
        snapshot's JSON length, None when unknown), else in the thread pool."""
        if size is not None and size <= INLINE_STEP_CHARS and self._is_compiled(row):
            commit = self.step(item, row, now, inline=True)
            if isinstance(commit, StepCommit) and commit.status != "failed":
                return commit
        future = self.engine.threads.submit(lambda _: self.step(item, row, now), None)
        return await asyncio.shield(future)

    def _is_compiled(self, row: dict[str, Any]) -> bool:
        return (row.get("name"), row.get("version_hash")) in self._compiled

    def forget(self, task_id: str) -> None:
        """Drop the continuation waiting on `task_id` (it failed, was cancelled or handed back:
        its result goes the usual way)."""
        self._continuations.pop(task_id, None)

    def _eager_tasks(self, commit: StepCommit) -> tuple[StepCommit, int]:
        """Eager dispatch: set aside slots for the tasks this step starts and this worker can
        run (this step's own slot, free once the commit is done, and the free ones) and mark
        them; returns the commit and how many free slots were set aside."""
        reserved = 0
        if commit.tasks and self.engine.eager_now():
            reserved = self.engine.reserve()
            commit, taken = self._mark_eager(commit, reserved + 1)
            spare = reserved - max(0, taken - 1)
            self.engine.unreserve(spare)
            reserved -= spare
        return commit, reserved

    def _committed(
        self,
        item: Claimed,
        row: dict[str, Any],
        commit: StepCommit,
        status: str,
        claimed: list[dict[str, Any]],
    ) -> None:
        """After a step's commit: log a finished workflow; keep a continuation when the
        workflow now awaits exactly one task that this worker claimed in that commit."""
        if status in ("completed", "failed"):
            log.info("workflow %s (%s) %s", item.name, item.id, status)
        if status != "suspended" or len(commit.waiting_on) != 1 or not claimed:
            return
        if not self.engine.settings.chain or commit.tasks is None or commit.state is None:
            return
        [handle] = commit.waiting_on
        try:
            task_id = str(commit.tasks["ids"][commit.tasks["handles"].index(handle)])
        except ValueError:
            return  # it awaits something else (a timer, a signal, a child workflow)
        if any(str(r["id"]) == task_id for r in claimed):
            kept = {k: row.get(k) for k in _CONTINUATION_KEYS}
            steps = (row.get("steps") or 0) + 1
            workflow = replace(item, step=None)  # the claim's copy of the old state: not kept
            self._continuations[task_id] = _Continuation(
                workflow, kept, commit.state, steps, handle
            )

    def _mark_eager(self, commit: StepCommit, slots: int) -> tuple[StepCommit, int]:
        """Mark up to `slots` of the step's tasks to be created already claimed by this worker
        (those with no delay whose queue and name this worker runs, in start order); returns the
        commit and how many were marked."""
        tasks = commit.tasks
        if not tasks or slots < 1:
            return commit, 0
        eager: list[bool] = []
        for name, queue, delay in zip(
            tasks["names"], tasks["queues"], tasks["delays"], strict=True
        ):
            take = slots > 0 and delay is None and self.engine.runs_task(name, queue)
            slots -= take
            eager.append(take)
        return replace(commit, tasks={**tasks, "eager": eager}), sum(eager)

    async def _hand_back(self, item: Claimed, back: HandBack) -> None:
        """Release the workflow for a worker that can resume it; skip it here for a while."""
        engine = self.engine
        store = engine.store
        assert store is not None
        seconds = engine.settings.hand_back_seconds
        message = (
            f"worker {engine.worker_id} cannot resume this workflow and handed it back for a "
            f"worker that can (it skips it for {seconds:g} s): {back.message}"
        )
        note = json.dumps({"type": back.type, "message": message}, ensure_ascii=False)
        engine.skip(item.id)
        try:
            ours = await self._retrying(item, lambda: store.hand_back(item.id, item.attempt, note))
        except DATABASE_ERRORS as exc:
            log.error("workflow %s (%s): could not hand it back (%s); its lease will lapse",
                      item.name, item.id, exc)  # fmt: skip
            return
        if ours:
            log.warning("workflow %s (%s) handed back: %s: %s; skipped here for %g s",
                        item.name, item.id, back.type, back.message, seconds)  # fmt: skip
        else:
            log.info("workflow %s (%s): hand-back fenced out (lease lost or cancelled)",
                     item.name, item.id)  # fmt: skip

    async def _retrying(self, item: Claimed, work: Any) -> Any:
        """`work()` again while the database is unreachable (the lease lapses if it stays away;
        then the engine cancels this step and whoever claims it next runs it again)."""
        tries = 0
        while True:
            try:
                return await work()
            except DATABASE_ERRORS as exc:
                if not is_outage(exc):
                    raise
                tries += 1
                log.warning("workflow %s (%s): database error (try %d): %s", item.name, item.id,
                            tries, exc)  # fmt: skip
                await asyncio.sleep(min(5.0, 0.1 * 2**tries))

    # ------------------------------------------------------------ the step (inline or in a thread)

    def step(
        self, item: Claimed, row: dict[str, Any], now: float, inline: bool = False
    ) -> StepCommit | HandBack:
        """Run the VM for one step and turn its result into a StepCommit (or a HandBack when
        this worker cannot resume it). Never raises. `inline`: with the small limits of a step
        run on the event loop (INLINE_INSTRUCTIONS)."""
        try:
            return self._step(item, row, now, inline)
        except HandBack as back:
            return back
        except StepFailure as failure:
            return self._failed(item, row, failure)
        except Exception as exc:  # a bug of ours: fail this workflow, not the worker
            if not inline:  # an inline crash is run again in the pool, and logged there
                log.exception("workflow %s (%s): step crashed", item.name, item.id)
            failure = StepFailure("InternalError", f"{type(exc).__name__}: {exc}; please report")
            return self._failed(item, row, failure)

    def _step(self, item: Claimed, row: dict[str, Any], now: float, inline: bool) -> StepCommit:
        workflow = self._workflow(row)
        context = {
            "executionId": item.id,
            "workflowName": row["name"],
            "versionHash": row["version_hash"],
            "now": now,
        }
        arrived = row["results"] or []
        results = {int(handle): result for handle, result in arrived}
        limits = {
            "budget": min(self.budget, INLINE_INSTRUCTIONS) if inline else self.budget,
            "max_state_bytes": self.max_state_bytes,
            "regex_seconds": (
                min(self.regex_seconds, INLINE_REGEX_SECONDS) if inline else self.regex_seconds
            ),
        }
        if row["state"] is None:
            step = vm.start(workflow, row["inputs"], context, **limits)
        else:
            problem = check_state(workflow, row["state"])
            if problem is not None and problem[0] == "IncompatibleSnapshot":
                raise HandBack(*problem)
            step = vm.resume(workflow, row["state"], results, context, **limits)
        commit = StepCommit(
            id=item.id,
            attempt=item.attempt,
            parent_id=_text(row["parent_id"]),
            version_hash=row["version_hash"],
            status=step.status,
            state=None,
            waiting_on=[],
            consumed=list(results),
            result=None,
        )
        effects = _Effects(item.id)
        for effect in step.effects:
            effects.add(effect)
        if step.status == "suspended" and not step.waiting_on:
            # Nothing could ever wake it (an await on an empty Promise.race): fail as
            # run_workflow does instead of leaving it suspended for good.
            raise StepFailure(
                "WaitingForever",
                "the workflow waits on nothing that can settle (an empty Promise.race?)",
            )
        if step.status == "suspended":
            state = _json(step.state, "the workflow's state")
            return replace(
                commit,
                state=state,
                waiting_on=list(step.waiting_on),
                **effects.fields(),
            )
        value = step.output if step.status == "completed" else step.error
        # Effects of the last step (fire-and-forget tasks before a return) are started too.
        return replace(commit, result=_json(value, "the workflow's result"), **effects.fields())

    def _workflow(self, row: dict[str, Any]) -> CompiledWorkflow:
        key = (row["name"], row["version_hash"])
        found = self._compiled.get(key)
        if found is not None:
            self._compiled.move_to_end(key)
            return found
        if row["source"] is None:
            raise StepFailure(
                "WorkflowNotFound",
                f"workflow {row['name']!r} version {row['version_hash']} is not registered",
            )
        try:
            compiled = compile_source(row["source"], f"{row['name']}.flow")
        except FlowCompileError as exc:
            # It compiled where it was registered: that rhythm-core can run it, this one cannot.
            raise HandBack(
                "CompileError", f"this worker's rhythm-core cannot compile the stored source: {exc}"
            ) from None
        self._compiled[key] = compiled
        if len(self._compiled) > COMPILED_CACHE:
            self._compiled.popitem(last=False)
        return compiled

    def _failed(self, item: Claimed, row: dict[str, Any], failure: StepFailure) -> StepCommit:
        return StepCommit(
            id=item.id,
            attempt=item.attempt,
            parent_id=_text(row["parent_id"]),
            version_hash=row["version_hash"],
            status="failed",
            state=None,
            waiting_on=[],
            consumed=[int(h) for h, _ in row["results"] or []],
            result=json.dumps(failure.error(), ensure_ascii=False),
        )


# What a continuation keeps of a workflow's load_steps row (its state is kept as committed).
_CONTINUATION_KEYS = ("name", "version_hash", "source", "inputs", "parent_id", "parent_handle")


@dataclass(frozen=True)
class _Continuation:
    """A workflow suspended on one task that this worker runs, as its last commit left it:
    `item` at that commit's attempt, `row` (load_steps' row without state and results), the
    snapshot committed (`state`, JSON text), its number (`steps`) and the task's `handle`."""

    item: Claimed
    row: dict[str, Any]
    state: str
    steps: int
    handle: int


class _BatchedLoads:
    """The workflows of one claim batch start together: their loads go to Postgres as ONE
    load_steps statement (every load asked for in one turn of the event loop)."""

    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[dict[str, dict[str, Any]]]]] = {}
        self._flushing: set[asyncio.Task[None]] = set()

    async def load(self, store: WorkerStore, execution_id: str) -> dict[str, dict[str, Any]]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, dict[str, Any]]] = loop.create_future()
        if not self._waiting:  # the first of this turn: load them all once the turn is over
            loop.call_soon(self._start_flush, store)
        self._waiting.setdefault(execution_id, []).append(future)
        return await future

    def _start_flush(self, store: WorkerStore) -> None:
        task = asyncio.get_running_loop().create_task(self._flush(store))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self, store: WorkerStore) -> None:
        batch, self._waiting = self._waiting, {}
        try:
            rows = await store.load_steps(list(batch))
        except Exception as exc:  # each waiter decides (an outage is retried, by a new batch)
            for futures in batch.values():
                for f in futures:
                    if not f.done():
                        f.set_exception(exc)
            return
        for futures in batch.values():
            for f in futures:
                if not f.done():
                    f.set_result(rows)


class _BatchedCommits:
    """Steps whose VM runs end in one turn of the event loop commit together, in ONE
    transaction (WorkerStore.commit_steps): under a backlog a claim batch's workflows load
    together, step together and finish together, and one transaction for all of them costs
    less than one each. A step that locks its parent workflow (it finished a child) or created
    tasks claimed by this worker commits on its own. When the batch cannot be stored as a
    whole (a step fenced out, a row Postgres refused), its steps are committed one by one, so
    that each learns its own fate."""

    def __init__(self) -> None:
        self._waiting: list[tuple[StepCommit, asyncio.Future[tuple[str | None, list[Any]]]]] = []
        self._flushing: set[asyncio.Task[None]] = set()

    async def commit(
        self, store: WorkerStore, step: StepCommit, lease: float
    ) -> tuple[str | None, list[dict[str, Any]]]:
        if step.lock_parent is not None or step.claims_tasks:
            return await store.commit_step_claiming(step, lease)
        loop = asyncio.get_running_loop()
        future: asyncio.Future[tuple[str | None, list[Any]]] = loop.create_future()
        if not self._waiting:  # the first of this turn: commit them all once the turn is over
            loop.call_soon(self._start_flush, store, lease)
        self._waiting.append((step, future))
        return await future

    def _start_flush(self, store: WorkerStore, lease: float) -> None:
        task = asyncio.get_running_loop().create_task(self._flush(store, lease))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self, store: WorkerStore, lease: float) -> None:
        batch, self._waiting = self._waiting, []
        try:
            await self._commit(store, lease, batch)
        finally:  # whatever happened (this task cancelled), no waiter is left waiting for ever
            for _, future in batch:
                if not future.done():
                    future.set_exception(RuntimeError("the batched step commit was interrupted"))

    async def _commit(
        self,
        store: WorkerStore,
        lease: float,
        batch: list[tuple[StepCommit, asyncio.Future[tuple[str | None, list[Any]]]]],
    ) -> None:
        if len(batch) > 1:
            try:
                done = await store.commit_steps([step for step, _ in batch], lease)
            except Exception:
                done = None  # one by one below: an outage is met again and retried by each
            if done is not None:
                for (_, future), result in zip(batch, done, strict=True):
                    if not future.done():
                        future.set_result(result)
                return
        for step, future in batch:
            try:
                result = await store.commit_step_claiming(step, lease)
            except Exception as exc:  # each waiter decides (an outage is retried by it)
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)


class _Effects:
    """A step's effects as the parameter arrays of the batched start_step_* statements."""

    def __init__(self, workflow_id: str) -> None:
        self.workflow_id = workflow_id
        self.tasks = step_tasks.empty()
        self.workflows: list[tuple[uuid.UUID, int, str, str]] = []
        self.timers: list[tuple[int, float | None, str | None]] = []
        self.waits: list[tuple[int, str, float | None]] = []
        self._last_id: uuid.UUID | None = None

    def _next_id(self, fresh: uuid.UUID) -> uuid.UUID:
        """`fresh`, or just above the previous id when it is not above it: everything a step
        starts shares one created_at, so the id alone keeps `inspect`'s tree in start order
        (UUIDv7s drawn in the same millisecond are not ordered among themselves)."""
        if self._last_id is not None and fresh <= self._last_id:
            fresh = uuid.UUID(int=self._last_id.int + 1)
        self._last_id = fresh
        return fresh

    def add(self, effect: Any) -> None:
        if isinstance(effect, StartTask):
            self._task(effect)
        elif isinstance(effect, StartWorkflow):
            inputs = _inputs(effect.inputs, f"Workflow.run({effect.name!r}) inputs")
            self.workflows.append((self._next_id(new_id()), effect.handle, effect.name, inputs))
        elif isinstance(effect, StartTimer):
            seconds = None if effect.seconds is None else min(effect.seconds, MAX_DELAY_SECONDS)
            self.timers.append((effect.handle, seconds, effect.until))
        elif isinstance(effect, WaitSignal):
            timeout = None if effect.timeout is None else min(effect.timeout, MAX_DELAY_SECONDS)
            self.waits.append((effect.handle, effect.name, timeout))
        else:
            raise StepFailure("InternalError", f"unknown effect {effect!r}; please report")

    def _task(self, effect: StartTask) -> None:
        o = effect.options
        try:
            # The same validation and parameters as client.tasks.run (one insert path).
            call = client_ops.run_task(
                effect.name,
                effect.inputs,
                queue=o.queue,
                priority=0 if o.priority is None else o.priority,
                delay=o.delay,
                idempotency_key=None,
                retries=o.retries,
                timeout=o.timeout,
                parent_id=self.workflow_id,
            )
        except InvalidInput as exc:
            raise StepFailure("TypeError", f"Task.run({effect.name!r}): {exc}") from None
        p = call.params
        step_tasks.append(
            self.tasks,
            id=self._next_id(p["id"]),
            handle=effect.handle,
            name=p["name"],
            queue=p["queue"],
            priority=p["priority"],
            inputs=p["inputs"],
            max_retries=p["max_retries"],
            timeout=p["timeout"],
            delay=p["delay"],
        )

    def fields(self) -> dict[str, Any]:
        return {
            "tasks": self.tasks if self.tasks["ids"] else None,
            "workflows": self.workflows,
            "timers": self.timers,
            "waits": self.waits,
        }


def _inputs(value: Any, what: str) -> str:
    try:
        return encode_inputs(value, what)
    except InvalidInput as exc:
        raise StepFailure("TypeError", str(exc)) from None


def _json(value: Any, what: str) -> str:
    """JSON text for Postgres: a NUL character or a lone surrogate (a JavaScript string may hold
    "\\uD800" alone) cannot be stored in jsonb, so either fails the workflow with a clear
    message instead of failing every commit of the step."""
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StepFailure("TypeError", f"{what} is not JSON: {exc}") from None
    if "\\u0000" in text:
        raise StepFailure("TypeError", f"{what} holds a string with a NUL character")
    try:
        if not text.isascii():  # only non-ASCII text can hold a surrogate: skip the encoding
            text.encode("utf-8")
    except UnicodeEncodeError as exc:
        lone = text[exc.start : exc.end].encode("unicode_escape").decode("ascii")
        raise StepFailure(
            "TypeError",
            f"{what} holds a string with a lone surrogate ({lone}), which Postgres cannot store",
        ) from None
    return text


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
