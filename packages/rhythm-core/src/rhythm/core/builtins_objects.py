"""The builtin constructors' implementations: Error and its subclasses, Date, Map and Set (the
stdlib table's "builtin constructors" section). `construct(vm, name, args)` is what `new Name(...)`
runs; the table entries registered here with `impl` are the calls without `new`, the statics and
the instance members."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rhythm.core import jsdate, regexp_methods
from rhythm.core.builtins import arg, ctx_now, impl
from rhythm.core.stdlib import CONSTRUCTORS
from rhythm.core.values import (
    ERROR_CLASSES,
    UNDEFINED,
    BuiltinFunction,
    Closure,
    DateObject,
    ErrorObject,
    Handle,
    MapObject,
    RegExp,
    SetObject,
    StdObjectRef,
    error_name,
    error_to_string,
    is_callable,
    js_error,
    map_key,
    to_number,
    to_primitive,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM


# ---------------------------------------------------------------- errors


def new_error(cls: str, args: list[Any]) -> ErrorObject:
    e = ErrorObject(cls, {})
    message, options = arg(args, 0), arg(args, 1)
    if message is not UNDEFINED:
        e.props["message"] = to_string(message)
        e.hidden.add("message")
    if type(options) is dict and "cause" in options:
        e.props["cause"] = options["cause"]
        e.hidden.add("cause")
    return e


for _cls in ERROR_CLASSES:
    impl(_cls)(lambda vm, this, args, cls=_cls: new_error(cls, args))


def _error_this(name: str, this: Any) -> ErrorObject:
    if type(this) is not ErrorObject:
        raise js_error("TypeError", f"error.{name} called on a value that is not an Error")
    return this


impl("error.name")(lambda vm, this, args: error_name(_error_this("name", this)))
impl("error.message")(lambda vm, this, args: _error_this("message", this).props.get("message", ""))
impl("error.cause")(lambda vm, this, args: _error_this("cause", this).props.get("cause", UNDEFINED))
impl("error.toString")(lambda vm, this, args: error_to_string(_error_this("toString", this)))


# ---------------------------------------------------------------- Date


def _now(vm: VM) -> float:
    try:
        return ctx_now(vm, UNDEFINED, [])
    except Exception:
        raise js_error(
            "TypeError", "Date.now(): the runtime passed no current time in the context"
        ) from None


def _date_value(v: Any) -> float:
    """The time `new Date(v)` gives for one argument."""
    if type(v) is DateObject:
        return v.time
    p = to_primitive(v)
    if type(p) is str:
        return jsdate.parse_iso(p.strip())
    return jsdate.time_clip(to_number(p))


def new_date(vm: VM, args: list[Any]) -> DateObject:
    if not args:
        return DateObject(_now(vm))
    if len(args) == 1:
        return DateObject(_date_value(args[0]))
    return DateObject(jsdate.from_components([to_number(a) for a in args]))


impl("Date")(lambda vm, this, args: jsdate.date_to_string(_now(vm)))
impl("Date.now")(lambda vm, this, args: _now(vm))
impl("Date.parse")(lambda vm, this, args: jsdate.parse_iso(to_string(arg(args, 0)).strip()))


@impl("Date.UTC")
def date_utc(vm: VM, this: Any, args: list[Any]) -> Any:
    return jsdate.from_components([to_number(a) for a in args] or [math.nan])


def _date(name: str, this: Any) -> DateObject:
    if type(this) is not DateObject:
        raise js_error("TypeError", f"date.{name}: this is not a Date object.")
    return this


def _getter(index: int) -> Callable[[VM, Any, list[Any]], Any]:
    def get(vm: VM, this: Any, args: list[Any]) -> Any:
        t = _date("get", this).time
        if t != t:
            return math.nan
        return float(jsdate.fields(t)[index])

    return get


# Index into jsdate.fields: year, month, day, hours, minutes, seconds, ms, weekday.
_PARTS = ("FullYear", "Month", "Date", "Hours", "Minutes", "Seconds", "Milliseconds", "Day")
for _i, _part in enumerate(_PARTS):
    impl(f"date.getUTC{_part}")(_getter(_i))
    impl(f"date.get{_part}")(_getter(_i))


def _set_parts(first: int) -> Callable[[VM, Any, list[Any]], Any]:
    """setUTCFullYear (first 0) ... setUTCMilliseconds (first 6): replaces the parts from `first`
    on with the arguments given (as many as the setter takes), keeps the others."""
    takes = {0: 3, 1: 2, 2: 1, 3: 4, 4: 3, 5: 2, 6: 1}[first]

    def set_(vm: VM, this: Any, args: list[Any]) -> Any:
        d = _date("set", this)
        given = [to_number(a) for a in args[:takes]] or [math.nan]
        t = d.time
        if t != t:
            if first != 0:
                return math.nan
            t = 0.0
        parts: list[float] = [float(x) for x in jsdate.fields(t)[:7]]
        for i, x in enumerate(given):
            parts[first + i] = x
        year, month, day, h, mi, s, ms = parts
        new = jsdate.make_date(jsdate.make_day(year, month, day), jsdate.make_time(h, mi, s, ms))
        d.time = jsdate.time_clip(new)
        return d.time

    return set_


for _i, _part in enumerate(_PARTS[:7]):
    impl(f"date.setUTC{_part}")(_set_parts(_i))
    impl(f"date.set{_part}")(_set_parts(_i))


@impl("date.setTime")
def date_set_time(vm: VM, this: Any, args: list[Any]) -> Any:
    d = _date("setTime", this)
    d.time = jsdate.time_clip(to_number(arg(args, 0)))
    return d.time


impl("date.getTime")(lambda vm, this, args: _date("getTime", this).time)
impl("date.valueOf")(lambda vm, this, args: _date("valueOf", this).time)


@impl("date.getTimezoneOffset")
def date_tz_offset(vm: VM, this: Any, args: list[Any]) -> Any:
    t = _date("getTimezoneOffset", this).time
    return math.nan if t != t else 0.0


@impl("date.toISOString")
def date_to_iso(vm: VM, this: Any, args: list[Any]) -> Any:
    t = _date("toISOString", this).time
    if t != t:
        raise js_error("RangeError", "Invalid time value")
    return jsdate.to_iso_string(t)


@impl("date.toJSON")
def date_to_json(vm: VM, this: Any, args: list[Any]) -> Any:
    t = _date("toJSON", this).time
    return None if t != t else jsdate.to_iso_string(t)


impl("date.toString")(lambda vm, this, args: jsdate.date_to_string(_date("toString", this).time))
impl("date.toUTCString")(
    lambda vm, this, args: jsdate.to_utc_string(_date("toUTCString", this).time)
)


# ---------------------------------------------------------------- Map and Set


def _entry_pair(vm: VM, entry: Any) -> tuple[Any, Any]:
    if type(entry) not in (list, dict) and not isinstance(entry, ErrorObject | DateObject):
        raise js_error("TypeError", f"Iterator value {to_string(entry)} is not an entry object")
    return vm.get_prop(entry, "0"), vm.get_prop(entry, "1")


def new_map(vm: VM, args: list[Any]) -> MapObject:
    m = MapObject()
    source = arg(args, 0)
    if source is not UNDEFINED and source is not None:
        for entry in vm.iterate(source):
            k, v = _entry_pair(vm, entry)
            _map_set(m, k, v)
    return m


def new_set(vm: VM, args: list[Any]) -> SetObject:
    s = SetObject()
    source = arg(args, 0)
    if source is not UNDEFINED and source is not None:
        for v in vm.iterate(source):
            _set_add(s, v)
    return s


def _requires_new(name: str) -> Callable[[VM, Any, list[Any]], Any]:
    def call(vm: VM, this: Any, args: list[Any]) -> Any:
        raise js_error("TypeError", f"Constructor {name} requires 'new'")

    return call


impl("Map")(_requires_new("Map"))
impl("Set")(_requires_new("Set"))


def _map(name: str, this: Any) -> MapObject:
    if type(this) is not MapObject:
        raise js_error("TypeError", f"Method Map.prototype.{name} called on incompatible receiver")
    return this


def _set(name: str, this: Any) -> SetObject:
    if type(this) is not SetObject:
        raise js_error("TypeError", f"Method Set.prototype.{name} called on incompatible receiver")
    return this


def _normal(v: Any) -> Any:
    """A key as stored: -0 becomes 0."""
    return v + 0.0 if type(v) is float else v


def _map_set(m: MapObject, k: Any, v: Any) -> None:
    hk = map_key(k)
    entry = m.data.get(hk)
    if entry is None:
        m.data[hk] = [_normal(k), v]
    else:
        entry[1] = v


def _set_add(s: SetObject, v: Any) -> None:
    hk = map_key(v)
    if hk not in s.data:
        s.data[hk] = _normal(v)


impl("map.size")(lambda vm, this, args: float(len(_map("size", this).data)))


@impl("map.get")
def map_get(vm: VM, this: Any, args: list[Any]) -> Any:
    entry = _map("get", this).data.get(map_key(arg(args, 0)))
    return UNDEFINED if entry is None else entry[1]


@impl("map.set")
def map_set(vm: VM, this: Any, args: list[Any]) -> Any:
    _map_set(_map("set", this), arg(args, 0), arg(args, 1))
    return this


impl("map.has")(lambda vm, this, args: map_key(arg(args, 0)) in _map("has", this).data)
impl("map.delete")(
    lambda vm, this, args: _map("delete", this).data.pop(map_key(arg(args, 0)), None) is not None
)


@impl("map.clear")
def map_clear(vm: VM, this: Any, args: list[Any]) -> Any:
    _map("clear", this).data.clear()
    return UNDEFINED


def _for_each(vm: VM, data: dict[Any, Any], fn: Any, owner: Any, pairs: bool) -> None:
    """Calls `fn` for each entry present when it starts and still present when reached (an
    entry the callback deletes is skipped, as in JavaScript; one it adds is not visited)."""
    if not is_callable(fn):
        raise js_error("TypeError", f"{to_string(fn)} is not a function")
    for hk in list(data):
        if hk not in data:
            continue
        current = data[hk]
        if pairs:
            vm.call_function(fn, [current[1], current[0], owner])
        else:
            vm.call_function(fn, [current, current, owner])


@impl("map.forEach")
def map_for_each(vm: VM, this: Any, args: list[Any]) -> Any:
    _for_each(vm, _map("forEach", this).data, arg(args, 0), this, True)
    return UNDEFINED


impl("map.keys")(lambda vm, this, args: [e[0] for e in _map("keys", this).data.values()])
impl("map.values")(lambda vm, this, args: [e[1] for e in _map("values", this).data.values()])
impl("map.entries")(lambda vm, this, args: [list(e) for e in _map("entries", this).data.values()])

impl("set.size")(lambda vm, this, args: float(len(_set("size", this).data)))


@impl("set.add")
def set_add(vm: VM, this: Any, args: list[Any]) -> Any:
    _set_add(_set("add", this), arg(args, 0))
    return this


impl("set.has")(lambda vm, this, args: map_key(arg(args, 0)) in _set("has", this).data)


@impl("set.delete")
def set_delete(vm: VM, this: Any, args: list[Any]) -> Any:
    data = _set("delete", this).data
    hk = map_key(arg(args, 0))
    if hk in data:
        del data[hk]
        return True
    return False


@impl("set.clear")
def set_clear(vm: VM, this: Any, args: list[Any]) -> Any:
    _set("clear", this).data.clear()
    return UNDEFINED


@impl("set.forEach")
def set_for_each(vm: VM, this: Any, args: list[Any]) -> Any:
    _for_each(vm, _set("forEach", this).data, arg(args, 0), this, False)
    return UNDEFINED


impl("set.values")(lambda vm, this, args: list(_set("values", this).data.values()))
impl("set.keys")(lambda vm, this, args: list(_set("keys", this).data.values()))
impl("set.entries")(lambda vm, this, args: [[v, v] for v in _set("entries", this).data.values()])


# ---------------------------------------------------------------- new


_CONSTRUCT: dict[str, Callable[[VM, list[Any]], Any]] = {
    **{cls: (lambda vm, args, cls=cls: new_error(cls, args)) for cls in ERROR_CLASSES},
    "Date": new_date,
    "Map": new_map,
    "Set": new_set,
    "RegExp": lambda vm, args: regexp_methods.new_regexp(arg(args, 0), arg(args, 1)),
}
assert set(_CONSTRUCT) == set(CONSTRUCTORS)


def construct(vm: VM, callee: Any, args: list[Any], shown: str) -> Any:
    """`new callee(...args)`: only the builtin constructors construct; anything else is the
    TypeError JavaScript throws ("x is not a constructor")."""
    if type(callee) is BuiltinFunction and callee.this is UNDEFINED:
        make = _CONSTRUCT.get(callee.name)
        if make is not None:
            return make(vm, args)
    if type(callee) is Closure:
        raise js_error(
            "TypeError",
            f"{shown} is not a constructor: .flow constructs only the builtin classes "
            f"({', '.join(CONSTRUCTORS)}); call the function instead",
        )
    raise js_error("TypeError", f"{shown} is not a constructor")


_IS_A: dict[str, Callable[[Any], bool]] = {
    "Error": lambda v: type(v) is ErrorObject,
    **{
        cls: (lambda v, cls=cls: type(v) is ErrorObject and v.cls == cls)
        for cls in ERROR_CLASSES[1:]
    },
    "Date": lambda v: type(v) is DateObject,
    "Map": lambda v: type(v) is MapObject,
    "Set": lambda v: type(v) is SetObject,
    "RegExp": lambda v: type(v) is RegExp,
    "Array": lambda v: type(v) is list,
    "Object": lambda v: v is not None and v is not UNDEFINED and type(v) not in (str, float, bool),
    "Promise": lambda v: type(v) is Handle,
}


def instance_of(v: Any, ctor: Any) -> bool:
    """`v instanceof ctor` for the builtin classes (Array, Object and Promise included)."""
    name = ctor.name if type(ctor) is StdObjectRef else None
    if type(ctor) is BuiltinFunction and ctor.this is UNDEFINED:
        name = ctor.name
    test = _IS_A.get(name) if name is not None else None
    if test is not None:
        return test(v)
    if type(ctor) is Closure:
        return False  # .flow functions construct nothing, so nothing is their instance
    if type(ctor) is BuiltinFunction:
        raise js_error(
            "TypeError", "Function has non-object prototype 'undefined' in instanceof check"
        )
    raise js_error("TypeError", "Right-hand side of 'instanceof' is not callable")
