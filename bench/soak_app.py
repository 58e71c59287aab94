"""The task of bench/soak_queue.py: notes `<n> <attempt>` per run in <SOAK_RUN_DIR>/<pid>.log,
so the soak can tell every run of every task apart (a re-run is at-least-once, a gap is a loss)."""

from __future__ import annotations

import os
from pathlib import Path

from rhythm.worker import current_execution, task

RUN_DIR = Path(os.environ.get("SOAK_RUN_DIR", "."))


@task("soak-record", queue="soak")
def soak_record(inputs: dict) -> dict:
    with open(RUN_DIR / f"{os.getpid()}.log", "a", encoding="utf-8") as out:
        out.write(f"{inputs['n']} {current_execution().attempt}\n")
    return {"n": inputs["n"]}
