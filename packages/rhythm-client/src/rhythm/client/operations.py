"""Every client operation, written once, without I/O, for Client and AsyncClient to drive.

An operation is a generator (as httpx writes its auth flows): it checks its arguments, then
yields steps and is sent each step's result, and finally returns the operation's value or raises
the error a user sees. The steps:

    Call(query, params, fetch)   one named statement of queries.sql, in its own transaction;
                                 sent its row ("one"), its rows ("all") or None ("none")
    Atomic(calls)                several statements in one transaction; sent the list of results
    Subscribe(execution_id)      start listening for that execution to finish (executions.wait)
    Pause(execution_id, seconds) sleep until it finishes or the seconds pass

A driver (`Client._drive`, `AsyncClient._drive`) runs each step, retrying it while the database
is unreachable (rhythm.client.retrying), and throws a step's error into the generator, which may
handle it (an insert that collides with its own id after a lost reply: it had landed). So the
blocking and the asyncio client differ only in how they run a step, and both stay thin."""

from __future__ import annotations

import json
import time
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias, TypeVar

import psycopg

from rhythm.client import restarting
from rhythm.client import validation as v
from rhythm.client.errors import (
    CannotRestart,
    CannotRetry,
    ExecutionFinished,
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    NotAWorkflow,
    RhythmError,
    SnapshotNotFound,
    UnknownWorkflow,
    WaitTimeout,
)
from rhythm.client.ids import new_id
from rhythm.client.inspection import Inspection, wait_point
from rhythm.client.models import ChildExecution, Execution, Overview
from rhythm.client.retrying import landed_before
from rhythm.client.workflow_files import WorkflowDefinition, store_parameters

T = TypeVar("T")
DEFAULT_QUEUE = "default"
MAX_LIST_LIMIT = 10_000
# executions.wait() trusts NOTIFY, but re-reads the row this often in case one was missed.
WAIT_RECHECK_SECONDS = 5.0


@dataclass(frozen=True)
class Call:
    """A statement to run: the query's name in queries.sql, its parameters, and what to fetch.
    `replay_safe=False` marks a statement that must not run twice (it stores something without
    a client-made key): it runs in an explicit transaction and is sent again only if the
    connection was lost before its COMMIT."""

    query: str
    params: dict[str, Any]
    fetch: Literal["one", "all", "none"] = "one"
    replay_safe: bool = True
    # Seconds to keep retrying through an outage when longer than the client's retry_for.
    patience: float | None = None


def describe(call: Call) -> str:
    """What a statement does, for error messages."""
    if call.query == "send_signal":
        return f"the signal {call.params['name']!r} to {call.params['id']}"
    return f"the statement {call.query}"


