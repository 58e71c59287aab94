"""The VM's state as plain JSON, with object identity kept: the durable snapshot format.

A suspended workflow is saved as one JSON object (format 2, or 3 when its heap holds an Error,
Date, Map, Set, RegExp or regex match result: see FORMAT_OBJECTS):

    {"format": 2,                   # this layout; a reader refuses any other
     "version_hash": "<sha256>",    # the workflow source it runs (rhythm.core.versions)
     "fingerprint": "<sha256>",     # the compiled program it runs (program_fingerprint)
     "context": {...},              # executionId, workflowName, versionHash (not `now`)
     "frames": [{"func", "pc", "env", "base", "args", "native", "handlers"}, ...],
     "stack": [...], "inputs": ..., "pending": [[handle, value], ...],
     "next_handle": n, "next_seq": n, "rng": "<hex>", "instructions": n,
     "heap": [...]}

Arrays, objects, scopes, closures, handles and `finally` completions live in the heap (a JSON
list); values refer to them as `{"$r": n}`, so two variables holding the same array still share it
after a round trip, and closures keep their scopes. Objects are stored as [key, value] pairs
because a JSONB column does not keep key order. Other tagged values: `{"$u": 1}` undefined,
`{"$n": "NaN"}` (also "Infinity", "-Infinity", "-0"), `{"$std": "Math"}` a stdlib object,
`{"$tdz": 1}` a binding not initialised yet. Instances of the builtin classes are heap entries
too: an Error `{"E": class, "P": [[key, value], ...], "X": [hidden keys]}`, a Date `{"D": ms}`, a
Map `{"M": [[key, value], ...]}` and a Set `{"S": [value, ...]}` (entries in insertion order; keys
that are objects are references, so a Map keyed by an object finds it after a round trip).

The state holds program counters, scope slots and function indexes of one compiled program, so
it can only be resumed by exactly that program. `fingerprint` hashes everything resuming depends
on: this format's number, every instruction (opcodes by name, with their operands) and the
function table (entry pc and scope size of each function). Upgrade rule: a rhythm-core release
that compiles a source to different instructions, renumbers or renames an opcode's meaning, or
changes this layout gives different fingerprints (bump FORMAT for a layout or semantics change
the instructions do not show); `vm.resume` then refuses an older state with the FatalError
"IncompatibleSnapshot" instead of continuing at a wrong instruction (a worker then hands the
workflow back for a worker that can resume it, rhythm.worker.stepper). Let executions finish (or
cancel them) on the rhythm-core that started them before upgrading to such a release; a release
that keeps the instructions keeps every saved state resumable. Golden states under
packages/rhythm-core/tests/golden/ check that today's release still resumes older ones."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rhythm.core.frames import FatalError, Fiber, Frame
from rhythm.core.opcodes import NAMES
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
    map_key,
)

if TYPE_CHECKING:
    from rhythm.core.compiler import CompiledWorkflow, FunctionInfo
    from rhythm.core.vm import VM

FORMAT = 2
# Format 2 plus the heap entries of Error, Date, Map, Set and RegExp objects (`"re"`) and the named
# properties of regex match results (`"x"` beside an array's `"a"`). A state holding none of them
# is still written as format 2 (any rhythm-core that reads format 2 resumes it); one holding them
# is written as format 3, which an older rhythm-core refuses as IncompatibleSnapshot (and hands
# back) rather than failing on an entry it does not know. Programs' fingerprints use FORMAT.
FORMAT_OBJECTS = 3
_READABLE = (FORMAT, FORMAT_OBJECTS)
_OBJECT_TYPES = (ErrorObject, DateObject, MapObject, SetObject, RegExp)


def _operand(v: Any) -> Any:
    if v is UNDEFINED:
        return {"$u": 1}
    if type(v) is Completion:
        return {"$c": v.kind}
    raise TypeError(f"cannot fingerprint an operand of type {type(v).__name__}")


def program_fingerprint(
    instructions: Sequence[tuple[Any, ...]], functions: Sequence[FunctionInfo]
) -> str:
    """SHA-256 hex of what resuming a state of this program depends on (see the module doc)."""
    body = {
        "format": FORMAT,
        "code": [[NAMES[ins[0]], *ins[1:]] for ins in instructions],
        # An async function adds a third element, so programs without one keep their fingerprints.
        "functions": [[f.entry, f.nslots, *([1] if f.is_async else [])] for f in functions],
    }
    text = json.dumps(body, separators=(",", ":"), default=_operand)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_HEAP_TYPES = (
    list,
    dict,
    Scope,
    Closure,
    BuiltinFunction,
    Handle,
    Completion,
    ErrorObject,
    DateObject,
    MapObject,
    SetObject,
    RegExp,
)


class _Encoder:
    def __init__(self, array_props: dict[int, tuple[list[Any], dict[str, Any]]]) -> None:
        self.array_props = array_props  # a match result's index, input and groups
        self.ids: dict[int, int] = {}
        self.heap: list[Any] = []
        self.todo: list[tuple[int, Any]] = []
        self.keep: list[Any] = []  # keeps encoded objects alive so id() stays unique
        self.objects = False  # whether a format 3 object (see FORMAT_OBJECTS) was encoded

    def ref(self, obj: Any) -> dict[str, int] | None:
        if obj is None:
            return None
        return self.value(obj)

    def value(self, v: Any) -> Any:
        t = type(v)
        if t is str or t is bool or v is None:
            return v
        if t is float:
            if v != v:
                return {"$n": "NaN"}
            if v in (math.inf, -math.inf):
                return {"$n": "Infinity" if v > 0 else "-Infinity"}
            if v == 0 and math.copysign(1.0, v) < 0:
                return {"$n": "-0"}
            return v
        if v is UNDEFINED:
            return {"$u": 1}
        if v is TDZ:
            return {"$tdz": 1}
        if t is StdObjectRef:
            return {"$std": v.name}
        if t in _HEAP_TYPES:
            n = self.ids.get(id(v))
            if n is None:
                n = len(self.heap)
                self.ids[id(v)] = n
                self.heap.append(None)
                self.keep.append(v)
                self.todo.append((n, v))
            return {"$r": n}
        if t is int:
            return float(v)
        raise TypeError(f"cannot snapshot a value of type {t.__name__}")

    def drain(self) -> None:
        while self.todo:
            n, v = self.todo.pop()
            self.heap[n] = self.entry(v)

    def entry(self, v: Any) -> dict[str, Any]:
        t = type(v)
        enc = self.value
        if t in _OBJECT_TYPES:
            self.objects = True
        if t is list:
            props = self.array_props.get(id(v))
            if props is not None:
                self.objects = True
                return {"a": [enc(x) for x in v], "x": [[k, enc(x)] for k, x in props[1].items()]}
            return {"a": [enc(x) for x in v]}
        if t is RegExp:
            return {"re": [v.source, v.flags], "li": enc(v.last_index)}
        if t is dict:
            return {"o": [[k, enc(x)] for k, x in v.items()]}
        if t is Scope:
            return {"s": [enc(x) for x in v.slots], "p": self.ref(v.parent)}
        if t is Closure:
            return {"c": v.func, "e": self.ref(v.env)}
        if t is BuiltinFunction:
            return {"f": v.name, "t": enc(v.this)}
        if t is Handle:
            result = None
            if v.result is not None:
                result = {
                    k: (enc(x) if k in ("output", "error") else x) for k, x in v.result.items()
                }
            return {
                "h": v.id,
                "k": v.kind,
                "n": v.name,
                "i": [enc(x) for x in v.items],
                "r": result,
                "q": v.seq,
            }
        if t is ErrorObject:
            return {
                "E": v.cls,
                "P": [[k, enc(x)] for k, x in v.props.items()],
                "X": sorted(v.hidden),
            }
        if t is DateObject:
            return {"D": enc(v.time)}
        if t is MapObject:
            return {"M": [[enc(k), enc(x)] for k, x in v.data.values()]}
        if t is SetObject:
            return {"S": [enc(x) for x in v.data.values()]}
        assert t is Completion
        return {"m": v.kind, "v": enc(v.value), "t": v.target, "e": self.ref(v.env)}


def _dump_frames(e: _Encoder, frames: list[Frame]) -> list[dict[str, Any]]:
    return [
        {
            "func": f.func,
            "pc": f.pc,
            "env": e.value(f.env),
            "base": f.base,
            "args": [e.value(a) for a in f.args],
            "native": f.native,
            "handlers": [[k, pc, e.value(env), h] for k, pc, env, h in f.handlers],
        }
        for f in frames
    ]


def _load_frames(d: HeapDecoder, frames: list[dict[str, Any]]) -> list[Frame]:
    return [
        Frame(
            f["func"],
            f["pc"],
            d.value(f["env"]),
            f["base"],
            [d.value(a) for a in f["args"]],
            f["native"],
            [[k, pc, d.value(env), h] for k, pc, env, h in f["handlers"]],
        )
        for f in frames
    ]


def dump_state(vm: VM) -> dict[str, Any]:
    e = _Encoder(vm.array_props)
    frames = _dump_frames(e, vm.frames)
    state = {
        "format": FORMAT,
        "version_hash": vm.wf.version_hash,
        "fingerprint": vm.wf.fingerprint,
        "context": {k: v for k, v in vm.context.items() if k != "now"},
        "frames": frames,
        "stack": [e.value(v) for v in vm.stack],
        "inputs": e.value(vm.inputs),
        "pending": [[hid, e.value(h)] for hid, h in vm.pending.items()],
        "next_handle": vm.next_handle,
        "next_seq": vm.next_seq,
        "rng": format(vm.rng, "x"),
        "instructions": vm.total + vm.count,
    }
    if any(f.promise is not None for f in vm.waiting):
        # Async calls in progress, in the order they parked; {"main": 1} marks the top level,
        # whose frames and stack are the state's own.
        state["fibers"] = [
            {"main": 1}
            if f.promise is None
            else {
                "frames": _dump_frames(e, f.frames),
                "stack": [e.value(v) for v in f.stack],
                "promise": e.value(f.promise),
            }
            for f in vm.waiting
        ]
    e.drain()
    state["heap"] = e.heap
    if e.objects:
        state["format"] = FORMAT_OBJECTS
    return state


class HeapDecoder:
    """Rebuilds the values of a state's heap (identity kept); `value` decodes one encoded value."""

    def __init__(self, heap: list[Any]) -> None:
        self.raw = heap
        self.objs: list[Any] = []
        self.array_props: dict[int, tuple[list[Any], dict[str, Any]]] = {}
        for entry in heap:
            if "a" in entry:
                self.objs.append([])
            elif "re" in entry:
                self.objs.append(RegExp(entry["re"][0], entry["re"][1]))
            elif "o" in entry:
                self.objs.append({})
            elif "s" in entry:
                self.objs.append(Scope([], None))
            elif "c" in entry:
                self.objs.append(Closure(entry["c"], None))
            elif "f" in entry:
                self.objs.append(BuiltinFunction(entry["f"], None))
            elif "h" in entry:
                self.objs.append(Handle(id=entry["h"], kind=entry["k"], name=entry["n"]))
            elif "m" in entry:
                self.objs.append(Completion(entry["m"]))
            elif "E" in entry:
                self.objs.append(ErrorObject(entry["E"], {}, set(entry["X"])))
            elif "D" in entry:
                self.objs.append(DateObject(math.nan))
            elif "M" in entry:
                self.objs.append(MapObject())
            elif "S" in entry:
                self.objs.append(SetObject())
            else:
                raise ValueError(f"unknown heap entry {entry!r}")
        for obj, entry in zip(self.objs, heap, strict=True):
            self.fill(obj, entry)

    def value(self, v: Any) -> Any:
        t = type(v)
        if t is str or t is bool or v is None or t is float:
            return v
        if t is int:
            return float(v)
        if t is dict:
            if "$r" in v:
                return self.objs[v["$r"]]
            if "$u" in v:
                return UNDEFINED
            if "$n" in v:
                return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}[
                    v["$n"]
                ]
            if "$tdz" in v:
                return TDZ
            if "$std" in v:
                return StdObjectRef(v["$std"])
        raise ValueError(f"bad value in state: {v!r}")

    def fill(self, obj: Any, entry: dict[str, Any]) -> None:
        dec = self.value
        t = type(obj)
        if t is list:
            obj.extend(dec(x) for x in entry["a"])
            if "x" in entry:
                self.array_props[id(obj)] = (obj, {k: dec(x) for k, x in entry["x"]})
        elif t is RegExp:
            obj.last_index = dec(entry["li"])
        elif t is dict:
            for k, x in entry["o"]:
                obj[k] = dec(x)
        elif t is Scope:
            obj.slots = [dec(x) for x in entry["s"]]
            obj.parent = None if entry["p"] is None else dec(entry["p"])
        elif t is Closure:
            obj.env = None if entry["e"] is None else dec(entry["e"])
        elif t is BuiltinFunction:
            obj.this = dec(entry["t"])
        elif t is Handle:
            obj.items = [dec(x) for x in entry["i"]]
            r = entry["r"]
            if r is not None:
                obj.result = {k: (dec(x) if k in ("output", "error") else x) for k, x in r.items()}
            obj.seq = entry["q"]
        elif t is ErrorObject:
            for k, x in entry["P"]:
                obj.props[k] = dec(x)
        elif t is DateObject:
            obj.time = dec(entry["D"])
        elif t is MapObject:
            for k, x in entry["M"]:
                key = dec(k)
                obj.data[map_key(key)] = [key, dec(x)]
        elif t is SetObject:
            for x in entry["S"]:
                value = dec(x)
                obj.data[map_key(value)] = value
        elif t is Completion:
            obj.value = dec(entry["v"])
            obj.target = entry["t"]
            obj.env = None if entry["e"] is None else dec(entry["e"])


