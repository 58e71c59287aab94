"""The runners a worker dispatches claimed executions to, one per execution type.

The engine (worker.py) claims rows, keeps their leases and writes outcomes; a runner only runs
one claimed execution. `run` returns an Outcome for the engine's flushers to store (fenced by
(id, attempt)), or None when the runner stored the result itself in its own transaction (a
workflow step commits its snapshot, effects and status at once), or Started when that
transaction also claimed work for this worker (eager dispatch), which the engine then runs. It must not raise, except
asyncio.CancelledError when the engine cancels it (lease lost, shutdown).

Tasks go to TaskRunner. Workflows go to the runner built by
`rhythm.worker.stepper.workflow_runner(engine)`; a worker without that module fails claimed
workflow executions with a clear error (UnavailableRunner) instead of crashing on them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from rhythm.worker.context import TaskContext, set_current
from rhythm.worker.outcomes import Claimed, Failed, Outcome, Started, run_claimed
from rhythm.worker.registry import TaskDefinition
from rhythm.worker.threads import DaemonThreadPool

if TYPE_CHECKING:
    from rhythm.worker.worker import Worker


class Runner(Protocol):
    async def run(self, item: Claimed) -> Outcome | Started | None: ...


@runtime_checkable
class Continuer(Protocol):
    """A workflow runner that can also step a parent workflow together with the result of a
    task this worker ran (eager continuation; the stepper is one)."""

    async def chain(self, task: Claimed, output: str) -> Started | None:
        """Store the task's `output` (JSON text) and commit its parent's next step at once;
        None when that did not happen (store the result as usual)."""
        ...

    def forget(self, task_id: str) -> None:
        """The task ends without `chain`: drop what was kept for it."""
        ...


class TaskRunner:
    """Runs @task functions: async ones on the loop, sync ones in the daemon thread pool."""

    def __init__(
        self, tasks: dict[str, TaskDefinition], threads: DaemonThreadPool, worker_id: str
    ) -> None:
        self.tasks = tasks
        self.known = sorted(tasks)
        self.threads = threads
        self.worker_id = worker_id

    async def run(self, item: Claimed) -> Outcome:
        set_current(TaskContext(item.id, item.name, item.queue, item.attempt, self.worker_id))
        return await run_claimed(item, self.tasks.get(item.name), self.known, self.threads)


class UnavailableRunner:
    """Fails every execution of a type this worker cannot run, saying why."""

    def __init__(self, kind: str, reason: str) -> None:
        self.kind = kind
        self.reason = reason

    async def run(self, item: Claimed) -> Outcome:
        message = f"this worker cannot run {self.kind} {item.name!r}: {self.reason}"
        return Failed({"type": "UnsupportedExecution", "message": message, "traceback": None})


def workflow_runner(engine: Worker) -> Runner:
    """The stepper's runner when rhythm.worker.stepper is installed, else UnavailableRunner."""
    try:
        stepper: Any = importlib.import_module("rhythm.worker.stepper")
    except ModuleNotFoundError as exc:
        if exc.name != "rhythm.worker.stepper":
            raise
        return UnavailableRunner("workflow", "this version of rhythm-worker has no stepper")
    runner: Runner = stepper.workflow_runner(engine)
    return runner
