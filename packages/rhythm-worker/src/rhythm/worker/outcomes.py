"""Running one claimed task and turning what happened into something to store.

`run_claimed` never raises (except CancelledError when the worker itself cancels it): whatever
the task returns or raises, even SystemExit, KeyboardInterrupt or an exception whose str()
raises, becomes a Completed or a Failed value that Postgres can hold.

Timeout policy: an async task is cancelled at its timeout and given CANCEL_GRACE seconds to
stop; a sync task's thread cannot be stopped at all. Either way the attempt fails at once with
TaskTimeout; a task that runs on (a thread, or a coroutine that ignores its cancellation) keeps
its concurrency slot until it really ends (`Failed.lingering`), and whatever it returns is
thrown away."""

from __future__ import annotations

import asyncio
import json
import math
import re
import traceback
from dataclasses import dataclass, field
from typing import Any

from rhythm.worker.registry import TaskDefinition
from rhythm.worker.threads import DaemonThreadPool

CANCEL_GRACE = 0.5  # seconds an async task has to stop once cancelled at its timeout


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
    parent_id: str | None = None  # the workflow that started this execution, if any
    # A claimed workflow comes with what its step needs (load_steps' row, rhythm.step_data).
    step: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    step_chars: int = 0  # the length of `step`'s JSON text (the stepper runs small ones inline)
    # Why `inputs` could not be decoded (None: decoded fine). Such a row fails on its own.
    undecodable: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Claimed:
        """The claim query returns inputs as JSON text, decoded here one row at a time: a row
        Python cannot decode (a number of 5,000 digits, 3,000 nested arrays) spoils only itself."""
        inputs, undecodable = row["inputs"], None
        if isinstance(inputs, str):
            inputs, undecodable = decode_json(inputs)
        return cls(
            id=str(row["id"]),
            type=row["type"],
            name=row["name"],
            queue=row["queue"],
            inputs=inputs,
            attempt=row["attempt"],
            max_retries=row["max_retries"],
            timeout=row["timeout_seconds"],
            version_hash=row.get("version_hash"),
            parent_id=None if row.get("parent_id") is None else str(row["parent_id"]),
            undecodable=undecodable,
            step=_step_row(row.get("step")),
            step_chars=len(row.get("step") or ""),
        )


def _step_row(text: str | None) -> dict[str, Any] | None:
    """The step data a claim returned as JSON text; None (load it instead) if there is none or
    Python cannot decode it."""
    if text is None:
        return None
    value, _ = decode_json(text)
    return value if isinstance(value, dict) else None


def decode_json(text: str) -> tuple[Any, str | None]:
    """(value, None), or (None, the reason) when Python cannot decode the text."""
    try:
        return json.loads(text), None
    except RecursionError:
        return None, "it is nested too deeply"
    except ValueError as exc:
        return None, one_line(safe_str(exc))


@dataclass(frozen=True)
class Completed:
    output: str  # JSON text


@dataclass(frozen=True)
class Failed:
    error: dict[str, Any]
    # A task still running after its attempt failed (a sync task's thread, or a coroutine that
    # ignored its cancellation): it holds its slot until this future is done.
    lingering: asyncio.Future[Any] | None = None


Outcome = Completed | Failed


@dataclass(frozen=True)
class Started:
    """What a runner hands back instead of an outcome when its own commit claimed more work for
    this worker (a workflow step that created its tasks already claimed: eager dispatch). The
    engine runs `claimed` once the runner's slot is free, in that slot and the `reserved` free
    slots set aside for them before the commit (given back then)."""

    claimed: list[Claimed]
    reserved: int


class TaskProblem(Exception):
    """A failure that is not the task's own exception (unknown name, bad inputs or output)."""


class UnknownTask(TaskProblem):
    """No task of that name is registered in the worker that claimed the execution."""


class InvalidInputs(TaskProblem):
    """The stored inputs are not a JSON object, or Python cannot decode them."""


class InvalidOutput(TaskProblem):
    """The task returned something JSON (or Postgres' JSON) cannot hold."""


class TaskTimeout(TaskProblem):
    """The attempt ran past its timeout. `lingering`: the task, still running."""

    lingering: asyncio.Future[Any] | None = None


