"""The @task decorator and the registry of task definitions a worker can run."""

from __future__ import annotations

import functools
import importlib
import inspect
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, overload

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class TaskDefinition:
    """What a worker needs to run a task: its function and its defaults."""

    name: str
    fn: Callable[[Any], Any]
    queue: str
    retries: int
    timeout: float | None
    is_async: bool

    @property
    def location(self) -> str:
        return f"{getattr(self.fn, '__module__', '?')}.{getattr(self.fn, '__qualname__', '?')}"


class TaskFunction:
    """What @task returns: still callable like the function it wraps, plus `.definition`."""

    def __init__(self, definition: TaskDefinition) -> None:
        self.definition = definition
        functools.update_wrapper(self, definition.fn)

    @property
    def name(self) -> str:
        return self.definition.name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.definition.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<task {self.definition.name!r} {self.definition.location}>"


# Every @task in every imported module, by name.
REGISTRY: dict[str, TaskDefinition] = {}


def _check(name: object, queue: object, retries: object, timeout: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"@task name must be a non-empty string, got {name!r}")
    if not isinstance(queue, str) or not queue.strip():
        raise ValueError(f"@task queue must be a non-empty string, got {queue!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"@task retries must be an integer >= 0, got {retries!r}")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(f"@task timeout must be a number of seconds > 0, got {timeout!r}")


def define(
    fn: Callable[[Any], Any],
    name: str | None = None,
    queue: str = DEFAULT_QUEUE,
    retries: int = 0,
    timeout: float | None = None,
) -> TaskDefinition:
    if not callable(fn):
        raise TypeError(f"@task must decorate a function, got {fn!r}")
    name = fn.__name__ if name is None else name
    _check(name, queue, retries, timeout)
    return TaskDefinition(
        name=name,
        fn=fn,
        queue=queue,
        retries=retries,
        timeout=None if timeout is None else float(timeout),
        is_async=inspect.iscoroutinefunction(fn),
    )


def _register(definition: TaskDefinition) -> None:
    existing = REGISTRY.get(definition.name)
    if existing is not None and existing.location != definition.location:
        raise ValueError(
            f"task name {definition.name!r} is already used by {existing.location}; "
            f"{definition.location} needs another name"
        )
    REGISTRY[definition.name] = definition


@overload
def task(name: Callable[[Any], Any], /) -> TaskFunction: ...
@overload
def task(
    name: str | None = None,
    /,
    *,
    queue: str = DEFAULT_QUEUE,
    retries: int = 0,
    timeout: float | None = None,
) -> Callable[[Callable[[Any], Any]], TaskFunction]: ...
def task(
    name: str | Callable[[Any], Any] | None = None,
    /,
    *,
    queue: str = DEFAULT_QUEUE,
    retries: int = 0,
    timeout: float | None = None,
    **kwargs: Any,
) -> TaskFunction | Callable[[Callable[[Any], Any]], TaskFunction]:
    """Register a function as a task: `@task`, `@task("send-email", queue=..., retries=3,
    timeout=30)` or `@task(name="send-email")`. The function takes the inputs dict and returns
    something JSON can hold; it may be `async def`."""
    if callable(name):  # bare @task
        definition = define(name)
        _register(definition)
        return TaskFunction(definition)
    unknown = set(kwargs) - {"name"}
    if unknown:
        raise TypeError(f"@task got unexpected argument(s): {', '.join(sorted(unknown))}")
    if name is not None and "name" in kwargs:
        raise TypeError("@task: give the name once, either positionally or as name=")
    chosen = kwargs.get("name", name)

    def decorate(fn: Callable[[Any], Any]) -> TaskFunction:
        definition = define(fn, chosen, queue, retries, timeout)
        _register(definition)
        return TaskFunction(definition)

    return decorate


def collect(items: Iterable[object] | None) -> dict[str, TaskDefinition]:
    """The tasks a Worker runs: from modules (or module names), @task functions, or plain
    functions (registered under their own name). None: every @task imported so far."""
    if items is None:
        return dict(REGISTRY)
    if isinstance(items, str | ModuleType) or callable(items):
        items = [items]
    found: dict[str, TaskDefinition] = {}

    def add(definition: TaskDefinition) -> None:
        other = found.get(definition.name)
        if other is not None and other.location != definition.location:
            raise ValueError(
                f"two tasks are named {definition.name!r}: {other.location} and {definition.location}"
            )
        found[definition.name] = definition

    for item in items:
        if isinstance(item, str):
            try:
                item = importlib.import_module(item)
            except ImportError as exc:
                raise ValueError(f"cannot import task module {item!r}: {exc}") from None
        if isinstance(item, ModuleType):
            defined = [v for v in vars(item).values() if isinstance(v, TaskFunction)]
            if not defined:
                raise ValueError(f"module {item.__name__!r} defines no @task functions")
            for fn in defined:
                add(fn.definition)
        elif isinstance(item, TaskFunction):
            add(item.definition)
        elif callable(item):
            add(define(item))
        else:
            raise TypeError(f"tasks must hold modules or functions, got {item!r}")
    return found
