"""Number formatting exactly as JavaScript (V8) writes numbers: `toFixed`, `toPrecision`,
`toExponential` (from the double's exact decimal value, ties away from zero as the spec's "pick
the larger n") and `toString(radix)` (V8's digit-by-digit algorithm, fractions included)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

from rhythm.core.values import number_to_string

# Enough precision that every operation on a double's exact decimal value stays exact.
_EXACT = Context(prec=1200)
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _rounded_digits(x: float, digits: int) -> tuple[str, int]:
    """`x` > 0 rounded to `digits` significant digits: (the digits, the decimal exponent e of the
    first one), ties rounded up."""
    d = Decimal(x)
    e = d.adjusted()
    n = int(d.scaleb(digits - 1 - e, _EXACT).to_integral_value(ROUND_HALF_UP))
    if n >= 10**digits:
        n //= 10
        e += 1
    return str(n), e


def to_fixed(x: float, digits: int) -> str:
    """Number.prototype.toFixed for `digits` already checked to be 0..100."""
    if x != x:
        return "NaN"
    if abs(x) >= 1e21:
        return number_to_string(x)
    sign = "-" if x < 0 else ""
    q = Decimal(abs(x)).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP, _EXACT)
    text = f"{q:f}"
    return sign + text


def _exponent(e: int) -> str:
    return "e" + ("+" if e >= 0 else "-") + str(abs(e))


def to_precision(x: float, precision: int) -> str:
    """Number.prototype.toPrecision for a finite `x` and `precision` checked to be 1..100."""
    sign = ""
    if x < 0:
        sign, x = "-", -x
    if x == 0:
        digits, e = "0" * precision, 0
    else:
        digits, e = _rounded_digits(x, precision)
    if e < -6 or e >= precision:
        mantissa = digits[0] + ("." + digits[1:] if precision > 1 else "")
        return sign + mantissa + _exponent(e)
    if e == precision - 1:
        return sign + digits
    if e >= 0:
        return sign + digits[: e + 1] + "." + digits[e + 1 :]
    return sign + "0." + "0" * (-(e + 1)) + digits


def to_exponential(x: float, fraction_digits: int | None) -> str:
    """Number.prototype.toExponential for a finite `x`; `fraction_digits` checked to be 0..100,
    or None for as many digits as it takes to tell the number apart (the shortest form)."""
    sign = ""
    if x < 0:
        sign, x = "-", -x
    if x == 0:
        digits, e = "0" * ((fraction_digits or 0) + 1), 0
    elif fraction_digits is None:
        _sign, digit_tuple, exp = Decimal(repr(x)).as_tuple()
        assert isinstance(exp, int)
        digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
        e = exp + len(digit_tuple) - 1
    else:
        digits, e = _rounded_digits(x, fraction_digits + 1)
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return sign + mantissa + _exponent(e)


def _double_exponent(x: float) -> int:
    """V8's Double::Exponent: x == significand * 2**exponent with a 53-bit significand."""
    if x == 0 or not math.isfinite(x):
        return -1074
    return max(math.frexp(x)[1] - 53, -1074)


def to_radix_string(value: float, radix: int) -> str:
    """Number.prototype.toString(radix) for radix 2..36 other than 10, as V8 writes it
    (DoubleToRadixCString): fraction digits only up to the double's own precision, rounded half
    to even on the last one."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    negative = value < 0
    if negative:
        value = -value
    integer = math.floor(value)
    fraction = value - integer
    delta = max(0.5 * (math.nextafter(value, math.inf) - value), math.nextafter(0.0, 1.0))
    frac_digits: list[int] = []
    integer_f = float(integer)
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac_digits.append(digit)
            fraction -= digit
            if (fraction > 0.5 or (fraction == 0.5 and (digit & 1))) and fraction + delta > 1:
                # Round up, carrying into earlier digits (a digit that overflows is dropped).
                while True:
                    if not frac_digits:
                        integer_f += 1
                        break
                    last = frac_digits.pop()
                    if last + 1 < radix:
                        frac_digits.append(last + 1)
                        break
                break
            if not fraction >= delta:
                break
    # Integer digits; the ones below the double's precision are written as zeros.
    int_digits: list[str] = []
    while _double_exponent(integer_f / radix) > 0:
        integer_f /= radix
        int_digits.append("0")
    while True:
        remainder = math.fmod(integer_f, radix)
        int_digits.append(_DIGITS[int(remainder)])
        integer_f = (integer_f - remainder) / radix
        if not integer_f > 0:
            break
    out = "".join(reversed(int_digits))
    if frac_digits:
        out += "." + "".join(_DIGITS[d] for d in frac_digits)
    return ("-" if negative else "") + out