@dataclass(frozen=True)
class Atomic:
    """Statements run in one transaction, in order; the operation is sent their results."""

    calls: tuple[Call, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Subscribe:
    """Listen for `execution_id` finishing (before reading its status, so nothing is missed)."""

    execution_id: str
    ready_within: float


@dataclass(frozen=True)
class Pause:
    """Sleep until `execution_id` is reported finished or `seconds` have passed."""

    execution_id: str
    seconds: float


Step: TypeAlias = Call | Atomic | Subscribe | Pause
Operation: TypeAlias = Generator[Step, Any, T]


def run_task(
    name: object,
    inputs: object,
    *,
    queue: object,
    priority: object,
    delay: object,
    idempotency_key: object,
    retries: object,
    timeout: object,
    parent_id: object = None,
) -> Call:
    params = {
        "id": new_id(),
        "type": "task",
        "name": v.check_name(name),
        "queue": v.check_name(DEFAULT_QUEUE if queue is None else queue, "queue"),
        "priority": v.check_int(priority, "priority"),
        "inputs": v.encode_inputs(inputs),
        "delay": v.check_delay(delay),
        "idempotency_key": v.check_key(idempotency_key),
        "max_retries": v.check_retries(retries),
        "timeout": v.check_timeout(timeout),
        "parent_id": None if parent_id is None else v.parse_id(parent_id),
        "version_hash": None,
    }
    simple = params["delay"] is None and params["idempotency_key"] is None
    return Call("enqueue_now" if simple else "enqueue_one", params)


def run_many(
    name: object,
    inputs: object,
    *,
    queue: object,
    priority: object,
    delay: object,
    retries: object,
    timeout: object,
) -> Call:
    if isinstance(inputs, str | bytes) or not isinstance(inputs, Iterable):
        raise InvalidInput(f"run_many expects a list of inputs dicts, got {inputs!r}")
    items = list(inputs)
    encoded = [v.encode_inputs(item, f"inputs[{i}]") for i, item in enumerate(items)]
    return Call(
        "enqueue_many",
        {
            "ids": [new_id() for _ in encoded],
            "inputs": encoded,
            "type": "task",
            "name": v.check_name(name),
            "queue": v.check_name(DEFAULT_QUEUE if queue is None else queue, "queue"),
            "priority": v.check_int(priority, "priority"),
            "delay": v.check_delay(delay),
            "max_retries": v.check_retries(retries),
            "timeout": v.check_timeout(timeout),
        },
    )


# An idempotent enqueue that finds its key taken looks the holder up; should the holder be pruned
# in between, it tries the insert again this many times.
IDEMPOTENT_TRIES = 3


def existing_for_key(call: Call) -> Call:
    """The lookup of the execution holding `call`'s idempotency key (after ON CONFLICT DO NOTHING)."""
    return Call("by_idempotency_key", {"idempotency_key": call.params["idempotency_key"]})


def idempotent_id(row: dict[str, Any], call: Call) -> str:
    """The id of the execution holding the key, if it is the same task or workflow as `call`;
    else IdempotencyConflict naming the key, the holder and what was asked for."""
    p = call.params
    if row["type"] != p["type"] or row["name"] != p["name"]:
        raise IdempotencyConflict(
            p["idempotency_key"], str(row["id"]), row["type"], row["name"], p["type"], p["name"]
        )
    return str(row["id"])


def key_vanished(call: Call) -> RhythmError:
    return RhythmError(
        f"idempotency key {call.params['idempotency_key']!r} kept vanishing while enqueuing "
        "(its execution was deleted concurrently)"
    )


def get(execution_id: object) -> Call:
    return Call("get_execution", {"id": v.parse_id(execution_id)})


def list_executions(
    status: object, name: object, queue: object, limit: object, type: object = None
) -> Call:
    return Call(
        "list_executions",
        {
            "status": v.check_status(status),
            "type": v.check_type(type),
            "name": None if name is None else v.check_name(name),
            "queue": None if queue is None else v.check_name(queue, "queue"),
            "limit": v.check_int(limit, "limit", 1, MAX_LIST_LIMIT),
        },
    )


PRUNE_BATCH = 1000


def prune(older_than: object, statuses: object, batch_size: object) -> Call:
    return Call(
        "prune_executions",
        {
            "older_than": v.check_older_than(older_than),
            "statuses": v.check_prunable(statuses),
            "batch": v.check_int(batch_size, "batch_size", 1, 100_000),
        },
    )


def pruned(row: dict[str, Any] | None) -> int:
    return 0 if row is None else int(row["deleted"])


def check_wait_timeout(timeout: object) -> float | None:
    return v.check_seconds(timeout, "timeout", allow_zero=True)


def execution_or_raise(row: dict[str, Any] | None, execution_id: object) -> Execution:
    if row is None:
        raise ExecutionNotFound(f"no execution with id {execution_id}")
    return Execution.from_row(row)


# ---------------------------------------------------------------- operations (generators)


def enqueue(call: Call) -> Operation[str]:
    """Insert one execution (task or workflow) and return its id. With an idempotency key held
    by the same task or workflow, that execution's id; held by another: IdempotencyConflict."""
    lookup = existing_for_key(call)
    for _ in range(IDEMPOTENT_TRIES):
        try:
            row = yield call
        except psycopg.errors.UniqueViolation as exc:
            if landed_before(exc):  # a retry after the reply to a committed insert was lost
                return str(call.params["id"])
            raise
        if row is not None:
            return str(row["id"])
        # The idempotency key is taken: hand back that execution if it is the same task or
        # workflow, else IdempotencyConflict. (None: it was pruned meanwhile; try again.)
        held = yield lookup
        if held is not None:
            return idempotent_id(held, call)
    raise key_vanished(call)


def enqueue_many(call: Call) -> Operation[list[str]]:
    ids = [str(i) for i in call.params["ids"]]
    if ids:
        try:
            yield replace(call, fetch="none")
        except psycopg.errors.UniqueViolation as exc:
            if not landed_before(exc):  # else: a retry after the batch had committed
                raise
    return ids


def fetch_execution(execution_id: object) -> Operation[Execution]:
    return execution_or_raise((yield get(execution_id)), execution_id)


def fetch_executions(call: Call) -> Operation[list[Execution]]:
    rows = yield replace(call, fetch="all")
    return [Execution.from_row(r) for r in rows]


def overview() -> Operation[Overview]:
    counts, queues, overdue = yield Atomic(
        (
            Call("status_counts", {}, "all"),
            Call("queue_overview", {}, "all"),
            Call("overdue_tasks", {}, "all"),
        )
    )
    return Overview.from_rows(counts, queues, overdue)


def prune_executions(older_than: object, statuses: object, batch_size: object) -> Operation[int]:
    call = prune(older_than, statuses, batch_size)
    total = 0
    while True:
        _, row = yield Atomic((Call("prune_gate", {}, "none"), call))
        deleted = pruned(row)
        total += deleted
        if deleted < call.params["batch"]:
            yield Call("prune_overdue", {})  # what killed workers left in `rhythm status`
            return total


def wait_for(execution_id: object, timeout: object) -> Operation[Execution]:
    """Until the execution has finished (or WaitTimeout): listen first, then read, then sleep
    until told it finished (or WAIT_RECHECK_SECONDS pass, in case a notification was lost)."""
    limit = check_wait_timeout(timeout)
    call = get(execution_id)
    wanted = str(call.params["id"])
    deadline = None if limit is None else time.monotonic() + limit
    yield Subscribe(wanted, ready_within=min(limit or 10.0, 10.0))
    while True:
        # An outage during a wait is more waiting: reads keep trying until the deadline.
        patience = None if deadline is None else deadline - time.monotonic()
        ex = execution_or_raise((yield replace(call, patience=patience)), execution_id)
        if ex.finished:
            return ex
        remaining = WAIT_RECHECK_SECONDS
        if deadline is not None:
            remaining = min(remaining, deadline - time.monotonic())
            if remaining <= 0:
                raise WaitTimeout(
                    f"execution {wanted} did not finish within {limit:g} s (status: {ex.status})"
                )
        yield Pause(wanted, remaining)


def store_definitions(definitions: Sequence[WorkflowDefinition]) -> Operation[None]:
    yield Call("store_workflow_definitions", store_parameters(definitions), "none")


# A tree shown by `inspect` stops after this many descendants (a fan-out of thousands of tasks
# would not fit a terminal anyway).
MAX_CHILDREN = 1000
# cancel_tree cancels what it sees; a step committing at that moment may add children, so it
# runs again until it cancels nothing (each time its own transaction), at most this many times.
CANCEL_ROUNDS = 10


def start_workflow(
    name: object,
    inputs: object,
    *,
    queue: object,
    priority: object,
    idempotency_key: object,
    delay: object,
) -> Operation[str]:
    """Start the latest registered version of workflow `name`."""
    params = {
        "id": new_id(),
        "type": "workflow",
        "name": v.check_name(name, "workflow name"),
        "queue": v.check_name(DEFAULT_QUEUE if queue is None else queue, "queue"),
        "priority": v.check_int(priority, "priority"),
        "inputs": v.encode_inputs(inputs),
        "delay": v.check_delay(delay),
        "idempotency_key": v.check_key(idempotency_key),
    }
    latest = yield Call("latest_workflow_version", {"name": params["name"]})
    if latest is None:
        rows = yield Call("workflow_names", {}, "all")
        raise UnknownWorkflow(params["name"], [r["name"] for r in rows])
    params["version_hash"] = latest["version_hash"]
    return (yield from enqueue(Call("start_workflow", params)))


def send_signal(workflow_id: object, signal_name: object, payload: object) -> Operation[None]:
    execution_id = v.parse_id(workflow_id)
    call = Call(
        "send_signal",
        {
            "id": execution_id,
            "name": v.check_name(signal_name, "signal name"),
            "payload": v.encode_json(payload, "payload"),
        },
        replay_safe=False,  # the signals table has no client-made key: never store one twice
    )
    row = yield call
    if row is None or row["type"] is None:
        raise ExecutionNotFound(f"no execution with id {workflow_id}")
    if row["type"] != "workflow":
        raise NotAWorkflow(
            f"execution {workflow_id} is a {row['type']}, not a workflow: only workflows "
            "receive signals"
        )
    if row["signal_id"] is None:
        raise ExecutionFinished(
            f"workflow {workflow_id} has already finished ({row['status']}); the signal "
            f"{call.params['name']!r} was not delivered"
        )


def cancel_execution(execution_id: object) -> Operation[bool]:
    """Cancel an execution and every unfinished descendant; True if this call cancelled it,
    False if it had already finished."""
    params = {"id": v.parse_id(execution_id)}
    tree = Atomic((Call("cancel_tree_unqueue", params, "none"), Call("cancel_tree", params)))
    _, row = yield tree
    if row is None or row["previous_status"] is None:
        raise ExecutionNotFound(f"no execution with id {execution_id}")
    cancelled = row["previous_status"] in ("pending", "running", "suspended")
    for _ in range(CANCEL_ROUNDS):
        if not row["cancelled"]:
            break
        _, row = yield tree
    return cancelled


def inspect(execution_id: object) -> Operation[Inspection]:
    ex = yield from fetch_execution(execution_id)
    if ex.type != "workflow":
        return Inspection(ex, [])
    rows = yield Call("execution_children", {"id": v.parse_id(ex.id), "limit": MAX_CHILDREN}, "all")
    children = [ChildExecution.from_row(r) for r in rows]
    if ex.status != "suspended":
        return Inspection(ex, children)
    snapshot = yield Call("workflow_snapshot", {"id": v.parse_id(ex.id)})
    if snapshot is None:  # pruned between the two reads
        return Inspection(ex, children, None, "the workflow's snapshot is gone")
    wait, problem = wait_point(
        ex.name, snapshot["version_hash"], snapshot["source"], snapshot["state"]
    )
    return Inspection(ex, children, wait, problem)


def retry_task(execution_id: object) -> Operation[None]:
    """Put a failed task started by a client back in its queue (attempts kept, error cleared);
    CannotRetry says why not otherwise."""
    params = {"id": v.parse_id(execution_id)}
    # Not replay-safe: a second run would find the task pending and call that an error.
    row = yield Call("retry_task", params, replay_safe=False)
    if row is None:
        raise ExecutionNotFound(f"no execution with id {execution_id}")
    if row["retried"]:
        return
    if row["type"] != "task":
        raise CannotRetry(
            f"{execution_id} is a workflow; only a failed task can be retried (restart a "
            "workflow instead)"
        )
    if row["parent_id"] is not None:
        raise CannotRetry(
            f"task {execution_id} was started by workflow {row['parent_id']}, which has its "
            "failure already; retry cannot run it again (restart the workflow instead)"
        )
    raise CannotRetry(f"task {execution_id} is {row['status']}, not failed; nothing to retry")


MAX_STEP = 2**62


def restart_workflow(execution_id: object, from_step: object = None) -> Operation[str]:
    """Start a new execution of a workflow from its kept snapshot of step `from_step` (None: the
    last one kept; 0: from the beginning, with the same inputs), on the same version, linked to
    the original. Returns the new execution's id. See rhythm.client.restarting."""
    original = v.parse_id(execution_id)
    step = None if from_step is None else v.check_int(from_step, "from_step", 0, MAX_STEP)
    source = yield Call("restart_source", {"id": original, "step": step or None})
    if source is None:
        raise ExecutionNotFound(f"no execution with id {execution_id}")
    if source["type"] != "workflow":
        raise NotAWorkflow(
            f"execution {execution_id} is a {source['type']}, not a workflow: only workflows "
            "restart (retry a failed task instead)"
        )
    new = new_id()
    params: dict[str, Any] = {
        "id": new,
        "name": source["name"],
        "queue": source["queue"],
        "priority": source["priority"],
        "inputs": source["inputs"],
        "version_hash": source["version_hash"],
        "restarted_from": original,
        "step": 0,
        "state": None,
        "waiting_on": [],
    }
    statements: list[tuple[str, dict[str, Any]]] = []
    if step != 0:
        if source["step"] is None:
            raise _no_snapshot(str(original), step, source)
        snapshot_step = int(source["step"])
        state = source["state"]
        pending = restarting.pending_handles(state)
        handles = [p.handle for p in pending]
        children, timers = yield Atomic(
            (
                Call("restart_children", {"id": original, "handles": handles}, "all"),
                Call("restart_timers_of", {"id": original, "handles": handles}, "all"),
            )
        )
        plan = restarting.plan_restart(str(original), snapshot_step, pending, children, timers, new)
        statements = plan.statements()
        params.update(
            step=snapshot_step,
            state=json.dumps(state, separators=(",", ":"), ensure_ascii=False),
            waiting_on=list(source["waiting_on"]),
            version_hash=source["snapshot_version"],
        )
    if not source["defined"]:
        raise CannotRestart(
            f"workflow {source['name']!r} version {params['version_hash']} is no longer "
            f"registered, so {execution_id} cannot be restarted on it"
        )
    calls = [Call("restart_workflow", params)]
    calls += [
        Call(name, p, "one" if name == "start_step_tasks" else "none") for name, p in statements
    ]
    try:
        yield Atomic(tuple(calls))
    except psycopg.errors.UniqueViolation as exc:
        if not landed_before(exc):  # else: a retry after the restart had committed
            raise
    return str(new)


def _no_snapshot(original: str, step: int | None, source: dict[str, Any]) -> CannotRestart:
    if source["history_off"] and not source["kept"]:
        return CannotRestart(
            f"no snapshot of workflow {original} is kept: time travel history is off "
            "(rhythm.history = 'off'); restart it from the beginning with from_step=0"
        )
    kept = restarting.describe_kept(source)
    if step is None:
        return SnapshotNotFound(
            f"workflow {original} has no kept snapshot ({kept}: it never suspended, or ran "
            "while history was off); restart it from the beginning with from_step=0"
        )
    return SnapshotNotFound(f"workflow {original} has no kept snapshot of step {step}; {kept}")
