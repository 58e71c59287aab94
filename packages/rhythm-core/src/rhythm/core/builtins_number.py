"""Implementations of the number builtins: `Number` and its statics and constants, the methods of
numbers (`toFixed`, `toPrecision`, `toExponential`, `toString(radix)`), the `Math` functions
beyond the basic ones, and the global `isFinite`. Registered into `builtins.IMPLEMENTATIONS`."""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Callable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from rhythm.core import numfmt
from rhythm.core.builtins import arg, impl
from rhythm.core.values import (
    UNDEFINED,
    js_error,
    number_to_string,
    parse_float,
    parse_int,
    to_int32,
    to_integer,
    to_number,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM

_MAX_SAFE = 9007199254740991.0


def _this_number(this: Any, method: str) -> float:
    if type(this) is not float:
        raise js_error("TypeError", f"Number.prototype.{method} requires that 'this' be a Number")
    return this


def _digits_arg(v: Any, low: int, high: int, method: str, what: str) -> int:
    n = to_integer(v)
    if not low <= n <= high:
        raise js_error("RangeError", f"{method}() {what} must be between {low} and {high}")
    return int(n)


@impl("number.toFixed")
def number_to_fixed(vm: VM, this: Any, args: list[Any]) -> Any:
    x = _this_number(this, "toFixed")
    digits = _digits_arg(arg(args, 0), 0, 100, "toFixed", "digits argument")
    return numfmt.to_fixed(x, digits)


@impl("number.toPrecision")
def number_to_precision(vm: VM, this: Any, args: list[Any]) -> Any:
    x = _this_number(this, "toPrecision")
    p = arg(args, 0)
    if p is UNDEFINED:
        return number_to_string(x)
    n = to_integer(p)
    if not math.isfinite(x):
        return number_to_string(x)
    return numfmt.to_precision(x, _digits_arg(n, 1, 100, "toPrecision", "argument"))


@impl("number.toExponential")
def number_to_exponential(vm: VM, this: Any, args: list[Any]) -> Any:
    x = _this_number(this, "toExponential")
    f = arg(args, 0)
    n = to_integer(f)
    if not math.isfinite(x):
        return number_to_string(x)
    digits = None if f is UNDEFINED else _digits_arg(n, 0, 100, "toExponential", "argument")
    return numfmt.to_exponential(x, digits)


@impl("number.toString")
def number_to_string_method(vm: VM, this: Any, args: list[Any]) -> Any:
    x = _this_number(this, "toString")
    r = arg(args, 0)
    radix = 10 if r is UNDEFINED else _digits_arg(r, 2, 36, "toString", "radix argument")
    if radix == 10:
        return number_to_string(x)
    return numfmt.to_radix_string(x, radix)


impl("number.valueOf")(lambda vm, this, args: _this_number(this, "valueOf"))


# ---------------------------------------------------------------- Number


impl("Number")(lambda vm, this, args: to_number(args[0]) if args else 0.0)


def _is_integer(v: Any) -> bool:
    return type(v) is float and math.isfinite(v) and v.is_integer()


impl("Number.isInteger")(lambda vm, this, args: _is_integer(arg(args, 0)))
impl("Number.isSafeInteger")(
    lambda vm, this, args: _is_integer(arg(args, 0)) and abs(arg(args, 0)) <= _MAX_SAFE
)
impl("Number.isFinite")(
    lambda vm, this, args: type(arg(args, 0)) is float and math.isfinite(arg(args, 0))
)
impl("Number.isNaN")(
    lambda vm, this, args: type(arg(args, 0)) is float and arg(args, 0) != arg(args, 0)
)
impl("Number.parseFloat")(lambda vm, this, args: parse_float(to_string(arg(args, 0))))
impl("Number.parseInt")(lambda vm, this, args: parse_int(to_string(arg(args, 0)), arg(args, 1)))
impl("isFinite")(lambda vm, this, args: math.isfinite(to_number(arg(args, 0))))

for _name, _value in (
    ("MAX_SAFE_INTEGER", _MAX_SAFE),
    ("MIN_SAFE_INTEGER", -_MAX_SAFE),
    ("EPSILON", sys.float_info.epsilon),
    ("MAX_VALUE", sys.float_info.max),
    ("MIN_VALUE", 5e-324),
    ("POSITIVE_INFINITY", math.inf),
    ("NEGATIVE_INFINITY", -math.inf),
    ("NaN", math.nan),
):
    impl(f"Number.{_name}")(lambda vm, this, args, v=_value: v)


# ---------------------------------------------------------------- Math


def _math1(name: str, fn: Callable[[float], float]) -> None:
    impl(f"Math.{name}")(lambda vm, this, args: fn(to_number(arg(args, 0))))


def _guarded(
    fn: Callable[[float], float], on_domain: Callable[[float], float] = lambda x: math.nan
) -> Callable[[float], float]:
    """`fn` with Python's exceptions turned into JavaScript's values: a domain error gives
    `on_domain(x)` (NaN unless told), an overflow an infinity of the right sign."""

    def go(x: float) -> float:
        if x != x:
            return x
        try:
            return fn(x)
        except ValueError:
            return on_domain(x)
        except OverflowError:
            return math.copysign(math.inf, x)

    return go


def _log_domain(at: float) -> Callable[[float], float]:
    """log-like: -Infinity at `at` (0 for log, -1 for log1p), NaN below."""
    return lambda x: -math.inf if x == at else math.nan


def _atanh_domain(x: float) -> float:
    return math.copysign(math.inf, x) if abs(x) == 1 else math.nan


def _fround(x: float) -> float:
    try:
        return struct.unpack("f", struct.pack("f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def _cbrt(x: float) -> float:
    """The cube root rounded correctly (the platform's may be off by one in the last place,
    `Math.cbrt(27)` must be 3): the libm guess, moved to the double whose rounding interval
    holds the exact root."""
    if x != x or x == 0 or not math.isfinite(x):
        return x
    a = abs(x)
    exact = Fraction(a)
    y = math.cbrt(a)
    for _ in range(4):
        low = (Fraction(math.nextafter(y, 0.0)) + Fraction(y)) / 2
        high = (Fraction(y) + Fraction(math.nextafter(y, math.inf))) / 2
        if exact < low**3:
            y = math.nextafter(y, 0.0)
        elif exact > high**3:
            y = math.nextafter(y, math.inf)
        else:
            break
    return math.copysign(y, x)


def _clz32(x: float) -> float:
    return float(32 - (to_int32(x) & 0xFFFFFFFF).bit_length())


for _name, _fn in (
    ("acos", _guarded(math.acos)),
    ("acosh", _guarded(math.acosh)),
    ("asin", _guarded(math.asin)),
    ("asinh", _guarded(math.asinh)),
    ("atan", _guarded(math.atan)),
    ("atanh", _guarded(math.atanh, _atanh_domain)),
    ("cbrt", _cbrt),
    ("clz32", _clz32),
    ("cos", _guarded(math.cos)),
    ("cosh", _guarded(lambda x: math.cosh(x) if abs(x) < 711 else math.inf)),
    ("exp", _guarded(lambda x: math.exp(x) if x < 710 else math.inf)),
    ("expm1", _guarded(lambda x: math.expm1(x) if x < 710 else math.inf)),
    ("fround", _fround),
    ("log", _guarded(math.log, _log_domain(0.0))),
    ("log10", _guarded(math.log10, _log_domain(0.0))),
    ("log1p", _guarded(math.log1p, _log_domain(-1.0))),
    ("log2", _guarded(math.log2, _log_domain(0.0))),
    ("sin", _guarded(math.sin)),
    ("sinh", _guarded(lambda x: math.sinh(x) if abs(x) < 711 else math.copysign(math.inf, x))),
    ("tan", _guarded(math.tan)),
    ("tanh", _guarded(math.tanh)),
):
    _math1(_name, _fn)


@impl("Math.atan2")
def math_atan2(vm: VM, this: Any, args: list[Any]) -> Any:
    return math.atan2(to_number(arg(args, 0)), to_number(arg(args, 1)))


@impl("Math.hypot")
def math_hypot(vm: VM, this: Any, args: list[Any]) -> Any:
    # V8's algorithm, step for step: scale by the largest, Kahan-sum the squares.
    magnitudes: list[float] = []
    any_nan = False
    largest = 0.0
    for a in args:
        x = to_number(a)
        if x != x:
            any_nan = True
            magnitudes.append(0.0)
            continue
        x = abs(x)
        magnitudes.append(x)
        largest = max(largest, x)
    if largest == math.inf:
        return math.inf
    if any_nan:
        return math.nan
    if largest == 0:
        return 0.0
    total = 0.0
    compensation = 0.0
    for x in magnitudes:
        n = x / largest
        summand = n * n - compensation
        preliminary = total + summand
        compensation = (preliminary - total) - summand
        total = preliminary
    return math.sqrt(total) * largest


@impl("Math.imul")
def math_imul(vm: VM, this: Any, args: list[Any]) -> Any:
    n = (to_int32(arg(args, 0)) * to_int32(arg(args, 1))) & 0xFFFFFFFF
    return float(n - 0x100000000 if n >= 0x80000000 else n)


for _name, _value in (
    ("LN10", 2.302585092994046),
    ("LN2", 0.6931471805599453),
    ("LOG10E", 0.4342944819032518),
    ("LOG2E", 1.4426950408889634),
    ("SQRT1_2", 0.7071067811865476),
    ("SQRT2", 1.4142135623730951),
):
    impl(f"Math.{_name}")(lambda vm, this, args, v=_value: v)
