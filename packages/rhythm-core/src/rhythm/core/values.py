"""JavaScript value semantics in Python, for the .flow VM.

Runtime representation: `UNDEFINED` (a sentinel), `None` for null, `bool`, `float` for every number
(float64, like JavaScript), `str`, `list` for arrays and `dict` (string keys, insertion order) for
objects. Arrays and objects are shared by reference, like in JavaScript. Functions are `Closure`
(an arrow) or `BuiltinFunction` (a stdlib function used as a value); `StdObjectRef` is a stdlib
object (`Math`) used as a value; `Handle` is the result of Task.run, Timer.delay, Promise.all, ...
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from rhythm.core.jsdate import date_to_string


class _Undefined:
    __slots__ = ()
    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "undefined"

    def __bool__(self) -> bool:
        return False


UNDEFINED = _Undefined()


class JSThrow(Exception):
    """A JavaScript exception carrying the thrown value (any JS value). `located` is False for
    errors the VM raises itself until the VM has added the source line to the message."""

    def __init__(self, value: Any, located: bool = True) -> None:
        super().__init__(value)
        self.value = value
        self.located = located


# The error classes .flow can construct (`new TypeError(...)`) and the VM throws; each is an Error.
ERROR_CLASSES = ("Error", "TypeError", "RangeError", "ReferenceError", "SyntaxError")


@dataclass(eq=False, slots=True)
class ErrorObject:
    """An instance of Error or one of its subclasses (`cls`: "TypeError", ...; "AggregateError"
    for Promise.any's). `props` are its own properties in insertion order; those in `hidden` are
    not enumerable (`message`, `cause`, and `type` on the errors the VM throws), as in JavaScript
    `Object.keys(new Error("x"))` is empty. `name` comes from the class unless assigned."""

    cls: str
    props: dict[str, Any]
    hidden: set[str] = field(default_factory=set)


def make_error(cls: str, message: str, **extra: Any) -> ErrorObject:
    """An error the VM throws: `message`, and `type` (the class name; what .flow errors had before
    they were Error instances), neither enumerable."""
    props = {"message": message, "type": cls, **extra}
    if cls not in ERROR_CLASSES:  # AggregateError: an Error named so
        props["name"] = cls
    return ErrorObject(cls if cls in ERROR_CLASSES else "Error", props, set(props))


def js_error(type_: str, message: str) -> JSThrow:
    """A catchable error (what the VM throws for TypeError & co): an instance of `type_`."""
    return JSThrow(make_error(type_, message), located=False)


def error_from_json(v: Any) -> Any:
    """A failure that arrived as JSON (a task's `{type, message, ...}`, a child workflow's error)
    -> an Error instance whose own keys are exactly the JSON's, so `e.message`, `e.type`,
    `JSON.stringify(e)` and `{...e}` stay what they were, and `e instanceof Error` is true. A
    `type` naming a JavaScript error class gives that class (`e instanceof TypeError`)."""
    if type(v) is not dict or type(v.get("message")) is not str:
        return v
    cls = v.get("type")
    return ErrorObject(cls if cls in ERROR_CLASSES else "Error", v, set())


def error_name(e: ErrorObject) -> Any:
    return e.props.get("name", e.cls)


def error_to_string(e: Any) -> str:
    """Error.prototype.toString: "Name: message" (either part alone when the other is empty)."""
    name = error_name(e) if type(e) is ErrorObject else UNDEFINED
    msg = e.props.get("message", "") if type(e) is ErrorObject else UNDEFINED
    name = "Error" if name is UNDEFINED else to_string(name)
    msg = "" if msg is UNDEFINED else to_string(msg)
    if not name:
        return msg
    if not msg:
        return name
    return f"{name}: {msg}"


@dataclass(eq=False, slots=True)
class Scope:
    """One block of bindings. `slots` holds values (TDZ for a let/const not yet initialised)."""

    slots: list[Any]
    parent: Scope | None


class _TDZ:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<uninitialised>"


TDZ = _TDZ()


@dataclass(eq=False, slots=True)
class Closure:
    """An arrow function: its compiled function index and the scope it closes over."""

    func: int
    env: Scope | None


@dataclass(eq=False, slots=True)
class BuiltinFunction:
    """A stdlib function used as a value (`xs.map(Number)`), by qualified name; `this` is the
    string or array a method was read from (`const push = xs.push`)."""

    name: str
    this: Any = None


@dataclass(eq=False, slots=True)
class StdObjectRef:
    """A stdlib object (`Math`, `JSON`, ...) used as a value."""

    name: str


@dataclass(eq=False, slots=True)
class Handle:
    """Something to await. Leaf kinds ("task", "timer", "signal", "workflow") are resolved by the
    runtime through `results`; combinator kinds ("all", "allSettled", "any", "race") by their
    items. `result` is None until known, then {"status": "completed"|"failed", ...}."""

    id: int
    kind: str
    name: str = ""
    items: list[Any] = field(default_factory=list)
    result: dict[str, Any] | None = None
    seq: int = 0  # order in which results arrived (for race/any/all "first" semantics)


@dataclass(eq=False, slots=True)
class RegExp:
    """A regular expression object (`/a+/g`, `RegExp("a+", "g")`): its `source` (as `source`
    reads in JavaScript), canonical `flags` and `lastIndex` (any value, as JavaScript allows).
    The translated pattern is found through `rhythm.core.regex.translate`, which caches it."""

    source: str
    flags: str
    last_index: Any = 0.0


@dataclass(eq=False, slots=True)
class Completion:
    """How a `finally` block was entered: "normal", "throw", "return" or "jump"."""

    kind: str
    value: Any = None
    target: int = 0
    env: Scope | None = None


# ---------------------------------------------------------------- type tests


@dataclass(eq=False, slots=True)
class DateObject:
    """A Date: milliseconds since the epoch (NaN for an invalid date)."""

    time: float


@dataclass(eq=False, slots=True)
class MapObject:
    """A Map: `data` maps `map_key(key)` to [key, value], in insertion order."""

    data: dict[Any, list[Any]] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class SetObject:
    """A Set: `data` maps `map_key(value)` to the value, in insertion order."""

    data: dict[Any, Any] = field(default_factory=dict)


_NAN_KEY = ("NaN",)


def map_key(v: Any) -> Any:
    """The dict key under which a Map or Set finds `v` (SameValueZero: NaN is NaN, -0 is 0;
    strings and numbers by value; objects and functions by identity)."""
    t = type(v)
    if t is str:
        return v
    if t is float:
        return _NAN_KEY if v != v else v + 0.0
    if t is bool:
        return ("b", v)
    if v is None:
        return ("null",)
    if v is UNDEFINED:
        return ("u",)
    if t is BuiltinFunction:  # `m.set(Task.run, 1)`: the same function each time it is read
        return ("f", v.name, id(v.this))
    return ("o", id(v))


def typeof(v: Any) -> str:
    if v is UNDEFINED:
        return "undefined"
    if v is None:
        return "object"
    t = type(v)
    if t is bool:
        return "boolean"
    if t is float:
        return "number"
    if t is str:
        return "string"
    if t is Closure or t is BuiltinFunction:
        return "function"
    return "object"


def is_callable(v: Any) -> bool:
    return type(v) is Closure or type(v) is BuiltinFunction


# ---------------------------------------------------------------- numbers


def to_int32(v: Any) -> int:
    """ToInt32: the number modulo 2**32, as a signed 32-bit integer (NaN and infinities: 0)."""
    x = v if type(v) is float else to_number(v)
    if x != x or x in (math.inf, -math.inf):
        return 0
    n = int(x) & 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def number_to_string(x: float) -> str:
    """Number::toString(10) exactly as JavaScript: shortest round-trip digits, JS exponent rules."""
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    if x == math.inf:
        return "Infinity"
    if x.is_integer() and x < 9007199254740992.0:
        return str(int(x))
    _sign, digits_t, exp = Decimal(repr(x)).as_tuple()
    digits = "".join(map(str, digits_t)).rstrip("0")
    assert isinstance(exp, int)
    exp += len(digits_t) - len(digits)  # account for stripped zeros
    digits = digits.lstrip("0") or "0"
    k = len(digits)
    n = exp + k
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    es = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return digits + "e" + es
    return digits[0] + "." + digits[1:] + "e" + es


_WS = " \t\n\r\v\f\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_DECIMAL = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Infinity)")
_DECIMAL_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def _decimal_value(text: str) -> float:
    if text.endswith("Infinity"):
        return -math.inf if text.startswith("-") else math.inf
    return float(text)


def string_to_number(s: str) -> float:
    s = s.strip(_WS)
    if not s:
        return 0.0
    if len(s) > 2 and s[0] == "0" and s[1] in "xXoObB":
        base = {"x": 16, "o": 8, "b": 2}[s[1].lower()]
        try:
            return float(int(s[2:], base)) if "_" not in s else math.nan
        except ValueError:
            return math.nan
    if _DECIMAL.fullmatch(s):
        return _decimal_value(s)
    return math.nan


def to_number(v: Any) -> float:
    t = type(v)
    if t is float:
        return v
    if t is bool:
        return 1.0 if v else 0.0
    if t is str:
        return string_to_number(v)
    if v is None:
        return 0.0
    if v is UNDEFINED:
        return math.nan
    if t is int:
        return float(v)
    return to_number(to_primitive(v, True))


def to_integer(v: Any) -> float:
    """ToIntegerOrInfinity."""
    n = to_number(v)
    if n != n:
        return 0.0
    if n in (math.inf, -math.inf):
        return n
    return float(math.trunc(n))


def relative_index(v: Any, length: int, default: int) -> int:
    """Resolve a slice-style index (negative counts from the end), clamped to [0, length]."""
    if v is UNDEFINED:
        return default
    n = to_integer(v)
    if n < 0:
        return int(max(length + n, 0))
    return int(min(n, length))


# ---------------------------------------------------------------- conversions


def to_boolean(v: Any) -> bool:
    t = type(v)
    if t is bool:
        return v
    if t is float:
        return not (v == 0 or v != v)
    if t is str:
        return v != ""
    return not (v is None or v is UNDEFINED)


def to_primitive(v: Any, number_hint: bool = False) -> Any:
    """ToPrimitive with the default hint (or the number hint: a Date gives its time rather than
    its text): arrays join, objects are "[object Object]", errors "Name: message"."""
    t = type(v)
    if t is DateObject:
        if number_hint:
            return v.time
        return date_to_string(v.time)
    if t is ErrorObject:
        return error_to_string(v)
    if t is MapObject:
        return "[object Map]"
    if t is SetObject:
        return "[object Set]"
    if t is list:
        return array_join(v, ",")
    if t is dict or t is Handle:
        return "[object Object]"
    if t is StdObjectRef:
        return f"[object {v.name}]" if v.name in ("Math", "JSON") else "[object Object]"
    if t is Closure:
        return "() => { [code] }"
    if t is BuiltinFunction:
        return f"function {v.name.rsplit('.', 1)[-1]}() {{ [native code] }}"
    if t is RegExp:
        return f"/{v.source}/{v.flags}"
    return v


def to_string(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is float:
        return number_to_string(v)
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    if t is int:
        return number_to_string(float(v))
    return to_string(to_primitive(v))


_seen_join: set[int] = set()


def array_join(arr: list[Any], sep: str) -> str:
    # Cyclic arrays join to "" for the repeated part, as JavaScript engines do.
    if id(arr) in _seen_join:
        return ""
    _seen_join.add(id(arr))
    try:
        return sep.join("" if (x is None or x is UNDEFINED) else to_string(x) for x in arr)
    finally:
        _seen_join.discard(id(arr))


def to_property_key(v: Any) -> str:
    if type(v) is str:
        return v
    return to_string(v)


_INDEX = re.compile(r"0|[1-9]\d*")


def array_index(key: Any) -> int | None:
    """The array index `key` denotes (a float or canonical numeric string), or None."""
    if type(key) is float:
        if key.is_integer() and 0 <= key < 4294967295:
            return int(key)
        return None
    if type(key) is str and _INDEX.fullmatch(key) and len(key) < 11:
        i = int(key)
        return i if i < 4294967295 else None
    return None


def own_keys(obj: dict[str, Any]) -> list[str]:
    """Object keys in JavaScript order: integer-like keys ascending, then the rest as inserted."""
    ints = [k for k in obj if _INDEX.fullmatch(k) and len(k) < 11 and int(k) < 4294967295]
    if not ints:
        return list(obj)
    ints.sort(key=int)
    rest = [k for k in obj if not (_INDEX.fullmatch(k) and len(k) < 11 and int(k) < 4294967295)]
    return ints + rest


# ---------------------------------------------------------------- operators


def js_add(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is float and tb is float:
        return a + b
    if ta is str and tb is str:
        return a + b
    a, b = to_primitive(a), to_primitive(b)
    if type(a) is str or type(b) is str:
        return to_string(a) + to_string(b)
    return to_number(a) + to_number(b)


def js_div(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return math.nan
        neg = (a < 0) != (math.copysign(1.0, b) < 0)
        return -math.inf if neg else math.inf


def js_mod(a: float, b: float) -> float:
    if a != a or b != b or a in (math.inf, -math.inf) or b == 0:
        return math.nan
    if b in (math.inf, -math.inf):
        return a
    if a == 0:
        return a
    r = math.fmod(a, b)
    if r == 0:
        return math.copysign(0.0, a)
    return r


def js_pow(a: float, b: float) -> float:
    if b != b:
        return math.nan
    if b == 0:
        return 1.0
    if a != a:
        return math.nan
    if abs(a) == 1 and b in (math.inf, -math.inf):
        return math.nan
    try:
        return math.pow(a, b)
    except OverflowError:
        if a < 0 and b.is_integer() and int(b) % 2 == 1:
            return -math.inf
        return math.inf
    except ValueError:
        if a == 0:  # 0 ** negative
            odd = b.is_integer() and int(b) % 2 == 1
            return -math.inf if (odd and math.copysign(1.0, a) < 0) else math.inf
        return math.nan


def _type_tag(v: Any) -> str:
    return typeof(v) if v is not None else "null"


def strict_equals(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is float and tb is float:
        return a == b
    if ta is str and tb is str:
        return a == b
    if ta is bool and tb is bool:
        return a == b
    if ta in (float, str, bool) or tb in (float, str, bool):
        return False
    if ta is BuiltinFunction and tb is BuiltinFunction:  # `Task.run === Task.run`
        return a.name == b.name and a.this is b.this
    return a is b


def loose_equals(a: Any, b: Any) -> bool:
    ta, tb = _type_tag(a), _type_tag(b)
    if ta == tb:
        return strict_equals(a, b)
    nullish = ("null", "undefined")
    if ta in nullish or tb in nullish:
        return ta in nullish and tb in nullish
    if ta == "number" and tb == "string":
        return a == string_to_number(b)
    if ta == "string" and tb == "number":
        return string_to_number(a) == b
    if ta == "boolean":
        return loose_equals(to_number(a), b)
    if tb == "boolean":
        return loose_equals(a, to_number(b))
    if ta in ("number", "string") and tb in ("object", "function"):
        return loose_equals(a, to_primitive(b))
    if ta in ("object", "function") and tb in ("number", "string"):
        return loose_equals(to_primitive(a), b)
    return False


def _string_key(s: str) -> list[int]:
    """UTF-16 code units, so string comparison orders like JavaScript."""
    return list(s.encode("utf-16-be"))


def js_less_than(a: Any, b: Any) -> bool | None:
    """Abstract relational comparison a < b; None when undefined (a NaN is involved)."""
    a, b = to_primitive(a, True), to_primitive(b, True)
    if type(a) is str and type(b) is str:
        if a.isascii() and b.isascii():
            return a < b
        return _string_key(a) < _string_key(b)
    x, y = to_number(a), to_number(b)
    if x != x or y != y:
        return None
    return x < y


def compare(op: str, a: Any, b: Any) -> bool:
    if type(a) is float and type(b) is float:
        if op == "<":
            return a < b
        if op == ">":
            return a > b
        if op == "<=":
            return a <= b
        return a >= b
    if op == "<":
        return js_less_than(a, b) is True
    if op == ">":
        return js_less_than(b, a) is True
    if op == "<=":
        r = js_less_than(b, a)
        return r is False
    r = js_less_than(a, b)
    return r is False


def same_value_zero(a: Any, b: Any) -> bool:
    if type(a) is float and type(b) is float and a != a and b != b:
        return True
    return strict_equals(a, b)


# ---------------------------------------------------------------- parse helpers


def parse_float(text: str) -> float:
    s = text.lstrip(_WS)
    m = _DECIMAL_PREFIX.match(s)
    if not m:
        return math.nan
    return _decimal_value(m.group(0))


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_int(text: str, radix: Any = UNDEFINED) -> float:
    s = text.lstrip(_WS)
    sign = 1.0
    if s[:1] in ("+", "-"):
        if s[0] == "-":
            sign = -1.0
        s = s[1:]
    r = 0
    if radix is not UNDEFINED:
        n = to_number(radix)
        r = 0 if (n != n or n in (math.inf, -math.inf)) else math.trunc(n) % 4294967296
        if r >= 2147483648:
            r -= 4294967296
    strip_prefix = True
    if r != 0:
        if r < 2 or r > 36:
            return math.nan
        if r != 16:
            strip_prefix = False
    else:
        r = 10
    if strip_prefix and s[:2].lower() == "0x":
        s = s[2:]
        r = 16
    valid = _DIGITS[:r]
    end = 0
    while end < len(s) and s[end].lower() in valid:
        end += 1
    if end == 0:
        return math.nan
    return sign * float(int(s[:end], r))
