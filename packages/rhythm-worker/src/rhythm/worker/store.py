"""WorkerStore: every statement a worker runs against Postgres, as methods taking plain values.

The worker engine (worker.py) decides when to claim, renew or write; this module decides how:
each method borrows a connection, runs one named statement of queries.sql and returns plain
Python values. Every multi-row statement is its own transaction (connections are in autocommit
mode), so each keeps the lock order documented at the top of queries.sql.

Connections come from the client's AsyncPool (no reconnect backoff: after an outage the next
statement connects again, so the worker resumes as soon as Postgres answers), with its connect
and statement timeouts and TCP keepalives, so no statement can wait forever on a silent network.

Errors: DATABASE_ERRORS. `is_outage` tells an outage (retry the same statement later; this
includes statements a migration made stale) from Postgres refusing the rows themselves
(retrying cannot help)."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.rows import dict_row

from rhythm.client import step_tasks
from rhythm.client.database import CONNECT_TIMEOUT_SECONDS, CONNECTION_KWARGS, Timeouts
from rhythm.client.errors import DatabaseUnavailable
from rhythm.client.pool import AsyncPool
from rhythm.client.queries import query
from rhythm.core.testing import MAX_CHILD_DEPTH  # the same nesting limit as in memory

Connection = psycopg.AsyncConnection[dict[str, Any]]
# Sent first in a transaction that claims, itself, what its own inserts make ready.
HOLD_READY_NOTIFY = "SELECT set_config('rhythm.hold_ready_notify', 'on', true)"
# Every worker connection keeps one plan per statement (`force_generic_plan`): the worker's
# statements find their rows by key (an execution's id, a workflow's inbox, state, ready and
# lease rows; the claim walks the ready queue's index), so one plan serves every run, and a step
# no longer pays for planning its statements again on every run (40% of the server's time in a
# 3-step workflow under a backlog, bench/RESULTS.md). `enable_seqscan` off keeps those plans on
# index paths: a plan made while a table was nearly empty must not scan it sequentially once it
# has grown (only a new ANALYZE would make Postgres plan it again, and autovacuum may be off).
# The URL's `options` win, as for every connection.
WORKER_SETTINGS = (("plan_cache_mode", "force_generic_plan"), ("enable_seqscan", "off"))
# SQLSTATE of rhythm.fenced_out: a step's commit found its attempt fenced out.
FENCED_OUT = "RH001"
# What a store method raises when the database did not do what was asked.
DATABASE_ERRORS = (psycopg.Error, DatabaseUnavailable)


def open_pool(url: str, size: int, statement_timeout: float) -> AsyncPool:
    """The worker's connections: opened on demand, `statement_timeout` on each statement. Its
    statements are prepared on first use (`prepare_threshold` 0): a step's transaction sends
    several, and parsing them again on every step cost more than running them. Their plans are
    kept too (WORKER_SETTINGS)."""
    # Connecting is bounded like a statement: a connection attempt swallowed by a partition
    # must not hold the worker for the client's default 10 s once the network is back.
    connect = min(CONNECT_TIMEOUT_SECONDS, max(2.0, statement_timeout))
    return AsyncPool(
        url,
        Timeouts(connect=connect, statement=statement_timeout, settings=WORKER_SETTINGS),
        size,
        {**CONNECTION_KWARGS, "row_factory": dict_row, "prepare_threshold": 0},
    )


@dataclass(frozen=True)
class Finished:
    """A completed attempt to record: `output` is JSON text."""

    id: str
    attempt: int
    output: str


@dataclass(frozen=True)
class FailedAttempt:
    """A failed attempt to record: `error` is JSON text; `retry_delay` None means no retry."""

    id: str
    attempt: int
    error: str
    retry_delay: float | None


@dataclass(frozen=True)
class EagerClaim:
    """Room to claim, in the transaction that stores task results, the parent workflows those
    results wake (eager resume): at most `limit`, of `queues`, leased for `lease_seconds`."""

    queues: Sequence[str]
    limit: int
    lease_seconds: float
    skip: Sequence[str] = ()  # workflows this worker handed back a moment ago


@dataclass(frozen=True)
class OverdueAttempt:
    """A task attempt past its timeout that could not be stopped and still holds a slot."""

    id: str
    attempt: int
    name: str
    timeout: float | None


class WorkerStore:
    """The queries of one worker (its id is part of every lease it takes or renews)."""

    def __init__(self, pool: AsyncPool, worker_id: str) -> None:
        self.pool = pool
        self.worker_id = worker_id

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """A pooled connection for one statement (or one transaction). After an outage the
        idle connections are dropped: they broke with the one that failed (or their prepared
        statements went stale with it, and a fresh connection prepares them again)."""
        try:
            async with self.pool.connection() as conn:
                yield conn
        except DATABASE_ERRORS as exc:
            if is_outage(exc):
                await self.pool.discard_idle()
            raise

    async def claim(
        self, queues: Sequence[str], limit: int, lease_seconds: float, skip: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        """Up to `limit` ready executions of `queues`, now running and leased to this worker;
        never the ids in `skip`. Rows carry `inputs` as JSON text: decoding is the caller's,
        one row at a time."""
        params = {
            "queues": list(queues),
            "limit": limit,
            "worker_id": self.worker_id,
            "lease_seconds": lease_seconds,
            "skip": [uuid.UUID(i) for i in skip],
        }
        async with self.connection() as conn:
            return await (await conn.execute(query("claim"), params)).fetchall()

    async def promote(self, limit: int) -> tuple[int, float | None]:
        """Move due scheduled work to the ready queue: (how many, seconds until the next is due)."""
        async with self.connection() as conn:
            cur = await conn.execute(query("promote_scheduled"), {"limit": limit})
            row = await cur.fetchone()
        assert row is not None
        return int(row["promoted"]), row["next_due_in"]

    async def complete(self, done: Sequence[Finished]) -> set[str]:
        """Store outputs; returns the ids actually completed (others were fenced out)."""
        return (await self.complete_claiming(done, None))[0]

    async def complete_claiming(
        self, done: Sequence[Finished], eager: EagerClaim | None
    ) -> tuple[set[str], list[dict[str, Any]]]:
        """`complete`, and with `eager` claim the parent workflows it wakes in the same
        transaction (claim_woken): (ids completed, claimed rows as `claim` returns them)."""
        params = {
            "ids": [uuid.UUID(d.id) for d in done],
            "attempts": [d.attempt for d in done],
            "outputs": [d.output for d in done],
        }
        return await self._finish("complete", params, eager)

    async def fail(self, failed: Sequence[FailedAttempt]) -> set[str]:
        """Store failed attempts (retried later or failed for good); returns the ids changed."""
        return (await self.fail_claiming(failed, None))[0]

    async def fail_claiming(
        self, failed: Sequence[FailedAttempt], eager: EagerClaim | None
    ) -> tuple[set[str], list[dict[str, Any]]]:
        """`fail`, and with `eager` claim the parent workflows its final failures wake."""
        params = {
            "ids": [uuid.UUID(f.id) for f in failed],
            "attempts": [f.attempt for f in failed],
            "errors": [f.error for f in failed],
            "retry_delays": [f.retry_delay for f in failed],
        }
        return await self._finish("fail", params, eager)

    async def _finish(
        self, name: str, params: dict[str, Any], eager: EagerClaim | None
    ) -> tuple[set[str], list[dict[str, Any]]]:
        if eager is None or eager.limit < 1:
            async with self.connection() as conn:
                rows = await (await conn.execute(query(name), params)).fetchall()
            return {str(r["id"]) for r in rows}, []
        # One transaction, one round trip: hold back the NOTIFY of the parents' ready rows,
        # store the results, claim the woken parents, announce the ones left in the queue.
        children = {"ids": params["ids"], "attempts": params["attempts"]}
        claim = {
            **children,
            "queues": list(eager.queues),
            "limit": eager.limit,
            "worker_id": self.worker_id,
            "lease_seconds": eager.lease_seconds,
            "skip": [uuid.UUID(i) for i in eager.skip],
        }
        async with self.connection() as conn:
            async with conn.pipeline(), conn.transaction():
                await conn.execute(HOLD_READY_NOTIFY)
                stored = await conn.execute(query(name), params)
                claimed = await conn.execute(query("claim_woken"), claim)
                await conn.execute(query("notify_left_ready"), children)
            rows = await stored.fetchall()
            woken = await claimed.fetchall()
        return {str(r["id"]) for r in rows}, woken

    async def release(self, held: Sequence[tuple[str, int]]) -> set[str]:
        """Hand (id, attempt) pairs back to the ready queue, attempt not counted."""
        params = {
            "ids": [uuid.UUID(i) for i, _ in held],
            "attempts": [a for _, a in held],
        }
        async with self.connection() as conn:
            rows = await (await conn.execute(query("release"), params)).fetchall()
        return {str(r["execution_id"]) for r in rows}

    async def hand_back(self, execution_id: str, attempt: int, note: str) -> bool:
        """Hand a workflow this worker cannot resume back to the ready queue, attempt not
        counted, with `note` (JSON text) as its error; False when fenced out."""
        params = {"id": uuid.UUID(execution_id), "attempt": attempt, "note": note}
        async with self.connection() as conn:
            rows = await (await conn.execute(query("hand_back"), params)).fetchall()
        return bool(rows)

    async def renew(
        self, held: Sequence[tuple[str, int]], lease_seconds: float
    ) -> set[tuple[str, int]]:
        """Extend the leases of the (id, attempt) pairs this worker runs; returns those it still
        holds. Leases it does not know it holds (a claim whose reply was lost) are left to lapse."""
        params = {
            "worker_id": self.worker_id,
            "lease_seconds": lease_seconds,
            "ids": [uuid.UUID(i) for i, _ in held],
            "attempts": [a for _, a in held],
        }
        async with self.connection() as conn:
            rows = await (await conn.execute(query("renew_leases"), params)).fetchall()
        return {(str(r["execution_id"]), int(r["attempt"])) for r in rows}

    async def reap(self, lost_worker_retries: int) -> int:
        """Requeue (or fail) work whose lease lapsed; returns how many executions it changed."""
        params = {"lost_worker_retries": lost_worker_retries}
        async with self.connection() as conn:
            row = await (await conn.execute(query("reap_expired_leases"), params)).fetchone()
        return 0 if row is None else int(row["count"])

    async def sync_overdue(
        self, overdue: Sequence[OverdueAttempt], lease_seconds: float
    ) -> tuple[int, int, int]:
        """Make this worker's rows of rhythm.overdue exactly `overdue`, each expiring in
        `lease_seconds`, and delete other workers' expired rows: (reported, returned, expired)."""
        params = {
            "worker_id": self.worker_id,
            "lease_seconds": lease_seconds,
            "ids": [uuid.UUID(o.id) for o in overdue],
            "attempts": [o.attempt for o in overdue],
            "names": [o.name for o in overdue],
            "timeouts": [o.timeout for o in overdue],
        }
        async with self.connection() as conn:
            row = await (await conn.execute(query("sync_overdue"), params)).fetchone()
        assert row is not None
        return int(row["reported"]), int(row["returned"]), int(row["expired"])

    # ------------------------------------------------------------ workflow steps

    async def load_steps(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """What each claimed workflow needs for its step (load_steps: rhythm.step_data), by
        execution id: name, version_hash, source, inputs, state (None before the first step),
        results as [[handle, result], ...] in arrival order. A workflow that is gone is left
        out."""
        async with self.connection() as conn:
            cur = await conn.execute(query("load_steps"), {"ids": [uuid.UUID(i) for i in ids]})
            rows = await cur.fetchall()
        return {r["step"]["id"]: r["step"] for r in rows}

    async def commit_step(self, step: StepCommit) -> str | None:
        """Commit one step (see commit_step_claiming); returns the workflow's new status, or None
        when the attempt was fenced out."""
        return (await self.commit_step_claiming(step, 30.0))[0]

    async def commit_step_claiming(
        self, step: StepCommit, lease_seconds: float
    ) -> tuple[str | None, list[dict[str, Any]]]:
        """Commit one step in ONE transaction, pipelined into one round trip with its BEGIN and
        COMMIT: lock_steps_or_fail (which aborts the transaction if the attempt was fenced
        out), the effects (one batched statement per kind), finish_steps. Returns the
        workflow's new status, or None when the attempt was fenced out (then nothing of the step
        is stored), and the tasks the step created already claimed by this worker (eager
        dispatch: the `eager` flags of step.tasks), leased for `lease_seconds`, as `claim`
        returns rows."""
        done = await self._commit([step], lease_seconds)
        return (None, []) if done is None else done[0]

    async def commit_steps(
        self, steps: Sequence[StepCommit], lease_seconds: float
    ) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        """Commit several steps in ONE transaction sent in one round trip, with as many
        statements as one step takes: lock_steps_or_fail for every workflow (the lock order's
        place 2, all up front, in id order), the tasks of all of them in one start_step_tasks,
        each step's other effects, finish_steps for all of them. Only for steps that lock no
        parent (`lock_parent` None: finishing touches nothing but the workflows' own rows and
        fresh ones). Returns each step's (status, claimed) as commit_step_claiming does, in the
        order given; None when any of them was fenced out: then nothing was stored, and the
        caller commits them one by one, each learning its own fate."""
        if any(step.lock_parent is not None for step in steps):
            raise ValueError("commit_steps takes only steps that lock no parent workflow")
        return await self._commit(steps, lease_seconds)

    async def _commit(
        self, steps: Sequence[StepCommit], lease_seconds: float
    ) -> list[tuple[str | None, list[dict[str, Any]]]] | None:
        """The transaction of commit_steps (and of commit_step_claiming: one step, whose lock
        also takes the parent it tells, in id order with it); None when a step was fenced
        out."""
        ordered = sorted(steps, key=lambda step: step.id)
        lock = {
            "ids": [uuid.UUID(step.id) for step in ordered],
            "attempts": [step.attempt for step in ordered],
            "parents": [uuid.UUID(s.lock_parent) for s in ordered if s.lock_parent is not None],
        }
        try:
            async with self.connection() as conn:
                async with conn.pipeline(), conn.transaction():
                    await conn.execute(query("lock_steps_or_fail"), lock)
                    tasks, finish = await self._send_steps(conn, ordered, lease_seconds)
                statuses = {str(r["id"]): str(r["status"]) for r in await finish.fetchall()}
                claimed: dict[str, list[dict[str, Any]]] = {}
                for row in await tasks.fetchall() if tasks is not None else []:
                    claimed.setdefault(str(row["parent_id"]), []).append(row)
        except psycopg.Error as exc:
            if exc.sqlstate == FENCED_OUT:
                return None  # nothing was stored
            raise
        return [(statuses.get(step.id), claimed.get(step.id, [])) for step in steps]

    async def chain_step(
        self, done: Finished, chained: ChainedStep, step: StepCommit, lease_seconds: float
    ) -> tuple[str, list[dict[str, Any]]] | None:
        """Eager continuation: store one task's result and commit its parent workflow's next
        step (computed before, from the snapshot `chained` describes) in ONE transaction sent
        in one round trip: complete, claim_chained_step, the step's effects, finish_steps.
        Returns the workflow's new status and the tasks the step created already claimed by
        this worker (as commit_step_claiming), or None when the parent was not exactly as the
        step was computed for (then nothing at all is stored: store the result as usual)."""
        if (step.id, step.attempt) != (chained.id, chained.attempt + 1):
            # finish_steps would fence such a step out after the claim: a workflow left running
            # with no lease. Refused before anything is sent.
            raise ValueError(f"step {step.id}/{step.attempt} does not continue {chained}")
        try:
            async with self.connection() as conn:
                async with conn.pipeline(), conn.transaction():
                    await conn.execute(HOLD_READY_NOTIFY)
                    await conn.execute(
                        query("complete"),
                        {
                            "ids": [uuid.UUID(done.id)],
                            "attempts": [done.attempt],
                            "outputs": [done.output],
                        },
                    )
                    await conn.execute(query("claim_chained_step"), chained.params(done))
                    tasks, finish = await self._send_steps(conn, [step], lease_seconds)
                row = await finish.fetchone()
                claimed = await tasks.fetchall() if tasks is not None else []
        except psycopg.Error as exc:
            if exc.sqlstate == FENCED_OUT:
                return None  # rolled back, the task's result with the rest
            raise
        assert row is not None  # claimed at step.attempt (checked above): finish_steps ran
        return str(row["status"]), claimed

    async def _send_steps(
        self, conn: Connection, steps: Sequence[StepCommit], lease_seconds: float
    ) -> tuple[psycopg.AsyncCursor[Any] | None, psycopg.AsyncCursor[Any]]:
        """Queue the steps' effects and finish_steps on a pipeline: the tasks of all of them in
        one start_step_tasks, each step's other effects (one batched statement per kind), then
        finish_steps. Returns the cursors of start_step_tasks (None without tasks) and
        finish_steps."""
        tasks = None
        started = step_tasks.merge([s.task_params() for s in steps if s.tasks])
        if started is not None:
            params = {**started, "worker_id": self.worker_id, "lease_seconds": lease_seconds}
            tasks = await conn.execute(query("start_step_tasks"), params)
        for step in steps:
            for name, params in step.effect_statements():
                await conn.execute(query(name), params)
        rows = [step.finish_row() for step in steps]
        finish = await conn.execute(query("finish_steps"), {"steps": finish_json(rows)})
        return tasks, finish

    async def fire_timers(self, limit: int) -> tuple[int, int, float | None]:
        """Fire due timers into their workflows' inboxes: (delivered, taken, seconds until the
        next timer is due or None)."""
        async with self.connection() as conn:
            row = await (await conn.execute(query("fire_timers"), {"limit": limit})).fetchone()
        assert row is not None
        return int(row["fired"]), int(row["taken"]), row["next_due_in"]


@dataclass(frozen=True)
class ChainedStep:
    """What a step computed ahead of its claim assumes of the parent workflow (see
    claim_chained_step): `attempt` and `steps` as its last commit left them, an inbox holding
    the result of `handle` alone, that of the task whose result is stored with the step."""

    id: str
    attempt: int
    steps: int
    handle: int

    def params(self, done: Finished) -> dict[str, Any]:
        return {
            "id": self.id,
            "attempt": self.attempt,
            "steps": self.steps,
            "handle": self.handle,
            "task_id": done.id,
            "task_attempt": done.attempt,
        }


@dataclass(frozen=True)
class StepCommit:
    """Everything one workflow step stores, as plain values (built by rhythm.worker.stepper).

    `tasks`: parameter arrays for start_step_tasks (already validated like client.tasks.run);
    `workflows`, `timers`, `waits`: (handle, ...) tuples; `status` is 'suspended', 'completed'
    or 'failed'; `state` and `result` are JSON text."""

    id: str
    attempt: int
    parent_id: str | None
    version_hash: str
    status: str
    state: str | None
    waiting_on: list[int]
    consumed: list[int]
    result: str | None
    tasks: dict[str, list[Any]] | None = None
    workflows: list[tuple[uuid.UUID, int, str, str]] = field(default_factory=list)
    timers: list[tuple[int, float | None, str | None]] = field(default_factory=list)
    waits: list[tuple[int, str, float | None]] = field(default_factory=list)

    @property
    def lock_parent(self) -> str | None:
        """A finished step tells the parent workflow: lock it with this one, in id order."""
        return self.parent_id if self.status != "suspended" else None

    @property
    def claims_tasks(self) -> bool:
        """Whether the step creates tasks already claimed by this worker (eager dispatch)."""
        return bool(self.tasks and any(self.tasks.get("eager", ())))

    def task_params(self) -> dict[str, list[Any]]:
        """start_step_tasks' arrays for this step's tasks (`eager`, set by the stepper, marks
        the tasks created already claimed)."""
        assert self.tasks is not None
        count = len(self.tasks["ids"])
        return {
            "eager": [False] * count,
            **self.tasks,
            "parent_ids": [uuid.UUID(self.id)] * count,
        }

    def effect_statements(self) -> list[tuple[str, dict[str, Any]]]:
        """The statements of the step's effects other than its tasks (task_params)."""
        out: list[tuple[str, dict[str, Any]]] = []
        if self.workflows:
            ids, handles, names, inputs = (list(c) for c in zip(*self.workflows, strict=True))
            out.append(
                (
                    "start_step_workflows",
                    {
                        "ids": ids,
                        "handles": handles,
                        "names": names,
                        "inputs": inputs,
                        "parent_id": self.id,
                        "max_depth": MAX_CHILD_DEPTH,
                    },
                )
            )
        if self.timers:
            handles, seconds, untils = (list(c) for c in zip(*self.timers, strict=True))
            out.append(
                (
                    "start_step_timers",
                    {"id": self.id, "handles": handles, "seconds": seconds, "untils": untils},
                )
            )
        if self.waits:
            handles, names, timeouts = (list(c) for c in zip(*self.waits, strict=True))
            out.append(
                (
                    "start_step_waits",
                    {"id": self.id, "handles": handles, "names": names, "timeouts": timeouts},
                )
            )
        return out

    def finish_row(self) -> dict[str, Any]:
        """This step's element of finish_steps' `steps` (state and result stay JSON text)."""
        return {
            "id": self.id,
            "attempt": self.attempt,
            "status": self.status,
            "state": self.state,
            "waiting_on": self.waiting_on,
            "consumed": self.consumed,
            "result": self.result,
            "version_hash": self.version_hash,
        }


def finish_json(rows: list[dict[str, Any]]) -> str:
    """finish_steps' `steps` parameter: ONE JSON text for any number of steps, where arrays of
    eight columns would each be adapted by psycopg element by element."""
    return json.dumps(rows, ensure_ascii=False, separators=(",", ":"))


# SQLSTATE classes worth waiting out: connection exceptions, transaction rollbacks (deadlock,
# serialization), insufficient resources, operator intervention (shutdown), system errors.
_TRANSIENT_CLASSES = frozenset({"08", "40", "53", "57", "58"})
# Postgres will not run a statement prepared before a migration changed the type of a column it
# returns (feature_not_supported): prepared again, on a fresh connection, it runs.
_STALE_PLAN = "cached plan must not change result type"


def is_outage(exc: BaseException) -> bool:
    """Whether retrying the same statement later can succeed (the database or the network was
    away, or a migration made the connections' prepared statements stale: WorkerStore then
    drops its idle connections), as opposed to Postgres refusing the rows themselves."""
    if isinstance(exc, DatabaseUnavailable):
        return True
    if not isinstance(exc, psycopg.Error):
        return False
    state = exc.sqlstate
    if state is None:  # raised by the client side: a lost or unusable connection
        return isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
    if state == "0A000" and _STALE_PLAN in str(exc):
        return True
    return state[:2] in _TRANSIENT_CLASSES
