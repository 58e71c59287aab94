"""What a workflow step asks the runtime to do, as typed values.

The builtins (`Task.run`, `Workflow.run`, `Timer.delay`/`until`, `Signal.next`/`when`) produce
these; `vm.Step.effects` lists them in the order the workflow ran them; `rhythm.core.testing` and
the worker's stepper consume them. Each effect names the handle whose result the runtime later
passes back to `vm.resume` as `{handle: {"status": "completed", "output": ...}}` or
`{handle: {"status": "failed", "error": {...}}}` (a signal wait that times out fails with an
error of type "Timeout"). This module is a leaf: it imports nothing from the VM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class TaskOptions:
    """`Task.run`'s third argument, checked against `rhythm.core.limits` (None: not given)."""

    queue: str | None = None
    priority: int | None = None
    retries: int | None = None
    timeout: float | None = None  # seconds
    delay: float | None = None  # seconds


@dataclass(frozen=True, slots=True)
class StartTask:
    """Start task `name` with `inputs` (a JSON object)."""

    handle: int
    name: str
    inputs: Any
    options: TaskOptions


@dataclass(frozen=True, slots=True)
class StartWorkflow:
    """Start child workflow `name` (the latest version) with `inputs` (a JSON object)."""

    handle: int
    name: str
    inputs: Any


@dataclass(frozen=True, slots=True)
class StartTimer:
    """Fire after `seconds` (from the step's `now`) or at `until` (ISO 8601, UTC); one is set."""

    handle: int
    seconds: float | None
    until: str | None


@dataclass(frozen=True, slots=True)
class WaitSignal:
    """Deliver the next signal `name` (in the order sent), or fail with a "Timeout" error after
    `timeout` seconds when it is not None."""

    handle: int
    name: str
    timeout: float | None


Effect = StartTask | StartWorkflow | StartTimer | WaitSignal
