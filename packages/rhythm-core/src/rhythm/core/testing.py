"""Run a workflow in memory, for unit tests of .flow files (no database, no workers).

    from rhythm.core.testing import run_workflow

    result = run_workflow(source, inputs={"n": 2}, tasks={"double": lambda i: i["n"] * 2})
    assert result.status == "completed" and result.output == 4

Tasks are Python callables taking the inputs dict; raising fails the task (after its `retries`).
Timers advance a virtual clock instantly; signals arrive at their virtual time. At every suspension
the VM state goes through `json.dumps`/`json.loads` into a fresh VM, as in production."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rhythm.core import vm as _vm
from rhythm.core.compiler import CompiledWorkflow, compile_source
from rhythm.core.effects import Effect, StartTask, StartTimer, StartWorkflow, WaitSignal
from rhythm.core.values import JSThrow

#: Where the virtual clock starts unless `start_time` says otherwise.
DEFAULT_START = datetime(2025, 1, 1, tzinfo=UTC)
MAX_CHILD_DEPTH = 20


@dataclass(slots=True)
class WorkflowResult:
    status: str  # "completed" | "failed"
    output: Any  # the return value; for a failed workflow, its error
    error: Any  # the uncaught error (None when completed)
    suspensions: int  # how many times the workflow suspended (each a JSON round trip)
    tasks: list[tuple[str, Any]] = field(default_factory=list)  # (name, inputs), in start order
    effects: list[Effect] = field(default_factory=list)  # every effect, in order
    elapsed: float = 0.0  # virtual seconds from start to end


@dataclass(slots=True)
class _Signal:
    name: str
    payload: Any
    at: float
    used: bool = False


def _run_coroutine(coro: Any) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    coro.close()
    raise RuntimeError(
        "an async task stand-in cannot run inside a running event loop: call run_workflow "
        "from a plain (non-async) test or pass a plain function"
    )


def _error(type_: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "message": message, **extra}


class _Run:
    def __init__(
        self,
        workflow: CompiledWorkflow,
        tasks: Mapping[str, Callable[[Any], Any]],
        workflows: Mapping[str, str],
        signals: list[_Signal],
        start: datetime,
        execution_id: str,
        name: str,
        budget: int,
        depth: int,
    ) -> None:
        self.wf = workflow
        self.tasks = tasks
        self.workflows = workflows
        self.signals = signals
        self.start = start
        self.execution_id = execution_id
        self.name = name
        self.budget = budget
        self.depth = depth
        self.clock = 0.0  # virtual seconds since start
        self.scheduled: dict[int, tuple[float, dict[str, Any]]] = {}
        self.waits: dict[int, WaitSignal] = {}  # effects of handles that never settle
        self.started: list[tuple[str, Any]] = []
        self.effects: list[Effect] = []
        self.child_counter = 0

    def context(self) -> dict[str, Any]:
        return {
            "executionId": self.execution_id,
            "workflowName": self.name,
            "versionHash": self.wf.version_hash,
            "now": self.start.timestamp() + self.clock,
        }

    # -- effects

    def handle_effects(self, effects: list[Effect]) -> None:
        for effect in effects:
            self.effects.append(effect)
            hid = effect.handle
            if isinstance(effect, StartTask):
                self.scheduled[hid] = self.run_task(effect)
            elif isinstance(effect, StartTimer):
                if effect.seconds is not None:
                    at = self.clock + effect.seconds
                else:
                    assert effect.until is not None
                    when = datetime.fromisoformat(effect.until)
                    at = max(self.clock, (when - self.start).total_seconds())
                self.scheduled[hid] = (at, {"status": "completed", "output": None})
            elif isinstance(effect, WaitSignal):
                self.wait_signal(effect)
            else:
                self.scheduled[hid] = self.run_child(effect)

    def run_task(self, effect: StartTask) -> tuple[float, dict[str, Any]]:
        name, inputs, options = effect.name, effect.inputs, effect.options
        self.started.append((name, inputs))
        at = self.clock + (options.delay or 0.0)
        fn = self.tasks.get(name)
        if fn is None:
            known = ", ".join(sorted(self.tasks)) or "none"
            err = _error(
                "TaskNotFound",
                f"no task named {name!r} was given to run_workflow (tasks given: {known})",
                task=name,
            )
            return at, {"status": "failed", "error": err}
        attempts = 1 + (options.retries or 0)
        last: dict[str, Any] = {}
        for _ in range(attempts):
            try:
                output = fn(json.loads(json.dumps(inputs)))
                if inspect.iscoroutine(output):  # an `async def` stand-in
                    output = _run_coroutine(output)
                output = json.loads(json.dumps(output))
            except Exception as e:
                last = _error(type(e).__name__, str(e), task=name)
                continue
            return at, {"status": "completed", "output": output}
        return at, {"status": "failed", "error": last}

    def wait_signal(self, effect: WaitSignal) -> None:
        hid, name, timeout = effect.handle, effect.name, effect.timeout
        for sig in self.signals:
            if sig.used or sig.name != name:
                continue
            if timeout is None or sig.at <= self.clock + timeout:
                sig.used = True
                at = max(self.clock, sig.at)
                self.scheduled[hid] = (at, {"status": "completed", "output": sig.payload})
                return
            break
        if timeout is not None:
            err = _error("Timeout", f"no signal {name!r} arrived within {timeout:g} seconds")
            self.scheduled[hid] = (self.clock + timeout, {"status": "failed", "error": err})
        else:
            self.waits[hid] = effect

    def run_child(self, effect: StartWorkflow) -> tuple[float, dict[str, Any]]:
        name = effect.name
        source = self.workflows.get(name)
        if source is None:
            known = ", ".join(sorted(self.workflows)) or "none"
            err = _error(
                "WorkflowNotFound",
                f"no workflow named {name!r} was given to run_workflow (workflows given: {known})",
                workflow=name,
            )
            return self.clock, {"status": "failed", "error": err}
        if self.depth >= MAX_CHILD_DEPTH:
            err = _error("WorkflowError", f"child workflows nested deeper than {MAX_CHILD_DEPTH}")
            return self.clock, {"status": "failed", "error": err}
        self.child_counter += 1
        child = run_workflow(
            source,
            effect.inputs,
            tasks=self.tasks,
            workflows=self.workflows,
            start_time=self.start.timestamp() + self.clock,
            execution_id=f"{self.execution_id}.{self.child_counter}",
            name=name,
            budget=self.budget,
            _depth=self.depth + 1,
        )
        self.started.extend(child.tasks)
        at = self.clock + child.elapsed
        if child.status == "completed":
            return at, {"status": "completed", "output": child.output}
        return at, {"status": "failed", "error": child.error}

    def describe(self, hid: int) -> str:
        effect = self.waits.get(hid)
        if effect is None:
            return f"handle {hid}"
        return f"signal {effect.name!r}"

    # -- the loop

    def run(self, inputs: Any) -> WorkflowResult:
        suspensions = 0
        step = _vm.start(self.wf, inputs, self.context(), budget=self.budget)
        self.handle_effects(step.effects)
        while step.status == "suspended":
            suspensions += 1
            state = json.loads(json.dumps(step.state))  # a fresh VM continues from plain JSON
            times = [self.scheduled[h][0] for h in step.waiting_on if h in self.scheduled]
            if not times:
                if step.waiting_on:
                    what = ", ".join(self.describe(h) for h in step.waiting_on)
                    message = (
                        f"the workflow waits forever on {what}: no such signal was given to "
                        "run_workflow (or all were used by earlier waits) and the wait has no "
                        "timeout"
                    )
                else:
                    message = (
                        "the workflow waits on nothing that can settle (an empty Promise.race?)"
                    )
                err = _error("WaitingForever", message)
                return self.result("failed", err, err, suspensions)
            self.clock = max(self.clock, min(times))
            ready = {h: r for h, (t, r) in self.scheduled.items() if t <= self.clock}
            for h in ready:
                del self.scheduled[h]
            step = _vm.resume(self.wf, state, ready, self.context(), budget=self.budget)
            self.handle_effects(step.effects)
        if step.status == "completed":
            return self.result("completed", step.output, None, suspensions)
        return self.result("failed", step.error, step.error, suspensions)

    def result(self, status: str, output: Any, error: Any, suspensions: int) -> WorkflowResult:
        return WorkflowResult(
            status=status,
            output=output,
            error=error,
            suspensions=suspensions,
            tasks=self.started,
            effects=self.effects,
            elapsed=self.clock,
        )


def run_workflow(
    source: str,
    inputs: Any = None,
    tasks: Mapping[str, Callable[[Any], Any]] | None = None,
    workflows: Mapping[str, str] | None = None,
    signals: Iterable[tuple[Any, ...]] | None = None,
    *,
    start_time: datetime | float | None = None,
    execution_id: str = "test-execution",
    name: str = "workflow",
    filename: str | None = None,
    budget: int = _vm.DEFAULT_BUDGET,
    _depth: int = 0,
) -> WorkflowResult:
    """Runs the workflow `source` to its end in memory and returns a WorkflowResult.

    `tasks` maps task names to callables (inputs dict -> JSON value); `workflows` maps child
    workflow names to their source; `signals` is a list of (name, payload) or
    (name, payload, at_seconds) delivered in virtual time. Raises FlowCompileError when the
    source has errors."""
    workflow = compile_source(source, filename or f"{name}.flow")
    if isinstance(start_time, int | float):
        start = datetime.fromtimestamp(start_time, tz=UTC)
    else:
        start = start_time or DEFAULT_START
    sigs: list[_Signal] = []
    for item in signals or ():
        if not isinstance(item, tuple | list) or len(item) not in (2, 3):
            raise ValueError(
                f"each signal must be (name, payload) or (name, payload, at_seconds), got {item!r}"
            )
        at = float(item[2]) if len(item) == 3 else 0.0
        sigs.append(_Signal(str(item[0]), item[1], at))
    sigs.sort(key=lambda s: s.at)  # stable: same-time signals keep their order
    run = _Run(
        workflow,
        tasks or {},
        workflows or {},
        sigs,
        start,
        execution_id,
        name,
        budget,
        _depth,
    )
    try:
        return run.run(inputs)
    except JSThrow as t:  # pragma: no cover - the VM turns these into failed steps
        return run.result("failed", t.value, t.value, 0)
