"""Implementations of `toString`/`valueOf` on every kind of value, function `name`/`length`
helpers, and `String`'s statics. Registered into `builtins.IMPLEMENTATIONS`."""

from __future__ import annotations

import math
import unicodedata
from typing import TYPE_CHECKING, Any

from rhythm.core.builtins import arg, impl
from rhythm.core.values import (
    UNDEFINED,
    array_join,
    js_error,
    number_to_string,
    to_integer,
    to_number,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM


def code_units_to_string(units: list[int]) -> str:
    """UTF-16 code units -> a .flow string: a surrogate pair becomes the one code point it
    encodes, a lone surrogate stays as it is (as JavaScript keeps it)."""
    if all(u < 0xD800 for u in units):
        return "".join(map(chr, units))
    data = b"".join(u.to_bytes(2, "big") for u in units)
    return data.decode("utf-16-be", "surrogatepass")


@impl("String.fromCharCode")
def string_from_char_code(vm: VM, this: Any, args: list[Any]) -> Any:
    units: list[int] = []
    for a in args:
        x = to_number(a)
        units.append(math.trunc(x) % 65536 if math.isfinite(x) else 0)
    out = code_units_to_string(units)
    vm.check_string(out)
    return out


@impl("String.fromCodePoint")
def string_from_code_point(vm: VM, this: Any, args: list[Any]) -> Any:
    points: list[int] = []
    for a in args:
        x = to_number(a)
        if not (math.isfinite(x) and x.is_integer() and 0 <= x <= 0x10FFFF):
            raise js_error("RangeError", f"Invalid code point {number_to_string(x)}")
        points.append(int(x))
    # A high surrogate followed by a low one is one character, as in JavaScript's UTF-16.
    units: list[int] = []
    for p in points:
        if p > 0xFFFF:
            p -= 0x10000
            units += [0xD800 + (p >> 10), 0xDC00 + (p & 0x3FF)]
        else:
            units.append(p)
    out = code_units_to_string(units)
    vm.check_string(out)
    return out


# ---------------------------------------------------------------- toString / valueOf


def _this_boolean(this: Any, method: str) -> bool:
    if type(this) is not bool:
        raise js_error("TypeError", f"Boolean.prototype.{method} requires that 'this' be a Boolean")
    return this


impl("boolean.toString")(
    lambda vm, this, args: "true" if _this_boolean(this, "toString") else "false"
)
impl("boolean.valueOf")(lambda vm, this, args: _this_boolean(this, "valueOf"))
impl("object.toString")(lambda vm, this, args: "[object Object]")
impl("function.toString")(lambda vm, this, args: to_string(this))
impl("map.toString")(lambda vm, this, args: "[object Map]")
impl("set.toString")(lambda vm, this, args: "[object Set]")


@impl("function.length")
def function_length(vm: VM, this: Any, args: list[Any]) -> Any:
    from rhythm.core.vm import function_length as length

    return length(vm.wf, this)


@impl("function.name")
def function_name(vm: VM, this: Any, args: list[Any]) -> Any:
    from rhythm.core.vm import function_name as name

    return name(vm.wf, this)


# ---------------------------------------------------------------- string methods


def _str(this: Any) -> str:
    return this if type(this) is str else to_string(this)


def _char_index(v: Any) -> float:
    return 0.0 if v is UNDEFINED else to_integer(v)


@impl("string.charAt")
def string_char_at(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str(this)
    i = _char_index(arg(args, 0))
    return s[int(i)] if 0 <= i < len(s) else ""


@impl("string.charCodeAt")
def string_char_code_at(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str(this)
    i = _char_index(arg(args, 0))
    if not 0 <= i < len(s):
        return math.nan
    code = ord(s[int(i)])
    if code > 0xFFFF:  # the first UTF-16 half of a character outside the BMP
        code = 0xD800 + ((code - 0x10000) >> 10)
    return float(code)


@impl("string.codePointAt")
def string_code_point_at(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str(this)
    i = _char_index(arg(args, 0))
    return float(ord(s[int(i)])) if 0 <= i < len(s) else UNDEFINED


@impl("string.lastIndexOf")
def string_last_index_of(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str(this)
    search = to_string(arg(args, 0))
    n = to_number(arg(args, 1))
    start = len(s) if n != n else int(min(max(to_integer(n), 0), len(s)))
    return float(s.rfind(search, 0, start + len(search)))


@impl("string.concat")
def string_concat(vm: VM, this: Any, args: list[Any]) -> Any:
    out = _str(this) + "".join(to_string(a) for a in args)
    vm.check_string(out)
    return out


@impl("string.localeCompare")
def string_locale_compare(vm: VM, this: Any, args: list[Any]) -> Any:
    a, b = _str(this), to_string(arg(args, 0))
    return -1.0 if a < b else (1.0 if a > b else 0.0)


_FORMS = ("NFC", "NFD", "NFKC", "NFKD")


@impl("string.normalize")
def string_normalize(vm: VM, this: Any, args: list[Any]) -> Any:
    s = _str(this)
    form = "NFC" if arg(args, 0) is UNDEFINED else to_string(arg(args, 0))
    if form not in _FORMS:
        raise js_error(
            "RangeError", "The normalization form should be one of NFC, NFD, NFKC, NFKD."
        )
    return unicodedata.normalize(form, s)  # type: ignore[arg-type]


impl("string.toString")(lambda vm, this, args: _str(this))
impl("string.valueOf")(lambda vm, this, args: _str(this))


@impl("array.toString")
def array_to_string(vm: VM, this: Any, args: list[Any]) -> Any:
    out = array_join(this, ",")
    vm.check_string(out)
    return out
