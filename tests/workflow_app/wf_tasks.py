"""Tasks for the end-to-end workflow tests (tests/test_workflow_*.py), run by `rhythm worker`
subprocesses. Each run of `record` appends "tag attempt" to <WF_RUN_DIR>/<pid>.log, so a test can
count runs across processes, including those of a process that was killed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from rhythm.worker import current_execution, task


def _note(text: str) -> None:
    folder = os.environ.get("WF_RUN_DIR")
    if folder:
        with open(Path(folder) / f"{os.getpid()}.log", "a", encoding="utf-8") as f:
            f.write(text + "\n")


@task
def record(inputs: dict) -> dict:
    ctx = current_execution()
    _note(f"{inputs['tag']} {ctx.attempt}")
    # Keys deliberately out of sorted order: the workflow must see them in this order.
    return {"tag": inputs["tag"], "zeta": 1, "alpha": 2, "queue": ctx.queue}


@task
def double(inputs: dict) -> int:
    return inputs["n"] * 2


@task
def fail(inputs: dict) -> None:
    raise ValueError(inputs.get("message", "boom"))


@task
def flaky(inputs: dict) -> dict:
    """Fails its first `fails` attempts."""
    ctx = current_execution()
    if ctx.attempt <= inputs["fails"]:
        raise RuntimeError(f"attempt {ctx.attempt} fails on purpose")
    return {"attempt": ctx.attempt, "queue": ctx.queue}


@task
def sleep(inputs: dict) -> float:
    time.sleep(inputs["seconds"])
    return inputs["seconds"]


@task
def sleepy_double(inputs: dict) -> int:
    time.sleep(inputs["seconds"])
    return inputs["n"] * 2
