"""The part of Client and AsyncClient that does no I/O: argument checks, query parameters and
result decoding. Both clients call these and differ only in how they talk to Postgres."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rhythm.client import validation as v
from rhythm.client.errors import (
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    RhythmError,
)
from rhythm.client.ids import new_id
from rhythm.client.models import Execution

DEFAULT_QUEUE = "default"
MAX_LIST_LIMIT = 10_000
# Pool connections: autocommit (every statement is its own transaction) and no server-side
# prepared statements, so every plan is made for the table sizes of the moment (a generic plan
# cached while a table was empty would scan it sequentially forever after).
CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}


@dataclass(frozen=True)
class Call:
    """A statement to run: the query's name in queries.sql and its parameters."""

    query: str
    params: dict[str, Any]


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


def cancel(execution_id: object) -> Call:
    return Call("cancel_execution", {"id": v.parse_id(execution_id)})


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


def cancel_result(row: dict[str, Any] | None, execution_id: object) -> bool:
    if row is None or row["previous_status"] is None:
        raise ExecutionNotFound(f"no execution with id {execution_id}")
    return bool(row["cancelled"])


def ids_in(payload: str) -> set[str]:
    return set(payload.split(",")) if payload else set()
