"""Failpoints: named instants at which a test can make the worker process die at once.

Set RHYTHM_FAILPOINT=<name> (the first time the point is reached) or <name>:<N> (the N-th
time) in a worker's environment; reaching it calls os._exit(86): no cleanup, no flush, no
hand-back, as kill -9 would. Tests use this to kill a real `rhythm worker` at every instant of
the task and step paths and check that nothing is lost and nothing is committed twice.

Points: task-after-claim, task-after-run, task-before-commit, task-after-commit,
step-after-claim, step-after-vm, step-before-commit, step-after-commit, and the eager paths':
eager-task-claimed (a step's commit created tasks already claimed by this worker, not yet
started) and eager-step-claimed (storing a task's result claimed its parent workflow, not yet
stepped), and the eager continuation's: chain-after-vm (a task returned and its parent's next
step ran on this worker's last snapshot; nothing of either stored) and chain-after-commit (the
task's result and that step committed in one transaction)."""

from __future__ import annotations

import os
import sys
import threading
from collections import Counter

ENV = "RHYTHM_FAILPOINT"
EXIT_CODE = 86
POINTS = frozenset(
    {
        "task-after-claim",
        "task-after-run",
        "task-before-commit",
        "task-after-commit",
        "step-after-claim",
        "step-after-vm",
        "step-before-commit",
        "step-after-commit",
        "eager-task-claimed",
        "eager-step-claimed",
        "chain-after-vm",
        "chain-after-commit",
    }
)

_reached: Counter[str] = Counter()
_lock = threading.Lock()  # steps may reach their points from the thread pool


def failpoint(name: str) -> None:
    """Exit the process now if RHYTHM_FAILPOINT names this point (and this is its N-th time)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    target = int(nth) if nth.isdigit() and int(nth) > 0 else 1
    with _lock:
        _reached[name] += 1
        hit = _reached[name] == target
    if hit:
        sys.stderr.write(f"rhythm: failpoint {name} reached (time {target}): exiting now\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE)
