"""Running one claimed execution and turning what happened into something to store."""

from __future__ import annotations

import asyncio
import json
import math
import traceback
from dataclasses import dataclass
from typing import Any

from rhythm.worker.registry import TaskDefinition
from rhythm.worker.threads import DaemonThreadPool


@dataclass(frozen=True)
class Claimed:
    """A row returned by the claim query: a task or a workflow, leased to this worker."""

    id: str
    type: str  # "task" | "workflow"
    name: str
    queue: str
    inputs: Any
    attempt: int
    max_retries: int | None
    timeout: float | None
    version_hash: str | None = None  # the workflow version a workflow execution runs on

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Claimed:
        return cls(
            id=str(row["id"]),
            type=row["type"],
            name=row["name"],
            queue=row["queue"],
            inputs=row["inputs"],
            attempt=row["attempt"],
            max_retries=row["max_retries"],
            timeout=row["timeout_seconds"],
            version_hash=row["version_hash"],
        )


@dataclass(frozen=True)
class Completed:
    output: str  # JSON text


@dataclass(frozen=True)
class Failed:
    error: dict[str, Any]
    lingering: asyncio.Future[Any] | None = None  # a timed-out sync task's thread, still running


Outcome = Completed | Failed


class TaskProblem(Exception):
    """A failure that is not the task's own exception (unknown name, bad inputs or output)."""


class UnknownTask(TaskProblem):
    """No task of that name is registered in the worker that claimed the execution."""


class InvalidInputs(TaskProblem):
    """The stored inputs are not a JSON object."""


class InvalidOutput(TaskProblem):
    """The task returned something JSON cannot hold."""


def error_of(exc: BaseException) -> dict[str, Any]:
    tb = "".join(traceback.format_exception(exc)) if not isinstance(exc, TaskProblem) else None
    return {"type": type(exc).__name__, "message": str(exc), "traceback": tb}


def encode_output(name: str, value: Any) -> str:
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidOutput(
            f"task {name!r} returned {type(value).__name__} {_short(value)}, which is not JSON: {exc}"
        ) from None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _check_output_text(name: str, text: str) -> str:
    if "\\u0000" in text:
        raise InvalidOutput(
            f"task {name!r} returned a string with a NUL character (JSON in Postgres cannot hold it)"
        )
    return text


async def run_claimed(
    item: Claimed,
    definition: TaskDefinition | None,
    known: list[str],
    threads: DaemonThreadPool,
) -> Completed | Failed:
    """Run the task for `item`; never raises (except CancelledError when the worker cancels it)."""
    timeout = item.timeout if item.timeout is not None else (definition and definition.timeout)
    try:
        if definition is None:
            listed = ", ".join(repr(n) for n in sorted(known)) or "none"
            raise UnknownTask(
                f"no task named {item.name!r} is registered in this worker (it knows: {listed})"
            )
        if not isinstance(item.inputs, dict):
            raise InvalidInputs(
                f"inputs of task {item.name!r} must be a JSON object, got "
                f"{type(item.inputs).__name__} {_short(item.inputs)}"
            )
        if definition.is_async:
            coro = definition.fn(item.inputs)
            if timeout:
                scope = asyncio.timeout(timeout)
                try:
                    async with scope:
                        result = await coro
                except TimeoutError:
                    if scope.expired():
                        raise _timed_out(item.name, timeout) from None
                    raise
            else:
                result = await coro
        else:
            future = threads.submit(definition.fn, item.inputs)
            try:
                result = await asyncio.wait_for(asyncio.shield(future), timeout)
            except TimeoutError:
                if future.done():
                    raise
                # A thread cannot be killed: it runs on, holding its concurrency slot, and
                # whatever it returns is thrown away. The attempt fails now.
                future.add_done_callback(_discard)
                problem = _timed_out(item.name, timeout or 0.0)
                problem.lingering = future
                raise problem from None
        return Completed(_check_output_text(item.name, encode_output(item.name, result)))
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        return Failed(error_of(exc), getattr(exc, "lingering", None))


class TaskTimeout(TaskProblem):
    """The attempt ran past its timeout. For a sync task, `lingering` is its still-busy thread."""

    lingering: asyncio.Future[Any] | None = None


def _timed_out(name: str, timeout: float) -> TaskTimeout:
    shown = f"{timeout:g}" if math.isfinite(timeout) else str(timeout)
    return TaskTimeout(f"task {name!r} did not finish within its timeout of {shown} s")


def _discard(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # mark retrieved: no "exception was never retrieved" noise
