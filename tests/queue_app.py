"""Tasks run by worker subprocesses in tests/test_queue_processes.py.

Each run appends a line to <QUEUE_TEST_RUN_DIR>/<pid>.log, so the test can count runs per task
across processes, including runs of a process that was killed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from pathlib import Path

from rhythm.worker import current_execution, task


def _note(text: str) -> None:
    folder = Path(os.environ["QUEUE_TEST_RUN_DIR"])
    with open(folder / f"{os.getpid()}.log", "a", encoding="utf-8") as f:
        f.write(text + "\n")


@task("proc-record", queue="drain")
def proc_record(inputs: dict) -> dict:
    _note(f"n {inputs['n']}")
    return {"n": inputs["n"]}


@task("proc-slow", queue="slow")
def proc_slow(inputs: dict) -> dict:
    ctx = current_execution()
    _note(f"start {inputs['tag']} {ctx.attempt}")
    time.sleep(inputs["seconds"])
    _note(f"end {inputs['tag']} {ctx.attempt}")
    return {"tag": inputs["tag"], "attempt": ctx.attempt}


@task("fault-record", queue="faults")
def fault_record(inputs: dict) -> dict:
    """Notes `run <n> <attempt>` per run, so a test can tell re-runs (at least once) from loss."""
    ctx = current_execution()
    _note(f"run {inputs['n']} {ctx.attempt}")
    if inputs.get("seconds"):
        time.sleep(inputs["seconds"])
    return {"n": inputs["n"]}


@task("proc-stubborn", queue="stubborn")
async def proc_stubborn(inputs: dict) -> None:
    """A badly written async task: it ignores every cancellation and never ends."""
    _note(f"start stubborn {current_execution().attempt}")
    while True:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
