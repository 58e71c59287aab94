"""JSON.stringify / JSON.parse exactly as JavaScript, plus the bridges between .flow values and the
plain JSON (Python dict/list/int/float/str/bool/None) the runtime stores."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rhythm.core.jsdate import to_iso_string
from rhythm.core.values import (
    UNDEFINED,
    DateObject,
    ErrorObject,
    error_name,
    is_callable,
    js_error,
    number_to_string,
    own_keys,
    to_integer,
    to_string,
)

_encode_basestring = json.encoder.encode_basestring  # type: ignore[attr-defined]
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _encode_str(s: str) -> str:
    # Strings hold code points, so a surrogate here is a lone one, which JSON.stringify escapes.
    out = _encode_basestring(s)
    if _LONE_SURROGATE.search(out):
        out = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return out


def quote(s: str) -> str:
    """A JSON string literal as JavaScript writes it (non-ASCII kept, control characters escaped)."""
    return _encode_str(s)


def _is_omitted(v: Any) -> bool:
    return v is UNDEFINED or is_callable(v)


def stringify(value: Any, space: Any = UNDEFINED) -> Any:
    """JSON.stringify(value, null, space): a str, or UNDEFINED for undefined/functions. A Date
    is written as its toJSON() gives it, an Error as its enumerable properties (none unless
    assigned: `message` is not enumerable), a Map or Set as `{}`, as in JavaScript."""
    gap = ""
    if type(space) is float:
        gap = " " * int(min(10, max(0, to_integer(space))))
    elif type(space) is str:
        gap = space[:10]
    if _is_omitted(value):
        return UNDEFINED
    out: list[str] = []
    try:
        _write(value, gap, "", out, set())
    except RecursionError:  # a value nested thousands deep: a catchable error, as in JS
        raise js_error("RangeError", "JSON.stringify: the value is nested too deeply") from None
    return "".join(out)


def _date_json(v: DateObject) -> str | None:
    """What a Date's toJSON gives: its ISO text, or null when invalid."""
    return None if v.time != v.time else to_iso_string(v.time)


def _enumerable(v: ErrorObject) -> dict[str, Any]:
    return {k: v.props[k] for k in own_keys(v.props) if k not in v.hidden}


def _write(v: Any, gap: str, indent: str, out: list[str], stack: set[int]) -> None:
    t = type(v)
    if t is DateObject:
        v = _date_json(v)
        t = type(v)
    elif t is ErrorObject:  # its enumerable own properties only, as JSON.stringify writes it
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        stack.add(id(v))
        _write(_enumerable(v), gap, indent, out, stack)
        stack.discard(id(v))
        return
    if t is str:
        out.append(_encode_str(v))
    elif t is float:
        out.append(number_to_string(v) if math.isfinite(v) else "null")
    elif t is bool:
        out.append("true" if v else "false")
    elif v is None:
        out.append("null")
    elif t is list:
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        if not v:
            out.append("[]")
            return
        stack.add(id(v))
        inner = indent + gap
        sep = ",\n" + inner if gap else ","
        out.append("[\n" + inner if gap else "[")
        for i, item in enumerate(v):
            if i:
                out.append(sep)
            if _is_omitted(item):
                out.append("null")
            else:
                _write(item, gap, inner, out, stack)
        out.append("\n" + indent + "]" if gap else "]")
        stack.discard(id(v))
    elif t is dict:
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        keys = [k for k in own_keys(v) if not _is_omitted(v[k])]
        if not keys:
            out.append("{}")
            return
        stack.add(id(v))
        inner = indent + gap
        sep = ",\n" + inner if gap else ","
        colon = ": " if gap else ":"
        out.append("{\n" + inner if gap else "{")
        for i, k in enumerate(keys):
            if i:
                out.append(sep)
            out.append(_encode_str(k))
            out.append(colon)
            _write(v[k], gap, inner, out, stack)
        out.append("\n" + indent + "}" if gap else "}")
        stack.discard(id(v))
    else:  # handles and stdlib objects: plain objects with no own keys
        out.append("{}")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]}")


def parse(text: Any) -> Any:
    """JSON.parse(text): numbers become floats; malformed text throws a SyntaxError."""
    s = to_string(text)
    try:
        return json.loads(
            s,
            parse_int=float,
            parse_float=float,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError) as e:
        msg = e.msg if isinstance(e, json.JSONDecodeError) else str(e)
        raise js_error("SyntaxError", f"JSON.parse: {msg} in {s[:40]!r}") from None


def from_json(v: Any) -> Any:
    """Plain JSON from the outside (inputs, task outputs, signal payloads) -> .flow values."""
    t = type(v)
    if t is float or t is str or t is bool or v is None:
        return v
    if t is int:
        return float(v)
    if t is list or t is tuple:
        return [from_json(x) for x in v]
    if t is dict:
        return {str(k): from_json(x) for k, x in v.items()}
    raise TypeError(f"not a JSON value: {v!r} ({t.__name__})")


def to_json(v: Any) -> Any:
    """A .flow value -> plain JSON, as JSON.parse(JSON.stringify(v)) would give it (integral
    numbers as Python ints; undefined, functions, NaN and Infinity as JSON.stringify treats them;
    a top-level undefined becomes None)."""
    return _to_json(v, set())


def error_to_json(v: Any, seen: frozenset[int] = frozenset()) -> Any:
    """A thrown value as the failure of a workflow: an Error becomes `{type, message, ...}` (its
    class name or `type`, its message, its enumerable properties and its `cause`), what a failed
    task or workflow reports; any other value as `to_json` gives it."""
    if type(v) is not ErrorObject or id(v) in seen:
        return to_json(v)
    out = {"type": to_string(v.props.get("type", error_name(v))), "message": ""}
    message = v.props.get("message", "")
    out["message"] = message if type(message) is str else to_json(message)
    for k, x in to_json(v).items():
        out.setdefault(k, x)
    if "cause" in v.props and "cause" in v.hidden:
        out["cause"] = error_to_json(v.props["cause"], seen | {id(v)})
    return out


def _to_json(v: Any, stack: set[int]) -> Any:
    t = type(v)
    if t is DateObject:
        return _date_json(v)
    if t is ErrorObject:
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        stack.add(id(v))
        res = _to_json(_enumerable(v), stack)
        stack.discard(id(v))
        return res
    if t is float:
        if not math.isfinite(v):
            return None
        if v.is_integer() and abs(v) < 1e21:
            # The digits JavaScript prints (444444444444444460000, not the float's exact value).
            return int(v) if abs(v) < 2**53 else int(number_to_string(v))
        return v
    if t is str or t is bool or v is None:
        return v
    if t is list:
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        stack.add(id(v))
        out = [None if _is_omitted(x) else _to_json(x, stack) for x in v]
        stack.discard(id(v))
        return out
    if t is dict:
        if id(v) in stack:
            raise js_error("TypeError", "Converting circular structure to JSON")
        stack.add(id(v))
        res = {k: _to_json(v[k], stack) for k in own_keys(v) if not _is_omitted(v[k])}
        stack.discard(id(v))
        return res
    if _is_omitted(v):
        return None
    return {}
