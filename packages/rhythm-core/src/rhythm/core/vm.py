"""The snapshotting stack machine that runs compiled .flow workflows.

`start(workflow, inputs, context)` and `resume(workflow, state, results, context)` run until the
program completes, fails, or awaits something unresolved, and return a `Step`: the new state
(plain JSON: see `rhythm.core.snapshot`), the effects to persist (tasks, child workflows, timers,
signal waits to start) and the output or error. No I/O, no clock: time comes from `context`."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from rhythm.core import opcodes as op
from rhythm.core import regexp_methods
from rhythm.core.builtins import IMPLEMENTATIONS
from rhythm.core.builtins_objects import construct, instance_of
from rhythm.core.compiler import CompiledWorkflow
from rhythm.core.effects import Effect
from rhythm.core.frames import FatalError, Fiber, Frame
from rhythm.core.jsjson import error_to_json, from_json, to_json
from rhythm.core.snapshot import dump_state, load_state
from rhythm.core.stdlib import GLOBALS, Builtin, StdObject, lookup_member
from rhythm.core.values import (
    TDZ,
    UNDEFINED,
    BuiltinFunction,
    Closure,
    Completion,
    DateObject,
    ErrorObject,
    Handle,
    JSThrow,
    MapObject,
    RegExp,
    Scope,
    SetObject,
    StdObjectRef,
    array_index,
    compare,
    error_from_json,
    js_add,
    js_div,
    js_error,
    js_mod,
    js_pow,
    loose_equals,
    make_error,
    own_keys,
    strict_equals,
    to_boolean,
    to_int32,
    to_number,
    to_primitive,
    to_property_key,
    to_string,
    typeof,
)

DEFAULT_BUDGET = 1_000_000
DEFAULT_MAX_STATE_BYTES = 10 * 1024 * 1024
# Seconds of regular-expression matching one step may spend (instructions do not count the work
# inside a match): a pattern that backtracks without end fails its workflow instead of holding
# the worker. Far beyond what a real pattern takes on a workflow's strings.
DEFAULT_REGEX_SECONDS = 2.0
MAX_CALL_DEPTH = 400
MAX_NATIVE_DEPTH = 60
LEAF_KINDS = ("task", "timer", "signal", "workflow")


@dataclass(slots=True)
class Step:
    """What one run of the VM produced."""

    status: str  # "completed" | "failed" | "suspended"
    state: dict[str, Any] | None
    effects: list[Effect] = field(default_factory=list)
    output: Any = None
    error: Any = None
    waiting_on: list[int] = field(default_factory=list)
    instructions: int = 0  # executed in this step


class _Yield(Exception):
    """The running fiber stopped at an AWAIT (pc left on it); whoever ran it parks it."""


class _Suspend(Exception):
    def __init__(self, waiting_on: list[int]) -> None:
        super().__init__(waiting_on)
        self.waiting_on = waiting_on


def _fail_value(type_: str, message: str) -> dict[str, Any]:
    return {"type": type_, "message": message}


class VM:
    def __init__(
        self,
        workflow: CompiledWorkflow,
        context: dict[str, Any] | None,
        budget: int,
        max_state_bytes: int,
        regex_seconds: float = DEFAULT_REGEX_SECONDS,
    ) -> None:
        self.wf = workflow
        self.code = workflow.instructions
        self.impl = IMPLEMENTATIONS
        self.context: dict[str, Any] = dict(context or {})
        self.budget = budget
        self.max_state_bytes = max_state_bytes
        self.frames: list[Frame] = []
        self.stack: list[Any] = []
        self.inputs: Any = {}
        self.pending: dict[int, Handle] = {}  # unresolved leaf handles by id
        self.next_handle = 1
        self.next_seq = 1
        self.rng = 0
        self.total = 0  # instructions over the whole execution
        self.count = 0  # instructions in this step
        self.regex_seconds = regex_seconds
        self.regex_left = regex_seconds  # of this step's time for regular expressions
        self.effects: list[Effect] = []
        self.native_depth = 0
        self.async_funcs = frozenset(i for i, f in enumerate(workflow.functions) if f.is_async)
        # The top level and the async calls in progress (see `rhythm.core.frames.Fiber`):
        # `waiting` are parked on something unsettled, in the order they parked; `ready` can
        # continue, in the order JavaScript's microtask queue would run them.
        self.main = Fiber(self.frames, self.stack, None)
        self.waiting: list[Fiber] = []
        self.ready: list[Fiber] = []
        # Results of this resume, delivered one at a time by `drive`.
        self.arrived: list[tuple[Handle, dict[str, Any]]] = []
        # Named properties of arrays, by id(array): only match results have them (`index`,
        # `input`, `groups`); the array is kept beside them so its id stays its own.
        self.array_props: dict[int, tuple[list[Any], dict[str, Any]]] = {}

    # ------------------------------------------------------------ stepping

    def step(self) -> Step:
        start = self.count
        try:
            output = self.drive()
        except _Suspend as s:
            return self._suspended(s.waiting_on, start)
        except JSThrow as t:
            return self._finish("failed", None, t.value, start)
        except FatalError as f:
            return self._finish("failed", None, _fail_value(f.type, f.message), start)
        except RecursionError:
            line = self.current_line()
            err = _fail_value("RangeError", f"Maximum call stack size exceeded (line {line})")
            return self._finish("failed", None, err, start)
        except Exception as e:  # a bug of ours: fail this workflow, not the worker running it
            err = _fail_value(
                "InternalError",
                f"{type(e).__name__}: {e} (line {self.current_line()}); please report",
            )
            return self._finish("failed", None, err, start)
        return self._finish("completed", output, None, start)

    def _finish(self, status: str, output: Any, error: Any, start: int) -> Step:
        try:
            out = to_json(output) if status == "completed" else None
            err = error_to_json(error) if status == "failed" else None
        except JSThrow as t:  # e.g. a circular structure as the result
            status, out = "failed", None
            err = error_to_json(t.value)
        except RecursionError:
            status, out = "failed", None
            err = _fail_value("RangeError", "the result is nested too deeply to convert to JSON")
        if status == "failed":
            out = err
        return Step(
            status=status,
            state=None,
            effects=self.effects,
            output=out,
            error=err,
            instructions=self.count - start,
        )

    def _suspended(self, waiting_on: list[int], start: int) -> Step:
        state = dump_state(self)
        size = len(json.dumps(state, separators=(",", ":")))
        if size > self.max_state_bytes:
            err = _fail_value(
                "StateTooLarge",
                f"workflow state is {size} bytes at line {self.current_line()}, over the limit of "
                f"{self.max_state_bytes} bytes; keep large data in task outputs you do not hold",
            )
            return self._finish("failed", None, err, start)
        return Step(
            status="suspended",
            state=state,
            effects=self.effects,
            waiting_on=waiting_on,
            instructions=self.count - start,
        )

    def current_line(self) -> int:
        """The source line of the instruction running now (0 before the first)."""
        if not self.frames:
            return 0
        return self.wf.line_of(self.frames[-1].pc - 1)

    # ------------------------------------------------------------ handles

    def new_handle(self, kind: str, name: str = "", items: list[Any] | None = None) -> Handle:
        h = Handle(id=self.next_handle, kind=kind, name=name, items=items or [])
        self.next_handle += 1
        if kind in LEAF_KINDS:
            self.pending[h.id] = h
        return h

    def apply_results(self, results: dict[Any, Any]) -> None:
        for key, result in results.items():
            try:
                hid = int(key)
            except (TypeError, ValueError):
                raise FatalError(
                    "InvalidResults", f"result key {key!r} is not a handle id"
                ) from None
            h = self.pending.pop(hid, None)
            if h is None:
                continue
            if not isinstance(result, dict) or result.get("status") not in ("completed", "failed"):
                raise FatalError(
                    "InvalidResults",
                    f"result for handle {hid} must be {{'status': 'completed', 'output': ...}} "
                    f"or {{'status': 'failed', 'error': ...}}, got {result!r}",
                )
            if result["status"] == "completed":
                settled = {"status": "completed", "output": from_json(result.get("output"))}
            else:
                error = from_json(result.get("error"))
                if h.kind == "task" and isinstance(error, dict) and "task" not in error:
                    error["task"] = h.name
                settled = {"status": "failed", "error": error_from_json(error)}
            self.arrived.append((h, settled))

    # ------------------------------------------------------------ fibers (async calls)

    def drive(self) -> Any:
        """Runs the fibers until the top level returns (its value) or every fiber waits on
        something unsettled (raises _Suspend). Results that arrived with `resume` are delivered
        one by one, each followed by everything it makes runnable, as a JavaScript event loop
        delivers one settled task per macrotask."""
        main = self.main
        if not self.waiting and not self.arrived:  # a fresh start
            try:
                return self.run()
            except _Yield:
                self.park(main)
        arrived = self.arrived
        while True:
            if not self.ready and arrived:
                h, h.result = arrived.pop(0)
                h.seq = self.next_seq
                self.next_seq += 1
                self.wake()
            while self.ready:
                f = self.ready.pop(0)
                done, value = self.resume_fiber(f)
                if done:
                    return value
            if not arrived:
                break
        self.frames, self.stack = main.frames, main.stack
        out: list[int] = []
        for f in self.waiting:
            self.unresolved_leaves(f.stack[-1], out)
        raise _Suspend(out)

    def park(self, f: Fiber) -> None:
        """`f` stopped at an AWAIT: it continues once what it awaits has settled."""
        if self.settle(f.stack[-1])[0] is None:
            self.waiting.append(f)
        else:
            self.ready.append(f)

    def wake(self) -> None:
        """Moves the waiting fibers whose awaited value has settled to the ready queue."""
        if not self.waiting:
            return
        still: list[Fiber] = []
        for f in self.waiting:
            if self.settle(f.stack[-1])[0] is None:
                still.append(f)
            else:
                self.ready.append(f)
        self.waiting = still

    def start_async(self, fn: Closure, args: list[Any]) -> Handle:
        """Calls async function `fn`: runs it until its first AWAIT, returns its promise."""
        promise = Handle(id=self.next_handle, kind="async")
        self.next_handle += 1
        if self.native_depth >= MAX_NATIVE_DEPTH:
            raise js_error("RangeError", "Maximum call stack size exceeded")
        fiber = Fiber([], [], promise)
        caller_frames, caller_stack = self.frames, self.stack
        self.frames, self.stack = fiber.frames, fiber.stack
        self.native_depth += 1
        try:
            self._push_frame(fn, args, native=True)
            self.run_fiber(fiber)
        finally:
            self.frames, self.stack = caller_frames, caller_stack
            self.native_depth -= 1
        return promise

    def run_fiber(self, f: Fiber) -> tuple[bool, Any]:
        """Runs fiber `f` (already current) until it parks or ends; (True, value) when the
        top level returned `value`."""
        try:
            value = self.run()
        except _Yield:
            self.park(f)
            return False, None
        except JSThrow as t:
            if f.promise is None:
                raise
            self.settle_fiber(f, {"status": "failed", "error": t.value})
            return False, None
        if f.promise is None:
            return True, value
        if type(value) is Handle:  # `return promise`: the call's promise adopts it
            f.stack.append(value)
            self.park(f)
        else:
            self.settle_fiber(f, {"status": "completed", "output": value})
        return False, None

    def settle_fiber(self, f: Fiber, result: dict[str, Any]) -> None:
        f.promise.result = result
        f.promise.seq = self.next_seq
        self.next_seq += 1
        self.wake()

    def resume_fiber(self, f: Fiber) -> tuple[bool, Any]:
        """Continues parked fiber `f` past its AWAIT with the settled result."""
        self.frames, self.stack = f.frames, f.stack
        result, _ = self.settle(f.stack.pop())
        assert result is not None
        if not f.frames:  # it returned a promise, now settled
            self.settle_fiber(f, result)
            return False, None
        f.frames[-1].pc += 1
        if result["status"] == "completed":
            f.stack.append(result["output"])
        else:
            try:
                self._throw(result["error"])
            except JSThrow as t:
                if f.promise is None:
                    raise
                self.settle_fiber(f, {"status": "failed", "error": t.value})
                return False, None
        return self.run_fiber(f)

    def settle(self, v: Any) -> tuple[dict[str, Any] | None, int]:
        """(result, seq) of an awaitable; a plain value is already completed (seq 0)."""
        if type(v) is not Handle:
            return {"status": "completed", "output": v}, 0
        if v.kind in LEAF_KINDS:
            return v.result, v.seq
        if v.result is not None:
            return v.result, v.seq
        settled = [self.settle(x) for x in v.items]
        result: dict[str, Any] | None = None
        done = [(s, i) for i, (r, s) in enumerate(settled) if r is not None]
        kind = v.kind
        if kind == "all":
            failed = [(s, i) for s, i in done if settled[i][0]["status"] == "failed"]  # type: ignore[index]
            if failed:
                result = settled[min(failed)[1]][0]
            elif len(done) == len(settled):
                result = {"status": "completed", "output": [r["output"] for r, _ in settled]}  # type: ignore[index]
        elif kind == "allSettled":
            if len(done) == len(settled):
                out = []
                for r, _ in settled:
                    assert r is not None
                    if r["status"] == "completed":
                        out.append({"status": "fulfilled", "value": r["output"]})
                    else:
                        out.append({"status": "rejected", "reason": r["error"]})
                result = {"status": "completed", "output": out}
        elif kind == "any":
            ok = [(s, i) for s, i in done if settled[i][0]["status"] == "completed"]  # type: ignore[index]
            if ok:
                result = settled[min(ok)[1]][0]
            elif len(done) == len(settled):
                errors = [r["error"] for r, _ in settled]  # type: ignore[index]
                error = make_error("AggregateError", "All promises were rejected", errors=errors)
                result = {"status": "failed", "error": error}
        elif kind == "race" and done:
            result = settled[min(done)[1]][0]
        if result is None:
            return None, 0
        seq = max((s for s, _ in done), default=0)
        v.result, v.seq = result, seq
        return result, seq

    def unresolved_leaves(self, v: Any, out: list[int]) -> list[int]:
        if type(v) is Handle:
            if v.kind in LEAF_KINDS:
                if v.result is None and v.id not in out:
                    out.append(v.id)
            else:
                for x in v.items:
                    self.unresolved_leaves(x, out)
        return out

    # ------------------------------------------------------------ calls

    def call_function(self, fn: Any, args: list[Any]) -> Any:
        """Calls a .flow function from a builtin (array callbacks) and returns its result."""
        t = type(fn)
        if t is BuiltinFunction:
            return self.call_builtin(fn.name, fn.this, args)
        if t is not Closure:
            raise js_error("TypeError", f"{_describe(fn)} is not a function")
        if fn.func in self.async_funcs:
            return self.start_async(fn, args)
        if self.native_depth >= MAX_NATIVE_DEPTH:
            raise js_error("RangeError", "Maximum call stack size exceeded")
        self._push_frame(fn, args, native=True)
        self.native_depth += 1
        try:
            return self.run()
        finally:
            self.native_depth -= 1

    def call_builtin(self, name: str, this: Any, args: list[Any]) -> Any:
        return self.impl[name](self, this, args)

    def _push_frame(self, fn: Closure, args: list[Any], native: bool) -> None:
        if len(self.frames) >= MAX_CALL_DEPTH:
            raise js_error("RangeError", "Maximum call stack size exceeded")
        info = self.wf.functions[fn.func]
        env = Scope([TDZ] * info.nslots, fn.env)
        self.frames.append(Frame(fn.func, info.entry, env, len(self.stack), args, native))

    # ------------------------------------------------------------ control flow helpers

    def _throw(self, value: Any) -> Frame:
        """Unwinds to the nearest handler; returns the frame to continue in."""
        stack = self.stack
        while True:
            frame = self.frames[-1]
            if frame.handlers:
                kind, pc, env, height = frame.handlers.pop()
                frame.env = env
                del stack[height:]
                frame.pc = pc
                stack.append(value if kind == "catch" else Completion("throw", value))
                return frame
            self.frames.pop()
            del stack[frame.base :]
            if frame.native or not self.frames:
                raise JSThrow(value)

    def _return(self, frame: Frame, value: Any) -> tuple[bool, Any]:
        """Returns (True, value) when the native frame finished, else (False, None)."""
        while frame.handlers:
            kind, pc, env, height = frame.handlers.pop()
            if kind == "finally":
                frame.env = env
                del self.stack[height:]
                self.stack.append(Completion("return", value))
                frame.pc = pc
                return False, None
        self.frames.pop()
        del self.stack[frame.base :]
        if frame.native:
            return True, value
        self.stack.append(value)
        return False, None

    def _jump_out(self, frame: Frame, target: int, env: Scope, handler_depth: int) -> None:
        while len(frame.handlers) > handler_depth:
            kind, pc, henv, height = frame.handlers.pop()
            if kind == "finally":
                frame.env = henv
                del self.stack[height:]
                self.stack.append(Completion("jump", float(handler_depth), target, env))
                frame.pc = pc
                return
        frame.env = env
        frame.pc = target

    # ------------------------------------------------------------ the interpreter

    def run(self) -> Any:
        code = self.code
        stack = self.stack
        push = stack.append
        pop = stack.pop
        frame = self.frames[-1]
        budget = self.budget
        count = self.count
        async_funcs = self.async_funcs
        try:
            while True:
                ins = code[frame.pc]
                frame.pc += 1
                count += 1
                if count > budget:
                    self.count = count
                    raise FatalError(
                        "BudgetExceeded",
                        f"the workflow ran {budget} instructions without waiting (line "
                        f"{self.wf.line_of(frame.pc - 1)}): a runaway loop? Raise the budget if "
                        "this is expected.",
                    )
                o = ins[0]
                try:
                    if o == op.LOAD:
                        env = frame.env
                        for _ in range(ins[1]):
                            env = env.parent
                        v = env.slots[ins[2]]
                        if v is TDZ:
                            raise js_error(
                                "ReferenceError", f"Cannot access '{ins[3]}' before initialization"
                            )
                        push(v)
                    elif o == op.CONST:
                        push(ins[1])
                    elif o == op.JUMP_IF_FALSE:
                        v = pop()
                        if not (v if type(v) is bool else to_boolean(v)):
                            frame.pc = ins[1]
                    elif o == op.BINARY:
                        b = pop()
                        a = stack[-1]
                        stack[-1] = self._binary(ins[1], a, b)
                    elif o == op.POP:
                        pop()
                    elif o == op.JUMP:
                        frame.pc = ins[1]
                    elif o == op.STORE:
                        env = frame.env
                        for _ in range(ins[1]):
                            env = env.parent
                        if env.slots[ins[2]] is TDZ:
                            raise js_error(
                                "ReferenceError", f"Cannot access '{ins[3]}' before initialization"
                            )
                        env.slots[ins[2]] = pop()
                    elif o == op.STORE_INIT:
                        env = frame.env
                        for _ in range(ins[1]):
                            env = env.parent
                        env.slots[ins[2]] = pop()
                    elif o == op.DUP:
                        push(stack[-1])
                    elif o == op.GET_PROP:
                        stack[-1] = self.get_prop(stack[-1], ins[1])
                    elif o == op.GET_INDEX:
                        key = pop()
                        obj = stack[-1]
                        if type(obj) is list and type(key) is float:
                            i = int(key) if key.is_integer() else -1
                            stack[-1] = obj[i] if 0 <= i < len(obj) else UNDEFINED
                        else:
                            stack[-1] = self.get_prop(obj, to_property_key(key))
                    elif o == op.UPDATE_VAR:
                        env = frame.env
                        for _ in range(ins[1]):
                            env = env.parent
                        old = env.slots[ins[2]]
                        if old is TDZ:
                            raise js_error(
                                "ReferenceError", f"Cannot access '{ins[5]}' before initialization"
                            )
                        old = old if type(old) is float else to_number(old)
                        new = old + ins[3]
                        env.slots[ins[2]] = new
                        push(new if ins[4] else old)
                    elif o == op.ITER_NEXT:
                        slots = frame.env.slots
                        items = slots[ins[1]]
                        i = slots[ins[2]]
                        if i < len(items):
                            push(items[int(i)])
                            slots[ins[2]] = i + 1
                        else:
                            frame.pc = ins[3]
                    elif o == op.CALL_METHOD:
                        n = ins[2]
                        if n is None:
                            args = pop()
                        elif n:
                            args = stack[-n:]
                            del stack[-n:]
                        else:
                            args = []
                        obj = pop()
                        t = type(obj)
                        if t is list:
                            fn = self.impl.get("array." + ins[1])
                            if fn is None:
                                raise js_error("TypeError", f"array.{ins[1]} is not a function")
                            self.count = count
                            push(fn(self, obj, args))
                            count = self.count
                        elif t is str:
                            fn = self.impl.get("string." + ins[1])
                            if fn is None:
                                raise js_error("TypeError", f"string.{ins[1]} is not a function")
                            push(fn(self, obj, args))
                        else:
                            callee = self.get_prop(obj, ins[1])
                            if type(callee) is Closure:
                                if callee.func in async_funcs:
                                    self.count = count
                                    push(self.start_async(callee, args))
                                    count = self.count
                                else:
                                    self._push_frame(callee, args, native=False)
                                    frame = self.frames[-1]
                            elif type(callee) is BuiltinFunction:
                                self.count = count
                                push(self.call_builtin(callee.name, callee.this, args))
                                count = self.count
                            else:
                                raise js_error(
                                    "TypeError",
                                    f"{_describe_member(obj, ins[1])} is not a function",
                                )
                    elif o == op.CALL_BUILTIN:
                        n = ins[2]
                        if n is None:
                            args = pop()
                        elif n:
                            args = stack[-n:]
                            del stack[-n:]
                        else:
                            args = []
                        self.count = count
                        push(self.impl[ins[1]](self, UNDEFINED, args))
                        count = self.count
                    elif o == op.CALL:
                        n = ins[1]
                        if n is None:
                            args = pop()
                        elif n:
                            args = stack[-n:]
                            del stack[-n:]
                        else:
                            args = []
                        callee = pop()
                        if type(callee) is Closure:
                            if callee.func in async_funcs:
                                self.count = count
                                push(self.start_async(callee, args))
                                count = self.count
                            else:
                                self._push_frame(callee, args, native=False)
                                frame = self.frames[-1]
                        elif type(callee) is BuiltinFunction:
                            self.count = count
                            push(self.call_builtin(callee.name, callee.this, args))
                            count = self.count
                        else:
                            raise js_error("TypeError", f"{_describe(callee)} is not a function")
                    elif o == op.RETURN:
                        done, value = self._return(frame, pop())
                        if done:
                            self.count = count
                            return value
                        frame = self.frames[-1]
                    elif o == op.LOAD_ARG:
                        if ins[2]:
                            push(list(frame.args[ins[1] :]))
                        else:
                            push(frame.args[ins[1]] if ins[1] < len(frame.args) else UNDEFINED)
                    elif o == op.ENTER_SCOPE:
                        frame.env = Scope([TDZ] * ins[1], frame.env)
                    elif o == op.EXIT_SCOPE:
                        frame.env = frame.env.parent  # type: ignore[assignment]
                    elif o == op.COPY_SCOPE:
                        frame.env = Scope(list(frame.env.slots), frame.env.parent)
                    elif o == op.JUMP_IF_TRUE:
                        if to_boolean(pop()):
                            frame.pc = ins[1]
                    elif o == op.AND_JUMP:
                        if to_boolean(stack[-1]):
                            pop()
                        else:
                            frame.pc = ins[1]
                    elif o == op.OR_JUMP:
                        if to_boolean(stack[-1]):
                            frame.pc = ins[1]
                        else:
                            pop()
                    elif o == op.NULLISH_JUMP:
                        if stack[-1] is None or stack[-1] is UNDEFINED:
                            pop()
                        else:
                            frame.pc = ins[1]
                    elif o == op.JUMP_IF_NULLISH:
                        if stack[-1] is None or stack[-1] is UNDEFINED:
                            stack[-1] = UNDEFINED
                            frame.pc = ins[1]
                    elif o == op.JUMP_IF_NOT_UNDEFINED:
                        if stack[-1] is not UNDEFINED:
                            frame.pc = ins[1]
                    elif o == op.DUP2:
                        stack.extend(stack[-2:])
                    elif o == op.DROP_UNDER:
                        top = pop()
                        del stack[-ins[1] :]
                        push(top)
                    elif o == op.LOAD_GLOBAL:
                        push(self.load_global(ins[1]))
                    elif o == op.GLOBAL_MEMBER:
                        push(self.get_prop(StdObjectRef(ins[1]), ins[2]))
                    elif o == op.JUMP_OUT:
                        env = frame.env
                        for _ in range(ins[2]):
                            env = env.parent
                        del stack[frame.base :]
                        self._jump_out(frame, ins[1], env, ins[3])
                    elif o == op.ARRAY:
                        n = ins[1]
                        if n:
                            items = stack[-n:]
                            del stack[-n:]
                            push(items)
                        else:
                            push([])
                    elif o == op.ARRAY_PUSH:
                        v = pop()
                        stack[-1].append(v)
                    elif o == op.ARRAY_SPREAD:
                        v = pop()
                        stack[-1].extend(self.iterate(v))
                    elif o == op.OBJECT:
                        push({})
                    elif o == op.DEFINE_PROP:
                        v = pop()
                        stack[-1][ins[1]] = v
                    elif o == op.DEFINE_INDEX:
                        v = pop()
                        key = to_property_key(pop())
                        stack[-1][key] = v
                    elif o == op.OBJECT_SPREAD:
                        v = pop()
                        target = stack[-1]
                        for k in self.enumerable_keys(v):
                            target[k] = self.get_prop(v, k)
                    elif o == op.OBJECT_REST:
                        v = pop()
                        skip = set(ins[1])
                        push(
                            {
                                k: self.get_prop(v, k)
                                for k in self.enumerable_keys(v)
                                if k not in skip
                            }
                        )
                    elif o == op.REQUIRE_OBJECT:
                        if stack[-1] is None or stack[-1] is UNDEFINED:
                            raise js_error(
                                "TypeError", f"Cannot destructure '{to_string(stack[-1])}'"
                            )
                    elif o == op.SLICE_FROM:
                        stack[-1] = list(stack[-1][ins[1] :])
                    elif o == op.SET_PROP:
                        v = pop()
                        self.set_prop(pop(), ins[1], v)
                        push(v)
                    elif o == op.SET_INDEX:
                        v = pop()
                        key = pop()
                        obj = pop()
                        if (
                            type(obj) is list
                            and type(key) is float
                            and key.is_integer()
                            and key >= 0
                        ):
                            self.set_array_index(obj, int(key), v)
                        else:
                            self.set_prop(obj, to_property_key(key), v)
                        push(v)
                    elif o == op.UPDATE_PROP:
                        obj = pop()
                        old = to_number(self.get_prop(obj, ins[1]))
                        new = old + ins[2]
                        self.set_prop(obj, ins[1], new)
                        push(new if ins[3] else old)
                    elif o == op.UPDATE_INDEX:
                        key = to_property_key(pop())
                        obj = pop()
                        old = to_number(self.get_prop(obj, key))
                        new = old + ins[1]
                        self.set_prop(obj, key, new)
                        push(new if ins[2] else old)
                    elif o == op.CLOSURE:
                        push(Closure(ins[1], frame.env))
                    elif o == op.THROW:
                        raise JSThrow(pop())
                    elif o == op.THROW_ERROR:
                        raise js_error(ins[1], ins[2])
                    elif o == op.PUSH_HANDLER:
                        frame.handlers.append([ins[1], ins[2], frame.env, len(stack)])
                    elif o == op.POP_HANDLER:
                        frame.handlers.pop()
                    elif o == op.END_FINALLY:
                        c = pop()
                        kind = c.kind
                        if kind == "throw":
                            raise JSThrow(c.value)
                        if kind == "return":
                            done, value = self._return(frame, c.value)
                            if done:
                                self.count = count
                                return value
                            frame = self.frames[-1]
                        elif kind == "jump":
                            self._jump_out(frame, c.target, c.env, int(c.value))
                    elif o == op.UNARY:
                        stack[-1] = _unary(ins[1], stack[-1])
                    elif o == op.TO_STRING:
                        v = stack[-1]
                        if type(v) is not str:
                            stack[-1] = to_string(v)
                    elif o == op.CONCAT:
                        n = ins[1]
                        s = "".join(stack[-n:])
                        del stack[-n:]
                        self.check_string(s)
                        push(s)
                    elif o == op.AWAIT:
                        v = stack[-1]
                        result, _ = self.settle(v)
                        if len(self.frames) > 1:  # the checker refuses this
                            raise js_error(
                                "SyntaxError", "await is only allowed in async functions"
                            )
                        # An await always lets queued async calls run first (one microtask),
                        # except at the top level when nothing else could run meanwhile.
                        if result is None or self.frames is not self.main.frames or self.ready:
                            frame.pc -= 1  # the fiber continues past it when resumed
                            self.count = count
                            raise _Yield()
                        pop()
                        if result["status"] == "completed":
                            push(result["output"])
                        else:
                            raise JSThrow(result["error"])
                    elif o == op.ITER_VALUES:
                        stack[-1] = self.iterate(stack[-1])
                    elif o == op.ITER_KEYS:
                        stack[-1] = self.enumerable_keys(stack[-1])
                    elif o == op.NEW:
                        n = ins[1]
                        if n is None:
                            args = pop()
                        elif n:
                            args = stack[-n:]
                            del stack[-n:]
                        else:
                            args = []
                        self.count = count
                        stack[-1] = construct(self, stack[-1], args, ins[2])
                        count = self.count
                    elif o == op.DELETE:
                        key = to_property_key(pop())
                        stack[-1] = self.delete_prop(stack[-1], key)
                    else:  # pragma: no cover - the compiler emits no other opcode
                        raise FatalError("InternalError", f"unknown opcode {o}")
                except JSThrow as t:
                    if not t.located:
                        t.located = True
                        line = self.wf.line_of(frame.pc - 1)
                        v = t.value
                        if type(v) is ErrorObject and type(v.props.get("message")) is str:
                            v.props["message"] += f" (line {line})"
                    self.count = count
                    frame = self._throw(t.value)
        finally:
            self.count = count

    # ------------------------------------------------------------ operations

    def _binary(self, o: str, a: Any, b: Any) -> Any:
        if type(a) is float and type(b) is float:
            if o == "+":
                return a + b
            if o == "-":
                return a - b
            if o == "*":
                return a * b
            if o == "<":
                return a < b
            if o == ">":
                return a > b
            if o == "<=":
                return a <= b
            if o == ">=":
                return a >= b
            if o == "===" or o == "==":
                return a == b
            if o == "!==" or o == "!=":
                return a != b
        if o == "+":
            r = js_add(a, b)
            if type(r) is str:
                self.check_string(r)
            return r
        if o == "===":
            return strict_equals(a, b)
        if o == "!==":
            return not strict_equals(a, b)
        if o == "==":
            return loose_equals(a, b)
        if o == "!=":
            return not loose_equals(a, b)
        if o in ("<", ">", "<=", ">="):
            return compare(o, a, b)
        if o == "in":
            return self.has_property(b, a)
        if o == "instanceof":
            return instance_of(a, b)
        x, y = to_number(a), to_number(b)
        if o == "-":
            return x - y
        if o == "*":
            return x * y
        if o == "/":
            return js_div(x, y)
        if o == "%":
            return js_mod(x, y)
        if o == "**":
            return js_pow(x, y)
        if o in _BITWISE:
            a32, b32 = to_int32(x), to_int32(y)
            if o == "&":
                return float(a32 & b32)
            if o == "|":
                return float(a32 | b32)
            if o == "^":
                return float(a32 ^ b32)
            shift = b32 & 31
            if o == "<<":
                return float(to_int32(float((a32 << shift) & 0xFFFFFFFF)))
            if o == ">>":
                return float(a32 >> shift)
            return float((a32 & 0xFFFFFFFF) >> shift)  # >>>
        raise FatalError("InternalError", f"unknown operator {o}")

    def check_string(self, s: str) -> None:
        if len(s) > self.max_state_bytes:
            raise FatalError(
                "ValueTooLarge",
                f"a string of {len(s)} characters at line {self.current_line()} is over the "
                f"limit of {self.max_state_bytes}",
            )

    def load_global(self, name: str) -> Any:
        if name == "Inputs":
            return self.inputs
        entry = GLOBALS.get(name)
        if isinstance(entry, StdObject):
            if entry.constructor is not None:  # `Date`, `Map`: a function with statics
                return BuiltinFunction(name, UNDEFINED)
            return StdObjectRef(name)
        if entry is not None and entry.kind == "property":
            return self.impl[name](self, UNDEFINED, [])
        if entry is not None:
            return BuiltinFunction(name, UNDEFINED)
        raise js_error("ReferenceError", f"{name} is not defined")

    def get_prop(self, obj: Any, key: str) -> Any:
        t = type(obj)
        if t is dict:
            v = obj.get(key, UNDEFINED)
            if v is UNDEFINED and key == "toString" and key not in obj:
                return BuiltinFunction("object.toString", obj)
            return v
        if t is list:
            if key == "length":
                return float(len(obj))
            i = array_index(key)
            if i is not None:
                return obj[i] if i < len(obj) else UNDEFINED
            if "array." + key in self.impl:
                return BuiltinFunction("array." + key, obj)
            props = self.array_props.get(id(obj))
            return UNDEFINED if props is None else props[1].get(key, UNDEFINED)
        if t is str:
            if key == "length":
                return float(len(obj))
            i = array_index(key)
            if i is not None:
                return obj[i] if i < len(obj) else UNDEFINED
            if "string." + key in self.impl:
                return BuiltinFunction("string." + key, obj)
            return UNDEFINED
        if t is float or t is bool:
            name = ("number." if t is float else "boolean.") + key
            return BuiltinFunction(name, obj) if name in self.impl else UNDEFINED
        if obj is UNDEFINED or obj is None:
            raise js_error(
                "TypeError", f"Cannot read properties of {to_string(obj)} (reading '{key}')"
            )
        if t is RegExp:
            return regexp_methods.get_prop(self, obj, key)
        if t is Closure or t is BuiltinFunction:
            return self.function_prop(obj, key)
        if t is StdObjectRef:
            if obj.name == "Inputs":
                return self.get_prop(self.inputs, key)
            member = lookup_member(obj.name, key)
            if member is None:
                return UNDEFINED
            if member.kind == "property":
                return self.impl[member.qualified_name](self, UNDEFINED, [])
            return BuiltinFunction(member.qualified_name, UNDEFINED)
        if t is ErrorObject:
            if key in obj.props:
                return obj.props[key]
            return self._instance_member("error", obj, key)
        if t is DateObject:
            return self._instance_member("date", obj, key)
        if t is MapObject:
            return self._instance_member("map", obj, key)
        if t is SetObject:
            return self._instance_member("set", obj, key)
        return UNDEFINED

    def function_prop(self, fn: Any, key: str) -> Any:
        """`name`, `length` and `toString` of a function (a .flow one or a builtin), and the
        statics of a builtin that is a function too (`Number.isInteger`, `const D = Date;
        D.now()`)."""
        if (
            type(fn) is BuiltinFunction
            and fn.this is UNDEFINED
            and fn.name in GLOBALS
            and lookup_member(fn.name, key) is not None
        ):
            return self.get_prop(StdObjectRef(fn.name), key)
        if key == "toString":
            return BuiltinFunction("function.toString", fn)
        if key == "name":
            return function_name(self.wf, fn)
        if key == "length":
            return function_length(self.wf, fn)
        return UNDEFINED

    def _instance_member(self, owner: str, obj: Any, key: str) -> Any:
        member = lookup_member(owner, key)
        if member is None:
            return UNDEFINED
        if member.kind == "property":
            return self.impl[member.qualified_name](self, obj, [])
        return BuiltinFunction(member.qualified_name, obj)

    def set_array_index(self, arr: list[Any], i: int, v: Any) -> None:
        n = len(arr)
        if 0 <= i < n:
            arr[i] = v
        elif i == n:
            arr.append(v)
        elif n < i < 10_000_000:
            arr.extend([UNDEFINED] * (i - n))
            arr.append(v)
        else:
            raise js_error("RangeError", f"Invalid array index {i}")

    def set_prop(self, obj: Any, key: str, v: Any) -> None:
        t = type(obj)
        if t is dict:
            obj[key] = v
        elif t is list:
            i = array_index(key)
            if i is not None:
                self.set_array_index(obj, i, v)
            elif key == "length":
                n = to_number(v)
                if not (n >= 0 and n.is_integer() and n < 10_000_000):
                    raise js_error("RangeError", "Invalid array length")
                if n < len(obj):
                    del obj[int(n) :]
                else:
                    obj.extend([UNDEFINED] * (int(n) - len(obj)))
            else:
                raise js_error("TypeError", f"Cannot set property '{key}' of an array")
        elif t is ErrorObject:
            obj.props[key] = v  # a new key is enumerable; `message` & co stay hidden
        elif t in _OWNER_OF:
            raise js_error(
                "TypeError",
                f"Cannot create property '{key}' on a {_OWNER_OF[t].capitalize()}: .flow keeps "
                "no properties of their own on Date, Map and Set objects",
            )
        elif t is RegExp:
            regexp_methods.set_prop(obj, key, v)
        elif obj is UNDEFINED or obj is None:
            raise js_error(
                "TypeError", f"Cannot set properties of {to_string(obj)} (setting '{key}')"
            )
        else:
            raise js_error(
                "TypeError", f"Cannot create property '{key}' on {typeof(obj)} {_describe(obj)}"
            )

    def delete_prop(self, obj: Any, key: str) -> bool:
        """`delete obj[key]` in strict mode. An array element becomes undefined (a hole in
        JavaScript; `i in array` stays true here)."""
        t = type(obj)
        if t is dict:
            obj.pop(key, None)
            return True
        if t is ErrorObject:
            obj.props.pop(key, None)
            obj.hidden.discard(key)
            return True
        if obj is UNDEFINED or obj is None:
            raise js_error("TypeError", f"Cannot convert {to_string(obj)} to object")
        if t is list or t is str:
            i = array_index(key)
            if key == "length" or (t is str and i is not None and i < len(obj)):
                raise js_error("TypeError", f"Cannot delete property '{key}' of {_describe(obj)}")
            if t is list and i is not None and i < len(obj):
                obj[i] = UNDEFINED
        return True

    def has_property(self, obj: Any, key: Any) -> bool:
        t = type(obj)
        k = to_property_key(key)
        if t is dict:
            return k in obj
        if t is list:
            i = array_index(k)
            if (i is not None and i < len(obj)) or k == "length" or f"array.{k}" in self.impl:
                return True
            props = self.array_props.get(id(obj))
            return props is not None and k in props[1]
        if t is RegExp:
            return k == "lastIndex" or f"regexp.{k}" in self.impl
        if t is StdObjectRef:
            return lookup_member(obj.name, k) is not None
        if t is ErrorObject:
            return k in obj.props or lookup_member("error", k) is not None
        owner = _OWNER_OF.get(t)
        if owner is not None:
            return lookup_member(owner, k) is not None
        raise js_error(
            "TypeError", f"Cannot use 'in' operator to search for '{k}' in {_describe(obj)}"
        )

    def iterate(self, v: Any) -> list[Any]:
        if type(v) is list:
            return v
        if type(v) is str:
            return list(v)
        if type(v) is MapObject:  # the entries present now (see docs/language.md)
            return [list(e) for e in v.data.values()]
        if type(v) is SetObject:
            return list(v.data.values())
        raise js_error("TypeError", f"{_describe(v)} is not iterable")

    def enumerable_keys(self, v: Any) -> list[str]:
        t = type(v)
        if t is dict:
            return own_keys(v)
        if t is list or t is str:
            keys = [str(i) for i in range(len(v))]
            props = self.array_props.get(id(v)) if t is list else None
            return keys if props is None else keys + list(props[1])
        if t is ErrorObject:
            return [k for k in own_keys(v.props) if k not in v.hidden]
        return []


_BITWISE = frozenset(("&", "|", "^", "<<", ">>", ">>>"))
_OWNER_OF = {DateObject: "date", MapObject: "map", SetObject: "set"}


def _unary(o: str, v: Any) -> Any:
    if o == "-":
        return -(v if type(v) is float else to_number(v))
    if o == "!":
        return not to_boolean(v)
    if o == "+":
        return to_number(v)
    if o == "typeof":
        return typeof(v)
    if o == "~":
        return float(~to_int32(v))
    if o == "void":
        return UNDEFINED
    raise FatalError("InternalError", f"unknown unary operator {o}")


def _describe(v: Any) -> str:
    t = type(v)
    if t is str:
        return json.dumps(v)
    if t is list:
        return "array"
    if t is dict:
        return "object"
    if t is Handle:
        return f"{v.kind} handle"
    if t is StdObjectRef:
        return v.name
    if t is Closure or t is BuiltinFunction:
        return "function"
    return to_string(to_primitive(v)) if t is not Completion else "completion"


def _describe_member(obj: Any, name: str) -> str:
    if type(obj) is StdObjectRef:
        return f"{obj.name}.{name}"
    return f"{_describe(obj)}.{name}"


# ---------------------------------------------------------------- public API


def _seed(context: dict[str, Any]) -> int:
    basis = str(context.get("seed", context.get("executionId", "")))
    return int.from_bytes(hashlib.sha256(basis.encode()).digest()[:8], "big") or 1


def start(
    workflow: CompiledWorkflow,
    inputs: Any = None,
    context: dict[str, Any] | None = None,
    *,
    budget: int = DEFAULT_BUDGET,
    max_state_bytes: int = DEFAULT_MAX_STATE_BYTES,
    regex_seconds: float = DEFAULT_REGEX_SECONDS,
) -> Step:
    """Starts a workflow: runs it from the top until it completes, fails or suspends."""
    vm = VM(workflow, context, budget, max_state_bytes, regex_seconds)
    try:
        vm.inputs = from_json({} if inputs is None else inputs)
    except TypeError as e:
        raise ValueError(f"workflow inputs must be JSON values: {e}") from None
    vm.rng = _seed(vm.context)
    info = workflow.functions[0]
    env = Scope([TDZ] * info.nslots, None)
    vm.frames.append(Frame(0, info.entry, env, 0, [], native=True))
    return vm.step()


def resume(
    workflow: CompiledWorkflow,
    state: dict[str, Any],
    results: dict[Any, Any] | None = None,
    context: dict[str, Any] | None = None,
    *,
    budget: int = DEFAULT_BUDGET,
    max_state_bytes: int = DEFAULT_MAX_STATE_BYTES,
    regex_seconds: float = DEFAULT_REGEX_SECONDS,
) -> Step:
    """Continues a suspended workflow from its JSON `state`, with the `results` (handle id ->
    {"status": "completed", "output": ...} | {"status": "failed", "error": {...}}) that arrived."""
    vm = VM(workflow, None, budget, max_state_bytes, regex_seconds)
    try:
        load_state(vm, state)
        vm.context.update(context or {})
        vm.apply_results(results or {})
    except FatalError as f:
        return Step(
            status="failed",
            state=None,
            output=_fail_value(f.type, f.message),
            error=_fail_value(f.type, f.message),
        )
    return vm.step()


def function_name(wf: CompiledWorkflow, fn: Any) -> str:
    """A function's `name`: what the compiler named a .flow function, a builtin's own name."""
    if type(fn) is Closure:
        return wf.functions[fn.func].js_name
    return fn.name.rsplit(".", 1)[-1]


def function_length(wf: CompiledWorkflow, fn: Any) -> float:
    """A function's `length`: parameters before the first default (a builtin: required ones)."""
    if type(fn) is Closure:
        return float(wf.functions[fn.func].length)
    entry = GLOBALS.get(fn.name)
    if isinstance(entry, StdObject):
        entry = entry.constructor
    else:
        owner, _, member = fn.name.rpartition(".")
        entry = lookup_member(owner, member) if owner else entry
    return float(entry.js_length) if isinstance(entry, Builtin) else 0.0
