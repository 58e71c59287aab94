"""Where a suspended workflow waits and what it holds, read from its saved state.

`describe_suspension(workflow, state)` maps the program counter of the waiting frame back to the
source span of its `await`, lists the handles that `await` waits on, and decodes the variables
visible there, for `rhythm inspect` and the console. Pure: it reads the state, it runs nothing.

Variables come as plain JSON. Values JSON cannot hold are shown as a short description in angle
brackets: `"<undefined>"`, `"<NaN>"`, `"<Infinity>"`, `"<function at line 4>"`,
`"<builtin Math.max>"`, `"<Math>"`, `"<task 'charge' (handle 3): pending>"`,
`"<Promise.all of 3>"`, `"<circular>"`, `"<Date 2024-01-31T12:00:00.000Z>"`; an Error as its own
properties (`{"message": ..., "cause": ...}`), a Map as `{"<Map>": [[key, value], ...]}` and a Set
as `{"<Set>": [value, ...]}`. Variables not initialised yet (a `let` below the `await`)
are left out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from rhythm.core import opcodes as op
from rhythm.core.compiler import CompiledWorkflow
from rhythm.core.jsdate import to_iso_string
from rhythm.core.snapshot import HeapDecoder, check_state
from rhythm.core.values import (
    TDZ,
    UNDEFINED,
    BuiltinFunction,
    Closure,
    Completion,
    DateObject,
    ErrorObject,
    Handle,
    MapObject,
    RegExp,
    Scope,
    SetObject,
    StdObjectRef,
)

#: Leaf handles the runtime settles: what a workflow can wait on.
WAITABLE_KINDS = ("task", "timer", "signal", "workflow")
_MAX_DEPTH = 64  # nesting shown before a value is cut to "<...>"


@dataclass(frozen=True, slots=True)
class Waiting:
    """One handle the `await` waits on: its id (the key of its result), kind and name (the
    task, workflow or signal name; "" for a timer)."""

    handle: int
    kind: str  # "task" | "timer" | "signal" | "workflow"
    name: str

    def to_json(self) -> dict[str, Any]:
        return {"handle": self.handle, "kind": self.kind, "name": self.name}


@dataclass(frozen=True, slots=True)
class Suspension:
    """A suspended workflow: the span of the `await` it stopped at (1-based lines and columns;
    the end is just past the last character), what it waits on, and its visible variables
    (name -> JSON value, outermost scope first; an inner variable hides an outer one)."""

    line: int
    column: int
    end_line: int
    end_column: int
    waiting_on: list[Waiting] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "waiting_on": [w.to_json() for w in self.waiting_on],
            "variables": self.variables,
        }


class SuspensionError(ValueError):
    """The state is not a suspended state of this workflow (message says why)."""


def describe_suspension(workflow: CompiledWorkflow, state: dict[str, Any]) -> Suspension:
    """Describes the suspended `state` of `workflow` (the program it was saved by); raises
    SuspensionError when the state does not belong to that program or is not at an `await`."""
    problem = check_state(workflow, state)
    if problem is not None:
        raise SuspensionError(problem[1])
    try:
        decoder = HeapDecoder(state["heap"])
        frame = state["frames"][-1]
        pc = frame["pc"]
        awaited = decoder.value(state["stack"][-1])
        env = decoder.value(frame["env"])
        # What each async call in progress awaits, by its promise (to see through `await call`).
        calls = {
            id(decoder.value(f["promise"])): decoder.value(f["stack"][-1])
            for f in state.get("fibers", [])
            if "main" not in f
        }
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise SuspensionError(f"the workflow state is damaged: {e!r}") from None
    if not (0 <= pc < len(workflow.instructions)) or workflow.instructions[pc][0] != op.AWAIT:
        raise SuspensionError(f"the workflow state is not stopped at an await (pc {pc})")
    span = workflow.span_of(pc)
    return Suspension(
        line=span.line,
        column=span.column,
        end_line=span.end_line,
        end_column=span.end_column,
        waiting_on=[Waiting(h.id, h.kind, h.name) for h in _unresolved(awaited, [], calls)],
        variables=_variables(workflow, pc, env),
    )


def _unresolved(v: Any, out: list[Handle], calls: dict[int, Any]) -> list[Handle]:
    if type(v) is Handle:
        if v.kind in WAITABLE_KINDS:
            if v.result is None and all(h.id != v.id for h in out):
                out.append(v)
        elif v.result is None and v.kind == "async":
            inner = calls.pop(id(v), None)  # popped: a call is looked into once
            _unresolved(inner, out, calls)
        elif v.result is None:
            for item in v.items:
                _unresolved(item, out, calls)
    return out


def _variables(workflow: CompiledWorkflow, pc: int, env: Scope | None) -> dict[str, Any]:
    scopes: list[list[tuple[str, Any]]] = []  # innermost first
    for names in workflow.await_scopes.get(pc, ()):
        if env is None:
            break
        slots = env.slots
        scopes.append([(name, slots[slot]) for name, slot in names if slot < len(slots)])
        env = env.parent
    out: dict[str, Any] = {}
    shower = _Shower(workflow)
    for scope in reversed(scopes):
        for name, value in scope:
            out.pop(name, None)  # an inner binding hides the outer one, even uninitialised
            if value is not TDZ:
                out[name] = shower.show(value, 0)
    return out


def show(value: Any, workflow: CompiledWorkflow | None = None) -> Any:
    """`value` as plain JSON, with what JSON cannot hold described in angle brackets
    (`workflow`, when given, names the line where a function value was written)."""
    return _Shower(workflow).show(value, 0)


class _Shower:
    def __init__(self, workflow: CompiledWorkflow | None) -> None:
        self.workflow = workflow
        self.seen: set[int] = set()  # arrays and objects on the current path (cycles)

    def show(self, v: Any, depth: int) -> Any:
        t = type(v)
        if t is str or t is bool or v is None:
            return v
        if t is float:
            if math.isnan(v):
                return "<NaN>"
            if math.isinf(v):
                return "<Infinity>" if v > 0 else "<-Infinity>"
            return int(v) if v.is_integer() and abs(v) < 2**53 else v
        if v is UNDEFINED:
            return "<undefined>"
        if t is DateObject:
            return f"<Date {to_iso_string(v.time)}>" if v.time == v.time else "<Invalid Date>"
        if t in (list, dict, ErrorObject, MapObject, SetObject):
            if id(v) in self.seen:
                return "<circular>"
            if depth >= _MAX_DEPTH:
                return "<...>"
            self.seen.add(id(v))
            try:
                if t is list:
                    return [self.show(x, depth + 1) for x in v]
                if t is ErrorObject:
                    return {k: self.show(x, depth + 1) for k, x in v.props.items()}
                if t is MapObject:
                    pairs = [[self.show(x, depth + 1) for x in e] for e in v.data.values()]
                    return {"<Map>": pairs}
                if t is SetObject:
                    return {"<Set>": [self.show(x, depth + 1) for x in v.data.values()]}
                return {k: self.show(x, depth + 1) for k, x in v.items()}
            finally:
                self.seen.discard(id(v))
        if t is Closure:
            if self.workflow is None or not 0 <= v.func < len(self.workflow.functions):
                return "<function>"
            return f"<function at line {self.workflow.functions[v.func].line}>"
        if t is BuiltinFunction:
            return f"<builtin {v.name}>"
        if t is StdObjectRef:
            return f"<{v.name}>"
        if t is RegExp:
            return f"<RegExp /{v.source}/{v.flags}>"
        if t is Handle:
            if v.kind in WAITABLE_KINDS:
                what = f"{v.kind} {v.name!r}" if v.name else v.kind
                status = "pending" if v.result is None else v.result.get("status", "settled")
                return f"<{what} (handle {v.id}): {status}>"
            if v.kind == "async":
                status = "pending" if v.result is None else v.result.get("status", "settled")
                return f"<async call: {status}>"
            return f"<Promise.{v.kind} of {len(v.items)}>"
        if t is Completion:
            return f"<{v.kind} completion>"
        return f"<{t.__name__}>"