class TaskExit(Exception):
    """Carries SystemExit, KeyboardInterrupt or a self-raised CancelledError out of a task."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(original)
        self.original = original


def safe_str(exc: BaseException) -> str:
    """str(exc), or a description when its __str__ raises."""
    try:
        return str(exc)
    except Exception as problem:
        return f"<{type(exc).__name__}: str() raised {type(problem).__name__}: {problem}>"


def one_line(text: str) -> str:
    return " ".join(text.split())


def _traceback(exc: BaseException) -> str | None:
    try:
        return "".join(traceback.format_exception(exc))
    except Exception:  # a broken exception (its __str__, __cause__, ...) broke the formatter
        try:
            frames = traceback.format_tb(exc.__traceback__)
        except Exception:
            return None
        return "Traceback (most recent call last):\n" + "".join(frames) + type(exc).__name__


def error_of(exc: BaseException) -> dict[str, Any]:
    original = exc.original if isinstance(exc, TaskExit) else exc
    kind = type(original).__name__
    if isinstance(original, SystemExit):
        message = f"the task called sys.exit({original.code!r})"
    elif isinstance(original, KeyboardInterrupt | asyncio.CancelledError):
        detail = safe_str(original)
        message = f"the task raised {kind}" + (f": {detail}" if detail else "")
    else:
        message = safe_str(original)
    tb = None if isinstance(original, TaskProblem) else _traceback(original)
    return {"type": kind, "message": message, "traceback": tb}


def encode_output(name: str, value: Any) -> str:
    try:
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidOutput(
            f"task {name!r} returned {type(value).__name__} {_short(value)}, which is not JSON: "
            f"{one_line(safe_str(exc))}"
        ) from None
    return _check_output_text(name, text)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 200 else text[:197] + "..."


# A JSON escape \u0000, i.e. preceded by an even number of backslashes (`C:\\u0000dir` holds a
# backslash followed by the letters u0000, which is legal).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _check_output_text(name: str, text: str) -> str:
    if "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise InvalidOutput(
            f"task {name!r} returned a string with a NUL character (JSON in Postgres cannot hold it)"
        )
    lone = _LONE_SURROGATE.search(text)
    if lone:
        raise InvalidOutput(
            f"task {name!r} returned a string with a lone surrogate \\u{ord(lone[0]):04x} "
            "(not valid Unicode; JSON in Postgres cannot hold it)"
        )
    return text


def storable(value: Any) -> Any:
    """`value` with every string made storable in Postgres JSON: NUL shown as \\x00, a lone
    surrogate as \\udxxx. For errors, whose text must be kept rather than refused."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "\\x00")
        if _LONE_SURROGATE.search(value):
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {storable(str(k)): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


async def run_claimed(
    item: Claimed,
    definition: TaskDefinition | None,
    known: list[str],
    threads: DaemonThreadPool,
) -> Outcome:
    """Run the task for `item`; never raises (except CancelledError when the worker cancels it)."""
    timeout = item.timeout if item.timeout is not None else (definition and definition.timeout)
    try:
        if definition is None:
            listed = ", ".join(repr(n) for n in sorted(known)) or "none"
            raise UnknownTask(
                f"no task named {item.name!r} is registered in this worker (it knows: {listed})"
            )
        if item.undecodable is not None:
            raise InvalidInputs(
                f"inputs of task {item.name!r} cannot be decoded in Python: {item.undecodable}"
            )
        if not isinstance(item.inputs, dict):
            raise InvalidInputs(
                f"inputs of task {item.name!r} must be a JSON object, got "
                f"{type(item.inputs).__name__} {_short(item.inputs)}"
            )
        if definition.is_async:
            result = await _run_async(item, definition, timeout or None)
        else:
            result = await _run_sync(item, definition, timeout or None, threads)
        return Completed(encode_output(item.name, result))
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise  # the worker cancelled this attempt (lease lost, shutdown)
        return Failed(error_of(TaskExit(asyncio.CancelledError())))
    except TaskTimeout as exc:
        return Failed(error_of(exc), exc.lingering)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: they fail the task only
        return Failed(error_of(exc))


async def _guarded(coro: Any) -> Any:
    """Await a task's coroutine inside its own asyncio task. asyncio re-raises SystemExit and
    KeyboardInterrupt out of the event loop; wrapped, they fail the task instead."""
    try:
        return await coro
    except asyncio.CancelledError:
        raise
    except (SystemExit, KeyboardInterrupt) as exc:
        raise TaskExit(exc) from None


async def _run_async(item: Claimed, definition: TaskDefinition, timeout: float | None) -> Any:
    if timeout is None:
        # Awaited in place (no task of its own, the cheap common case): SystemExit and
        # KeyboardInterrupt reach run_claimed's handler before the event loop sees them.
        return await definition.fn(item.inputs)
    # With a timeout, in a task of its own: a coroutine that swallows its cancellation cannot
    # hold this attempt past the timeout.
    child = asyncio.ensure_future(_guarded(definition.fn(item.inputs)))
    try:
        done, _ = await asyncio.wait({child}, timeout=timeout)
    except asyncio.CancelledError:
        child.cancel()  # the worker cancelled us: pass it on, do not wait
        child.add_done_callback(_discard)
        raise
    if done:
        try:
            return child.result()
        except asyncio.CancelledError:
            raise TaskExit(asyncio.CancelledError(_cancel_text(child))) from None
        except TaskExit as exc:
            raise exc.original from None
    assert timeout is not None
    child.cancel()
    stopped, _ = await asyncio.wait({child}, timeout=CANCEL_GRACE)
    if stopped:
        child.add_done_callback(_discard)
        raise _timed_out(item.name, timeout)
    problem = _timed_out(item.name, timeout)
    problem.args = (
        f"{problem.args[0]}, and ignored its cancellation: it runs on and keeps its slot until "
        "it returns (its result will be dropped)",
    )
    child.add_done_callback(_discard)
    problem.lingering = child
    raise problem


def _cancel_text(child: asyncio.Future[Any]) -> str:
    try:
        child.result()
    except asyncio.CancelledError as exc:
        return safe_str(exc)
    except BaseException:
        return ""
    return ""


async def _run_sync(
    item: Claimed, definition: TaskDefinition, timeout: float | None, threads: DaemonThreadPool
) -> Any:
    future = threads.submit(definition.fn, item.inputs)
    try:
        async with asyncio.timeout(timeout):
            return await asyncio.shield(future)
    except TimeoutError:
        if future.done():
            raise
    # A thread cannot be killed: it runs on, holding its concurrency slot, and whatever it
    # returns is thrown away. The attempt fails now.
    future.add_done_callback(_discard)
    problem = _timed_out(item.name, timeout or 0.0)
    problem.args = (
        f"{problem.args[0]}; its thread cannot be stopped: it runs on and keeps its slot until "
        "it returns (its result will be dropped)",
    )
    problem.lingering = future
    raise problem


def _timed_out(name: str, timeout: float) -> TaskTimeout:
    shown = f"{timeout:g}" if math.isfinite(timeout) else str(timeout)
    return TaskTimeout(f"task {name!r} did not finish within its timeout of {shown} s")


def _discard(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()  # mark retrieved: no "exception was never retrieved" noise
