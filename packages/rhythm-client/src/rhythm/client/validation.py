"""Checks on everything a caller hands the client, so bad values fail here, loudly, by name."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from rhythm.client.errors import InvalidInput
from rhythm.client.models import EXECUTION_TYPES, FINISHED, STATUSES
from rhythm.core import durations, limits
from rhythm.core.limits import MAX_NAME_LENGTH


def check_name(value: object, what: str = "task name") -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be a non-empty string, got {_show(value)}")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{what} is longer than {MAX_NAME_LENGTH} characters: {value[:40]!r}...")
    return check_text(value, what)


def check_int(
    value: object,
    what: str,
    minimum: int = limits.MIN_PRIORITY,
    maximum: int = limits.MAX_PRIORITY,
) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{what} must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise InvalidInput(f"{what} must be between {minimum} and {maximum}, got {value!r}")
    return value


def check_seconds(
    value: object, what: str, allow_zero: bool, maximum: float = math.inf
) -> float | None:
    """None, or a finite number of seconds (int, float or timedelta) up to `maximum`; negative
    is never allowed."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        raise InvalidInput(f"{what} must be a number of seconds or a timedelta, got {value!r}")
    if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidInput(f"{what} must be {bound} seconds, got {value!r}")
    if seconds > maximum:
        raise InvalidInput(f"{what} must be at most {maximum:.0f} seconds, got {value!r}")
    return seconds


def check_delay(value: object) -> float | None:
    seconds = check_seconds(value, "delay", allow_zero=True, maximum=limits.MAX_DELAY_SECONDS)
    return seconds if seconds else None  # 0 means now: straight to the ready queue


def check_retries(value: object) -> int | None:
    if value is None:
        return None
    return check_int(value, "retries", limits.MIN_RETRIES, limits.MAX_RETRIES)


def check_timeout(value: object) -> float | None:
    return check_seconds(value, "timeout", allow_zero=False, maximum=limits.MAX_TIMEOUT_SECONDS)


