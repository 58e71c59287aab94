"""The implementations of the stdlib table's entries, keyed by the same qualified names
(`"Task.run"`, `"array.map"`, `"parseInt"`). `IMPLEMENTATIONS` must match `stdlib.all_builtins()`
one to one (a test checks it). Each implementation is `fn(vm, this, args) -> value`."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rhythm.core import durations, jsjson, limits, values
from rhythm.core.effects import StartTask, StartTimer, StartWorkflow, TaskOptions, WaitSignal
from rhythm.core.values import (
    _WS,
    UNDEFINED,
    Handle,
    RegExp,
    is_callable,
    js_error,
    js_pow,
    number_to_string,
    own_keys,
    parse_float,
    parse_int,
    relative_index,
    same_value_zero,
    strict_equals,
    to_boolean,
    to_integer,
    to_number,
    to_property_key,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM

Impl = Callable[["VM", Any, list[Any]], Any]
IMPLEMENTATIONS: dict[str, Impl] = {}


def impl(name: str) -> Callable[[Impl], Impl]:
    def register(fn: Impl) -> Impl:
        assert name not in IMPLEMENTATIONS, name
        IMPLEMENTATIONS[name] = fn
        return fn

    return register


def arg(args: list[Any], i: int) -> Any:
    return args[i] if i < len(args) else UNDEFINED


def _is_object(v: Any) -> bool:
    return type(v) is dict


def _callback(name: str, fn: Any) -> Any:
    if not is_callable(fn):
        raise js_error(
            "TypeError",
            f"{name}: {to_string(fn) if fn is UNDEFINED else 'the callback'} is not a function",
        )
    return fn


# ---------------------------------------------------------------- Task / Workflow / Timer / Signal

_TASK_OPTIONS = ("queue", "priority", "retries", "timeout", "delay")


def _name_arg(where: str, v: Any, what: str = "needs a non-empty string name") -> str:
    if limits.name_problem(v) is not None:
        shown = jsjson.stringify(v[:40] + "...") if type(v) is str and v.strip() else _show(v)
        raise js_error(
            "TypeError",
            f"{where} {what} (at most {limits.MAX_NAME_LENGTH} characters), got {shown}",
        )
    return v


def _show(v: Any) -> str:
    try:
        s = jsjson.stringify(v)
    except Exception:
        s = UNDEFINED
    return to_string(v) if s is UNDEFINED else s


def _inputs_arg(where: str, v: Any) -> Any:
    if v is UNDEFINED or v is None:
        return {}
    if not _is_object(v):
        raise js_error("TypeError", f"{where} inputs must be an object, got {_show(v)}")
    return jsjson.to_json(v)


def _integer_option(key: str, value: Any, low: int, high: int) -> int:
    if not (type(value) is float and value.is_integer() and low <= value <= high):
        raise js_error(
            "TypeError",
            f"Task.run option {key} must be an integer from {low} to {high}, got {_show(value)}",
        )
    return int(value)


def _seconds(
    where: str, value: Any, allow_zero: bool, high: float, error: str = "TypeError"
) -> float:
    ok = type(value) is float and math.isfinite(value) and value <= high
    if not (ok and (value >= 0 if allow_zero else value > 0)):
        bound = ">= 0" if allow_zero else "> 0"
        raise js_error(
            error,
            f"{where} must be a number of seconds {bound} (at most {high:.0f}), got {_show(value)}",
        )
    return value


def task_options(options: Any) -> TaskOptions:
    """`Task.run`'s options object, checked against `rhythm.core.limits` (the client's own)."""
    if options is UNDEFINED or options is None:
        return TaskOptions()
    if not _is_object(options):
        raise js_error("TypeError", f"Task.run options must be an object, got {_show(options)}")
    found: dict[str, Any] = {}
    for key in own_keys(options):
        value = options[key]
        if value is UNDEFINED:
            continue
        if key == "queue":
            found[key] = _name_arg("Task.run option queue", value, "must be a non-empty string")
        elif key == "priority":
            found[key] = _integer_option(key, value, limits.MIN_PRIORITY, limits.MAX_PRIORITY)
        elif key == "retries":
            found[key] = _integer_option(key, value, limits.MIN_RETRIES, limits.MAX_RETRIES)
        elif key == "timeout":
            found[key] = _seconds(
                "Task.run option timeout", value, False, limits.MAX_TIMEOUT_SECONDS
            )
        elif key == "delay":
            found[key] = _seconds("Task.run option delay", value, True, limits.MAX_DELAY_SECONDS)
        else:
            raise js_error(
                "TypeError",
                f"unknown Task.run option '{key}' (expected one of {', '.join(_TASK_OPTIONS)})",
            )
    return TaskOptions(**found)


@impl("Task.run")
def task_run(vm: VM, this: Any, args: list[Any]) -> Any:
    name = _name_arg("Task.run", arg(args, 0))
    inputs = _inputs_arg("Task.run", arg(args, 1))
    options = task_options(arg(args, 2))
    h = vm.new_handle("task", name)
    vm.effects.append(StartTask(h.id, name, inputs, options))
    return h


@impl("Workflow.run")
def workflow_run(vm: VM, this: Any, args: list[Any]) -> Any:
    name = _name_arg("Workflow.run", arg(args, 0))
    inputs = _inputs_arg("Workflow.run", arg(args, 1))
    h = vm.new_handle("workflow", name)
    vm.effects.append(StartWorkflow(h.id, name, inputs))
    return h


@impl("Timer.delay")
def timer_delay(vm: VM, this: Any, args: list[Any]) -> Any:
    seconds = _seconds("Timer.delay", arg(args, 0), True, limits.MAX_DELAY_SECONDS, "RangeError")
    h = vm.new_handle("timer")
    vm.effects.append(StartTimer(h.id, seconds, None))
    return h


def parse_time(v: Any) -> datetime:
    """An ISO 8601 string (naive means UTC), milliseconds since the epoch or a valid Date ->
    aware datetime."""
    if type(v) is values.DateObject:
        v = v.time
    if type(v) is float and math.isfinite(v):
        return datetime.fromtimestamp(v / 1000, tz=UTC)
    if type(v) is str:
        try:
            dt = datetime.fromisoformat(v.strip())
        except ValueError:
            pass
        else:
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    raise js_error(
        "TypeError",
        f'Timer.until needs an ISO 8601 time like "2030-01-01T09:00:00Z", milliseconds since '
        f"the epoch or a valid Date, got {_show(v)}",
    )


@impl("Timer.until")
def timer_until(vm: VM, this: Any, args: list[Any]) -> Any:
    when = parse_time(arg(args, 0)).astimezone(UTC)
    h = vm.new_handle("timer")
    vm.effects.append(StartTimer(h.id, None, when.isoformat()))
    return h


def parse_duration(v: Any) -> float:
    """Seconds from a number or a duration string ("24h", "15m", "30s", "1h30m", "500ms"),
    at most `limits.MAX_DELAY_SECONDS` (the wait's deadline must be a storable time)."""
    seconds = v if type(v) is float and math.isfinite(v) and v >= 0 else None
    if type(v) is str:
        seconds = durations.parse_duration(v)
    if seconds is not None and seconds > limits.MAX_DELAY_SECONDS:
        raise js_error(
            "RangeError",
            f"timeout {_show(v)} is longer than {limits.MAX_DELAY_SECONDS:.0f} seconds",
        )
    if seconds is not None:
        return seconds
    raise js_error("TypeError", f"invalid timeout {_show(v)}: use {durations.DURATION_HELP}")


def _signal(vm: VM, name: str, timeout: float | None) -> Handle:
    h = vm.new_handle("signal", name)
    vm.effects.append(WaitSignal(h.id, name, timeout))
    return h


@impl("Signal.next")
def signal_next(vm: VM, this: Any, args: list[Any]) -> Any:
    return _signal(vm, _name_arg("Signal.next", arg(args, 0)), None)


@impl("Signal.when")
def signal_when(vm: VM, this: Any, args: list[Any]) -> Any:
    name = _name_arg("Signal.when", arg(args, 0))
    options = arg(args, 1)
    timeout = None
    if options is not UNDEFINED and options is not None:
        if not _is_object(options):
            raise js_error(
                "TypeError", f"Signal.when options must be an object, got {_show(options)}"
            )
        for key in options:
            if key != "timeout":
                raise js_error(
                    "TypeError", f"unknown Signal.when option '{key}' (expected timeout)"
                )
        if options.get("timeout", UNDEFINED) is not UNDEFINED:
            timeout = parse_duration(options["timeout"])
    return _signal(vm, name, timeout)


def _combinator(kind: str) -> Impl:
    def run(vm: VM, this: Any, args: list[Any]) -> Any:
        values = arg(args, 0)
        if type(values) is str:
            values = list(values)
        if type(values) is not list:
            raise js_error("TypeError", f"Promise.{kind} expects an array, got {_show(values)}")
        return vm.new_handle(kind, items=list(values))

    return run


for _kind in ("all", "allSettled", "any", "race"):
    impl(f"Promise.{_kind}")(_combinator(_kind))


# ---------------------------------------------------------------- Context


@impl("Context.executionId")
def ctx_execution_id(vm: VM, this: Any, args: list[Any]) -> Any:
    return str(vm.context.get("executionId", ""))


@impl("Context.workflowName")
def ctx_workflow_name(vm: VM, this: Any, args: list[Any]) -> Any:
    return str(vm.context.get("workflowName", ""))


@impl("Context.versionHash")
def ctx_version_hash(vm: VM, this: Any, args: list[Any]) -> Any:
    # The runtime names the version the execution started on; without one (a bare vm.start),
    # that is the version of the program being run.
    return str(vm.context.get("versionHash") or vm.wf.version_hash)


@impl("Context.now")
def ctx_now(vm: VM, this: Any, args: list[Any]) -> Any:
    now = vm.context.get("now")
    if isinstance(now, str):
        return float(math.floor(parse_time(now).timestamp() * 1000))
    if isinstance(now, int | float) and not isinstance(now, bool):
        return float(math.floor(now * 1000))
    raise js_error("TypeError", "Context.now(): the runtime passed no current time in the context")


# ---------------------------------------------------------------- Math


def _math1(name: str, fn: Callable[[float], float]) -> None:
    impl(f"Math.{name}")(lambda vm, this, args: fn(to_number(arg(args, 0))))


def _integral(fn: Callable[[float], int]) -> Callable[[float], float]:
    def go(x: float) -> float:
        if not math.isfinite(x) or x == 0:
            return x
        r = float(fn(x))
        return math.copysign(0.0, x) if r == 0 else r

    return go


def _round(x: float) -> float:
    if not math.isfinite(x) or x == 0:
        return x
    r = math.floor(x)
    if x - r >= 0.5:
        r += 1
    if r == 0:
        return math.copysign(0.0, x)
    return float(r)


def _sign(x: float) -> float:
    if x != x or x == 0:
        return x
    return 1.0 if x > 0 else -1.0


_math1("abs", abs)
_math1("ceil", _integral(math.ceil))
_math1("floor", _integral(math.floor))
_math1("trunc", _integral(math.trunc))
_math1("round", _round)
_math1("sign", _sign)
_math1("sqrt", lambda x: math.sqrt(x) if x >= 0 else (x if x == 0 else math.nan))


@impl("Math.pow")
def math_pow(vm: VM, this: Any, args: list[Any]) -> Any:
    return js_pow(to_number(arg(args, 0)), to_number(arg(args, 1)))


def _extreme(args: list[Any], want_max: bool) -> float:
    best = -math.inf if want_max else math.inf
    nums = [to_number(a) for a in args]
    for x in nums:
        if x != x:
            return math.nan
        if ((x > best) if want_max else (x < best)) or (
            x == best == 0 and (math.copysign(1, x) > 0) == want_max
        ):
            best = x
    return best


@impl("Math.max")
def math_max(vm: VM, this: Any, args: list[Any]) -> Any:
    return _extreme(args, True)


@impl("Math.min")
def math_min(vm: VM, this: Any, args: list[Any]) -> Any:
    return _extreme(args, False)


@impl("Math.random")
def math_random(vm: VM, this: Any, args: list[Any]) -> Any:
    # xorshift64*: the generator's whole state is one integer kept in the VM state.
    x = vm.rng or 0x9E3779B97F4A7C15
    x ^= (x >> 12) & 0xFFFFFFFFFFFFFFFF
    x ^= (x << 25) & 0xFFFFFFFFFFFFFFFF
    x ^= (x >> 27) & 0xFFFFFFFFFFFFFFFF
    vm.rng = x & 0xFFFFFFFFFFFFFFFF
    out = (vm.rng * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF
    return (out >> 11) / float(1 << 53)


impl("Math.PI")(lambda vm, this, args: math.pi)
impl("Math.E")(lambda vm, this, args: math.e)


# ---------------------------------------------------------------- JSON


@impl("JSON.stringify")
def json_stringify(vm: VM, this: Any, args: list[Any]) -> Any:
    replacer = arg(args, 1)
    if replacer is not UNDEFINED and replacer is not None:
        raise js_error("TypeError", "JSON.stringify: only null is supported as the replacer")
    out = jsjson.stringify(arg(args, 0), arg(args, 2))
    if type(out) is str:
        vm.check_string(out)
    return out


@impl("JSON.parse")
def json_parse(vm: VM, this: Any, args: list[Any]) -> Any:
    return jsjson.parse(arg(args, 0))


# ---------------------------------------------------------------- Object / Array


def _require_object(where: str, v: Any) -> Any:
    if v is UNDEFINED or v is None:
        raise js_error("TypeError", f"{where}: Cannot convert undefined or null to object")
    return v


@impl("Object.keys")
def object_keys(vm: VM, this: Any, args: list[Any]) -> Any:
    return vm.enumerable_keys(_require_object("Object.keys", arg(args, 0)))


@impl("Object.values")
def object_values(vm: VM, this: Any, args: list[Any]) -> Any:
    o = _require_object("Object.values", arg(args, 0))
    return [vm.get_prop(o, k) for k in vm.enumerable_keys(o)]


@impl("Object.entries")
def object_entries(vm: VM, this: Any, args: list[Any]) -> Any:
    o = _require_object("Object.entries", arg(args, 0))
    return [[k, vm.get_prop(o, k)] for k in vm.enumerable_keys(o)]


@impl("Object.assign")
def object_assign(vm: VM, this: Any, args: list[Any]) -> Any:
    target = _require_object("Object.assign", arg(args, 0))
    for source in args[1:]:
        if source is UNDEFINED or source is None:
            continue
        for k in vm.enumerable_keys(source):
            vm.set_prop(target, k, vm.get_prop(source, k))
    return target


@impl("Object.fromEntries")
def object_from_entries(vm: VM, this: Any, args: list[Any]) -> Any:
    out: dict[str, Any] = {}
    for entry in vm.iterate(_require_object("Object.fromEntries", arg(args, 0))):
        if type(entry) not in (list, dict, str):
            raise js_error(
                "TypeError", f"Object.fromEntries: entry {_show(entry)} is not an object"
            )
        out[to_property_key(vm.get_prop(entry, "0"))] = vm.get_prop(entry, "1")
    return out


@impl("Array.isArray")
def array_is_array(vm: VM, this: Any, args: list[Any]) -> Any:
    return type(arg(args, 0)) is list


# ---------------------------------------------------------------- global functions


impl("NaN")(lambda vm, this, args: math.nan)
impl("Infinity")(lambda vm, this, args: math.inf)
impl("String")(lambda vm, this, args: to_string(args[0]) if args else "")
impl("Boolean")(lambda vm, this, args: to_boolean(arg(args, 0)))
impl("parseInt")(lambda vm, this, args: parse_int(to_string(arg(args, 0)), arg(args, 1)))
impl("parseFloat")(lambda vm, this, args: parse_float(to_string(arg(args, 0))))
impl("isNaN")(lambda vm, this, args: math.isnan(to_number(arg(args, 0))))


# ---------------------------------------------------------------- string methods


def _str_this(this: Any) -> str:
    return this if type(this) is str else to_string(this)


def _pos(v: Any, length: int, default: int = 0) -> int:
    if v is UNDEFINED:
        return default
    n = to_integer(v)
    return int(min(max(n, 0), length))


impl("string.length")(lambda vm, this, args: float(len(_str_this(this))))
impl("string.toUpperCase")(lambda vm, this, args: _str_this(this).upper())
impl("string.toLowerCase")(lambda vm, this, args: _str_this(this).lower())
impl("string.trim")(lambda vm, this, args: _str_this(this).strip(_WS))
impl("string.trimStart")(lambda vm, this, args: _str_this(this).lstrip(_WS))
impl("string.trimEnd")(lambda vm, this, args: _str_this(this).rstrip(_WS))


@impl("string.split")
def string_split(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    sep, limit = arg(args, 0), arg(args, 1)
    if type(sep) is RegExp:
        return regexp_methods.string_split(vm, s, sep, limit)
    lim = 4294967295 if limit is UNDEFINED else int(to_integer(limit)) % 4294967296
    if lim == 0:
        return []
    if sep is UNDEFINED:
        return [s]
    sep = to_string(sep)
    parts = list(s) if sep == "" else s.split(sep)
    if sep == "" and s == "":
        parts = []
    return parts[:lim]


@impl("string.includes")
def string_includes(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    return to_string(arg(args, 0)) in s[_pos(arg(args, 1), len(s)) :]


@impl("string.startsWith")
def string_starts_with(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    return s.startswith(to_string(arg(args, 0)), _pos(arg(args, 1), len(s)))


@impl("string.endsWith")
def string_ends_with(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    end = _pos(arg(args, 1), len(s), len(s))
    return s[:end].endswith(to_string(arg(args, 0)))


@impl("string.indexOf")
def string_index_of(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    return float(s.find(to_string(arg(args, 0)), _pos(arg(args, 1), len(s))))


@impl("string.slice")
def string_slice(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    start = relative_index(arg(args, 0), len(s), 0)
    end = relative_index(arg(args, 1), len(s), len(s))
    return s[start:end] if start < end else ""


@impl("string.substring")
def string_substring(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    a = _pos(arg(args, 0), len(s))
    b = _pos(arg(args, 1), len(s), len(s))
    return s[min(a, b) : max(a, b)]


def _expand(repl: str, match: str, pos: int, s: str) -> str:
    if "$" not in repl:
        return repl
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "$" and i + 1 < len(repl):
            n = repl[i + 1]
            if n == "$":
                out.append("$")
            elif n == "&":
                out.append(match)
            elif n == "`":
                out.append(s[:pos])
            elif n == "'":
                out.append(s[pos + len(match) :])
            else:
                out.append(c)
                i += 1
                continue
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _replace(vm: VM, this: Any, args: list[Any], all_: bool) -> str:
    s = _str_this(this)
    if type(arg(args, 0)) is RegExp:
        return regexp_methods.string_replace(vm, s, args[0], arg(args, 1), all_)
    pattern = to_string(arg(args, 0))
    replacement = arg(args, 1)
    positions: list[int] = []
    start = 0
    while True:
        pos = s.find(pattern, start)
        if pos < 0:
            break
        positions.append(pos)
        if not all_:
            break
        start = pos + max(len(pattern), 1)
        if start > len(s):
            break
    out: list[str] = []
    last = 0
    for pos in positions:
        out.append(s[last:pos])
        if is_callable(replacement):
            out.append(to_string(vm.call_function(replacement, [pattern, float(pos), s])))
        else:
            out.append(_expand(to_string(replacement), pattern, pos, s))
        last = pos + len(pattern)
    out.append(s[last:])
    result = "".join(out)
    vm.check_string(result)
    return result


impl("string.replace")(lambda vm, this, args: _replace(vm, this, args, False))
impl("string.replaceAll")(lambda vm, this, args: _replace(vm, this, args, True))


def _pad(vm: VM, this: Any, args: list[Any], at_start: bool) -> str:
    s = _str_this(this)
    length = to_integer(arg(args, 0))
    fill = " " if arg(args, 1) is UNDEFINED else to_string(arg(args, 1))
    if length <= len(s) or fill == "":
        return s
    if length > vm.max_state_bytes:
        raise js_error("RangeError", f"Invalid string length {number_str(length)}")
    need = int(length) - len(s)
    pad = (fill * (need // len(fill) + 1))[:need]
    return pad + s if at_start else s + pad


def number_str(x: float) -> str:
    return number_to_string(x)


impl("string.padStart")(lambda vm, this, args: _pad(vm, this, args, True))
impl("string.padEnd")(lambda vm, this, args: _pad(vm, this, args, False))


@impl("string.repeat")
def string_repeat(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    n = to_integer(arg(args, 0))
    if n < 0 or n == math.inf:
        raise js_error("RangeError", f"Invalid count value: {number_str(to_number(arg(args, 0)))}")
    if len(s) * n > vm.max_state_bytes:
        raise js_error("RangeError", f"Invalid string length: {len(s)} x {number_str(n)}")
    return s * int(n)


@impl("string.at")
def string_at(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str_this(this)
    n = to_integer(arg(args, 0))
    i = int(n) if math.isfinite(n) else len(s)
    if i < 0:
        i += len(s)
    return s[i] if 0 <= i < len(s) else UNDEFINED


# ---------------------------------------------------------------- array methods


def _arr(this: Any) -> list[Any]:
    assert type(this) is list
    return this


impl("array.length")(lambda vm, this, args: float(len(_arr(this))))


@impl("array.push")
def array_push(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    a.extend(args)
    return float(len(a))


@impl("array.pop")
def array_pop(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    return a.pop() if a else UNDEFINED


@impl("array.shift")
def array_shift(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    return a.pop(0) if a else UNDEFINED


@impl("array.unshift")
def array_unshift(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    a[0:0] = args
    return float(len(a))


def _from_index(v: Any, length: int) -> int:
    if v is UNDEFINED:
        return 0
    n = to_integer(v)
    if n < 0:
        return int(max(length + n, 0))
    return int(min(n, length))


@impl("array.includes")
def array_includes(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    x = arg(args, 0)
    return any(same_value_zero(y, x) for y in a[_from_index(arg(args, 1), len(a)) :])


@impl("array.indexOf")
def array_index_of(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    x = arg(args, 0)
    for i in range(_from_index(arg(args, 1), len(a)), len(a)):
        if strict_equals(a[i], x):
            return float(i)
    return -1.0


@impl("array.join")
def array_join(vm: VM, this: Any, args: list[Any]) -> Any:
    sep = arg(args, 0)
    out = values.array_join(_arr(this), "," if sep is UNDEFINED else to_string(sep))
    vm.check_string(out)
    return out


@impl("array.slice")
def array_slice(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    start = relative_index(arg(args, 0), len(a), 0)
    end = relative_index(arg(args, 1), len(a), len(a))
    return a[start:end]


@impl("array.concat")
def array_concat(vm: VM, this: Any, args: list[Any]) -> Any:
    out = list(_arr(this))
    for x in args:
        if type(x) is list:
            out.extend(x)
        else:
            out.append(x)
    return out


@impl("array.reverse")
def array_reverse(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    a.reverse()
    return a


def _utf16(s: str) -> bytes:
    return s.encode("utf-16-be")


@impl("array.sort")
def array_sort(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    compare = arg(args, 0)
    if compare is not UNDEFINED and not is_callable(compare):
        raise js_error(
            "TypeError", "The comparison function must be either a function or undefined"
        )
    values = [x for x in a if x is not UNDEFINED]
    undefined_count = len(a) - len(values)
    if compare is UNDEFINED:
        keyed = [(to_string(x), x) for x in values]
        if all(k.isascii() for k, _ in keyed):
            keyed.sort(key=lambda p: p[0])
        else:
            keyed.sort(key=lambda p: _utf16(p[0]))
        values = [x for _, x in keyed]
    else:

        def cmp(x: Any, y: Any) -> int:
            r = to_number(vm.call_function(compare, [x, y]))
            return -1 if r < 0 else (1 if r > 0 else 0)

        values = sorted(values, key=functools.cmp_to_key(cmp))
    a[:] = values + [UNDEFINED] * undefined_count
    return a


def _each(
    vm: VM, this: Any, args: list[Any], name: str, *, all_indexes: bool = False
) -> Iterator[tuple[int, Any, Any]]:
    """Calls the callback for each index below the starting length. An index the callback removed
    (the array shrank) is skipped, as JavaScript skips missing elements, except for find and
    findIndex (`all_indexes`), which visit it with undefined."""
    a = _arr(this)
    fn = _callback(f"array.{name}", arg(args, 0))
    n = len(a)
    for i in range(n):
        if i < len(a):
            x = a[i]
        elif all_indexes:
            x = UNDEFINED
        else:
            continue
        yield i, x, vm.call_function(fn, [x, float(i), a])


@impl("array.map")
def array_map(vm: VM, this: Any, args: list[Any]) -> Any:
    out = [UNDEFINED] * len(_arr(this))  # keeps the starting length, like JavaScript
    for i, _, r in _each(vm, this, args, "map"):
        out[i] = r
    return out


@impl("array.filter")
def array_filter(vm: VM, this: Any, args: list[Any]) -> Any:
    return [x for _, x, r in _each(vm, this, args, "filter") if to_boolean(r)]


@impl("array.find")
def array_find(vm: VM, this: Any, args: list[Any]) -> Any:
    for _, x, r in _each(vm, this, args, "find", all_indexes=True):
        if to_boolean(r):
            return x
    return UNDEFINED


@impl("array.findIndex")
def array_find_index(vm: VM, this: Any, args: list[Any]) -> Any:
    for i, _, r in _each(vm, this, args, "findIndex", all_indexes=True):
        if to_boolean(r):
            return float(i)
    return -1.0


@impl("array.some")
def array_some(vm: VM, this: Any, args: list[Any]) -> Any:
    return any(to_boolean(r) for _, _, r in _each(vm, this, args, "some"))


@impl("array.every")
def array_every(vm: VM, this: Any, args: list[Any]) -> Any:
    return all(to_boolean(r) for _, _, r in _each(vm, this, args, "every"))


@impl("array.forEach")
def array_for_each(vm: VM, this: Any, args: list[Any]) -> Any:
    for _ in _each(vm, this, args, "forEach"):
        pass
    return UNDEFINED


@impl("array.reduce")
def array_reduce(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    fn = _callback("array.reduce", arg(args, 0))
    start = 0
    if len(args) >= 2:
        acc = args[1]
    elif a:
        acc, start = a[0], 1
    else:
        raise js_error("TypeError", "Reduce of empty array with no initial value")
    n = len(a)
    for i in range(start, n):
        if i < len(a):  # an index the callback removed is skipped
            acc = vm.call_function(fn, [acc, a[i], float(i), a])
    return acc


def _flatten(items: list[Any], depth: float, out: list[Any]) -> list[Any]:
    for x in items:
        if type(x) is list and depth >= 1:
            _flatten(x, depth - 1, out)
        else:
            out.append(x)
    return out


@impl("array.flat")
def array_flat(vm: VM, this: Any, args: list[Any]) -> Any:
    d = arg(args, 0)
    depth = 1.0 if d is UNDEFINED else to_integer(d)
    return _flatten(_arr(this), min(depth, 1000.0), [])


@impl("array.flatMap")
def array_flat_map(vm: VM, this: Any, args: list[Any]) -> Any:
    out: list[Any] = []
    for _, _, r in _each(vm, this, args, "flatMap"):
        if type(r) is list:
            out.extend(r)
        else:
            out.append(r)
    return out


@impl("array.at")
def array_at(vm: VM, this: Any, args: list[Any]) -> Any:
    a = _arr(this)
    i = int(to_integer(arg(args, 0))) if math.isfinite(to_integer(arg(args, 0))) else len(a)
    if i < 0:
        i += len(a)
    return a[i] if 0 <= i < len(a) else UNDEFINED


# ---------------------------------------------------------------- regular expressions

from rhythm.core import regexp_methods  # noqa: E402  (registers RegExp and its methods)


def _pattern_arg(v: Any, flags: Any) -> RegExp:
    """`s.match(x)` & co. with x not a RegExp: x is read as a pattern, as JavaScript does."""
    return v if type(v) is RegExp else regexp_methods.new_regexp(v, flags)


impl("string.match")(
    lambda vm, this, args: regexp_methods.string_match(
        vm, _str_this(this), _pattern_arg(arg(args, 0), UNDEFINED)
    )
)
impl("string.matchAll")(
    lambda vm, this, args: regexp_methods.string_match_all(
        vm, _str_this(this), _pattern_arg(arg(args, 0), "g")
    )
)
impl("string.search")(
    lambda vm, this, args: regexp_methods.string_search(
        vm, _str_this(this), _pattern_arg(arg(args, 0), UNDEFINED)
    )
)


# The builtin constructors (Error, Date, Map, Set) register their entries too.
# These modules register their builtins into IMPLEMENTATIONS when imported.
from rhythm.core import builtins_array, builtins_number, builtins_values  # noqa: E402, F401
from rhythm.core import builtins_objects as _objects  # noqa: E402, F401
