"""Limits on what a task may be started with, shared by the VM's `Task.run` checks and the
client's validation, so a workflow step never produces a task the store would refuse at commit.

Priorities are Postgres `integer`s; delays and timeouts become timestamps (`now() + interval`),
which must stay within Postgres' range, so both are capped far beyond any practical use."""

from __future__ import annotations

MAX_NAME_LENGTH = 200  # task, workflow, signal and queue names
MIN_PRIORITY = -(2**31 - 1)
MAX_PRIORITY = 2**31 - 1
MIN_RETRIES = 0
MAX_RETRIES = 1000
MAX_DELAY_SECONDS = 100 * 366 * 86400.0  # about a century
MAX_TIMEOUT_SECONDS = MAX_DELAY_SECONDS


def name_problem(value: object) -> str | None:
    """Why `value` cannot be a task, workflow, signal or queue name, or None when it can."""
    if not isinstance(value, str) or not value.strip():
        return "must be a non-empty string"
    if len(value) > MAX_NAME_LENGTH:
        return f"is longer than {MAX_NAME_LENGTH} characters"
    return None
