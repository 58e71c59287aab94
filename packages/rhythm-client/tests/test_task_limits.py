"""The client and the VM's Task.run accept exactly the same task options: both read
rhythm.core.limits, so a task a workflow starts is never refused when the step commits."""

from __future__ import annotations

import math
from typing import Any

import pytest

from rhythm.client import validation
from rhythm.client.errors import InvalidInput
from rhythm.core import limits, vm
from rhythm.core.compiler import compile_source


def vm_accepts(option: str, value: Any) -> bool:
    literal = "Infinity" if value == math.inf else repr(value)
    if isinstance(value, str):
        literal = f'"{value}"'
    wf = compile_source(f'Task.run("t", {{}}, {{ {option}: {literal} }}); return 1;')
    return vm.start(wf, {}, {}).status == "completed"


def client_accepts(option: str, value: Any) -> bool:
    check = {
        "priority": lambda v: validation.check_int(v, "priority"),
        "retries": validation.check_retries,
        "timeout": validation.check_timeout,
        "delay": validation.check_delay,
        "queue": lambda v: validation.check_name(v, "queue"),
    }[option]
    try:
        check(value)
    except InvalidInput:
        return False
    return True


# Each option at, inside and past its limits; some accepted, some refused, by both sides alike.
TRIED: dict[str, tuple[Any, ...]] = {
    "priority": (0, -5, limits.MAX_PRIORITY, limits.MIN_PRIORITY, 2**31, -(2**31), 1.5),
    "retries": (0, 3, limits.MAX_RETRIES, limits.MAX_RETRIES + 1, -1, 2.5),
    "timeout": (0.001, 30, limits.MAX_TIMEOUT_SECONDS, 2 * limits.MAX_TIMEOUT_SECONDS, 0, math.inf),
    "delay": (0, 0.5, limits.MAX_DELAY_SECONDS, 2 * limits.MAX_DELAY_SECONDS, -1, math.inf),
    "queue": ("default", "q" * limits.MAX_NAME_LENGTH, "q" * (limits.MAX_NAME_LENGTH + 1), " "),
}
CASES = [(option, value) for option, values in TRIED.items() for value in values]


@pytest.mark.parametrize(("option", "value"), CASES)
def test_client_and_vm_agree(option: str, value: Any) -> None:
    assert vm_accepts(option, value) == client_accepts(option, value), (option, value)
