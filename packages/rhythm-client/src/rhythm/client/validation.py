"""Checks on everything a caller hands the client, so bad values fail here, loudly, by name."""

from __future__ import annotations

import json
import math
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
        raise InvalidInput(f"{what} must be a non-empty string, got {value!r}")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidInput(f"{what} is longer than {MAX_NAME_LENGTH} characters: {value[:40]!r}...")
    return value


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
        raise InvalidInput(f"idempotency_key must be a non-empty string or None, got {value!r}")
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


def _find_bad(value: Any, path: str) -> tuple[str, Any] | None:
    """The first place in `value` that JSON cannot represent, as (path, value)."""
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and "\x00" in value:
            return path, value
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _find_bad(item, f"{path}[{i}]")
            if found:
                return found
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} key", key
            found = _find_bad(item, f"{path}[{key!r}]")
            if found:
                return found
        return None
    return path, value


def encode_json(value: Any, what: str) -> str:
    """`value` as JSON text, or InvalidInput naming the first unrepresentable part of it."""
    bad = _find_bad(value, what)
    if bad is not None:
        path, item = bad
        reason = "NUL characters are not allowed" if isinstance(item, str) else "not JSON"
        raise InvalidInput(f"{path} is {type(item).__name__} {item!r}: {reason}")
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