def check_state(workflow: CompiledWorkflow, state: Any) -> tuple[str, str] | None:
    """Why `state` cannot be resumed by `workflow`, as (error type, message), or None."""
    if not isinstance(state, dict) or not isinstance(state.get("format"), int):
        return "InvalidState", f"not a workflow state (no snapshot format): {str(state)[:80]}"
    if state["format"] not in _READABLE:
        return (
            "IncompatibleSnapshot",
            f"the state is in snapshot format {state['format']} but this rhythm-core reads "
            f"formats {FORMAT} and {FORMAT_OBJECTS}: finish or cancel such executions with the rhythm-core that "
            "saved them",
        )
    saved = state.get("version_hash")
    if saved != workflow.version_hash:
        return (
            "VersionMismatch",
            f"the state was saved by workflow version {str(saved)[:12]} but is being resumed "
            f"on {workflow.version_hash[:12]}",
        )
    fingerprint = state.get("fingerprint")
    if fingerprint != workflow.fingerprint:
        return (
            "IncompatibleSnapshot",
            f"the state was saved by a program compiled differently (fingerprint "
            f"{str(fingerprint)[:12]}, this rhythm-core compiles version "
            f"{workflow.version_hash[:12]} to {workflow.fingerprint[:12]}); resuming it could "
            "continue at a wrong instruction, so it is refused: finish or cancel such executions "
            "with the rhythm-core that saved them",
        )
    return None


def load_state(vm: VM, state: dict[str, Any]) -> None:
    problem = check_state(vm.wf, state)
    if problem is not None:
        raise FatalError(*problem)
    try:
        d = HeapDecoder(state["heap"])
        vm.context = dict(state.get("context") or {})
        vm.frames = _load_frames(d, state["frames"])
        vm.stack = [d.value(v) for v in state["stack"]]
        vm.main = Fiber(vm.frames, vm.stack, None)
        vm.waiting = [
            vm.main
            if "main" in f
            else Fiber(
                _load_frames(d, f["frames"]),
                [d.value(v) for v in f["stack"]],
                d.value(f["promise"]),
            )
            for f in state.get("fibers", [{"main": 1}])
        ]
        vm.inputs = d.value(state["inputs"])
        vm.pending = {int(hid): d.value(h) for hid, h in state["pending"]}
        vm.next_handle = state["next_handle"]
        vm.next_seq = state["next_seq"]
        vm.rng = int(state["rng"], 16)
        vm.total = state["instructions"]
        vm.array_props = d.array_props
    except (KeyError, IndexError, TypeError, ValueError) as e:
        raise FatalError("InvalidState", f"the workflow state is damaged: {e!r}") from None