def check_key(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            f"idempotency_key must be a non-empty string or None, got {_show(value)}"
        )
    check_text(value, "idempotency_key")
    size = len(value.encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise InvalidInput(
            f"idempotency_key {_show(value)} is {size} bytes in UTF-8; at most {MAX_KEY_BYTES} "
            "are allowed (hash a longer key)"
        )
    return value


def check_status(value: object) -> str | None:
    if value is None:
        return None
    if value not in STATUSES:
        raise InvalidInput(f"unknown status {value!r}; expected one of {', '.join(STATUSES)}")
    return str(value)


def check_type(value: object) -> str | None:
    """None (any), "task" or "workflow"."""
    if value is None:
        return None
    if value not in EXECUTION_TYPES:
        raise InvalidInput(f"unknown execution type {value!r}; expected task or workflow")
    return str(value)


def parse_id(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    raise InvalidInput(f"not an execution id: {value!r}")


# Deeper than this, Python's own json module (in every worker that decodes the inputs) and the
# recursive checks here would hit the interpreter's recursion limit (about 1000 frames).
MAX_JSON_DEPTH = 500
# Python refuses to turn longer integers into text (sys.get_int_max_str_digits(), default 4300),
# so JSON could neither carry nor decode them; 2**14_000 has 4215 digits, safely below.
_INT_BITS_SURELY_OK = 14_000
# Postgres cannot index a key much over 2,700 bytes (a btree row); refuse well before.
MAX_KEY_BYTES = 1000
_SURROGATE = re.compile("[\ud800-\udfff]")


def _show(value: object) -> str:
    """repr(value), cut short for long values (never a megabyte in an error message)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    if isinstance(value, list | tuple | Mapping):
        return f"<{type(value).__name__} of {len(value)} item(s)>"  # its repr may be huge or deep
    text = repr(value)
    if len(text) > 80:
        size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters"
        return f"{text[:60]}... ({size})"
    return text


def text_problem(value: str) -> str | None:
    """Why Postgres cannot store the string `value`, or None."""
    if "\x00" in value:
        return "NUL characters are not allowed"
    if not value.isascii() and _SURROGATE.search(value):
        return "lone surrogates (half of a UTF-16 pair) cannot be encoded as UTF-8"
    return None


def check_text(value: str, what: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise InvalidInput(f"{what} {_show(value)}: {problem}")
    return value


def _path(trail: tuple[Any, ...] | None, root: str) -> str:
    parts: list[str] = []
    while trail is not None:
        trail, step = trail
        parts.append(step)
    parts.reverse()
    if len(parts) > 8:  # a deep path: its start and end say enough
        return f"{root}{''.join(parts[:4])}...{''.join(parts[-2:])} (depth {len(parts)})"
    return root + "".join(parts)


def _find_bad(value: Any, what: str) -> tuple[str, Any, str] | None:
    """The first place in `value` JSON cannot carry into Postgres and back to Python, as
    (path, value, reason). Iterative, so deep nesting is reported, not a RecursionError."""
    stack: list[tuple[Any, int, tuple[Any, ...] | None]] = [(value, 0, None)]
    while stack:
        item, depth, trail = stack.pop()
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, str):
            problem = text_problem(item)
            if problem is not None:
                return _path(trail, what), item, problem
        elif isinstance(item, int):
            if item.bit_length() > _INT_BITS_SURELY_OK:
                try:
                    str(item)
                except ValueError:
                    return (
                        _path(trail, what),
                        item,
                        "integers over 4300 digits cannot be carried as JSON (send it as a string)",
                    )
        elif isinstance(item, float):
            if not math.isfinite(item):
                return _path(trail, what), item, "not JSON"
        elif isinstance(item, list | tuple | Mapping):
            if depth >= MAX_JSON_DEPTH:
                return _path(trail, what), item, f"nested deeper than {MAX_JSON_DEPTH} levels"
            children: list[tuple[Any, int, tuple[Any, ...] | None]] = []
            if isinstance(item, Mapping):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return _path(trail, what) + " key", key, "not JSON (keys must be strings)"
                    problem = text_problem(key)
                    if problem is not None:
                        return _path(trail, what) + " key", key, problem
                    children.append((child, depth + 1, (trail, f"[{_show(key)}]")))
            else:
                for i, child in enumerate(item):
                    children.append((child, depth + 1, (trail, f"[{i}]")))
            stack.extend(reversed(children))  # report the first bad part in document order
        else:
            return _path(trail, what), item, "not JSON"
    return None


def encode_json(value: Any, what: str) -> str:
    """`value` as JSON text, or InvalidInput naming the first unrepresentable part of it."""
    bad = _find_bad(value, what)
    if bad is not None:
        path, item, reason = bad
        raise InvalidInput(f"{path} is {type(item).__name__} {_show(item)}: {reason}")
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_inputs(inputs: object, what: str = "inputs") -> str:
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, Mapping):
        raise InvalidInput(
            f"{what} must be a dict (a JSON object), got {type(inputs).__name__} {inputs!r}"
        )
    return encode_json(inputs, what)


def check_older_than(value: object) -> float:
    seconds = check_seconds(value, "older_than", allow_zero=True)
    if seconds is None:
        raise InvalidInput("older_than must be a number of seconds or a timedelta, got None")
    return seconds


def check_prunable(value: object) -> list[str]:
    """A non-empty collection of finished statuses (a lone string counts as one)."""
    items: list[object]
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = list(value)
    else:
        raise InvalidInput(f"statuses must be a list of statuses, got {value!r}")
    if not items:
        raise InvalidInput("statuses must name at least one of completed, failed, cancelled")
    for item in items:
        if item not in FINISHED:
            raise InvalidInput(
                f"cannot prune executions with status {item!r}: only finished ones "
                "(completed, failed, cancelled) can be deleted"
            )
    return sorted({str(item) for item in items})


def parse_duration(text: str) -> float:
    """'30s', '15m', '24h', '7d', '2w' or a combination such as '1h30m' -> seconds (the same
    grammar as timeouts in .flow files)."""
    seconds = durations.parse_duration(text, require_unit=True)
    if seconds is None:
        raise InvalidInput(
            f"invalid duration {text!r}: use a number and a unit s, m, h, d or w "
            "(for example 30s, 15m, 24h, 7d or 1h30m)"
        )
    return seconds
