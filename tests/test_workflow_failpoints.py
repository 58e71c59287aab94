"""A real `rhythm worker` killed at every failpoint of the step path and of the task path while
it runs a workflow of three sequential tasks (RHYTHM_FAILPOINT: the process exits at once, as
kill -9 would). A second worker then finishes every workflow: each completes with the right
output, each of its tasks was created once and completed once (a step's effects are never
committed twice), and a task body ran twice only when the kill fell between running it and
committing its result (tasks run at least once). With eager dispatch and resume (the default)
the doomed worker runs the tasks its steps start and steps the workflow their results wake
itself, so the eager failpoints (a kill between an eager claim and its run) are covered too, and
so is the eager continuation (a task's result committed with its parent's next step). All
scenarios run side by side, each on its own queue with its own doomed worker."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path

from rhythm.client import Client
from rhythm.worker.failpoints import EXIT_CODE
from rhythm.worker.testing import WorkerProcess, WorkerProcesses

APP = Path(__file__).parent / "workflow_app"
sys.path.insert(0, str(APP))
import wf_db  # noqa: E402

# point (killing at its N-th time) -> the attempts that ran each task's body, in task order
SCENARIOS: dict[str, list[list[int] | tuple[list[int], ...]]] = {
    # Step points are hit on the second step (the first resume, after task 1's result).
    "step-after-claim:2": [[1], [1], [1]],
    "step-after-vm:2": [[1], [1], [1]],
    "step-before-commit:2": [[1], [1], [1]],
    # The committed step made task 2 ready; the dying worker may have claimed it (attempt 1)
    # in the instant before it exited, so its body then runs once, as attempt 2.
    "step-after-commit:2": [[1], ([1], [2]), [1]],
    # Task points are hit by the first task.
    "task-after-claim:1": [[2], [1], [1]],  # claimed, never ran: attempt 2 runs it
    "task-after-run:1": [[1, 2], [1], [1]],  # ran, result lost with the process: ran again
    "task-before-commit:1": [[1, 2], [1], [1]],
    "task-after-commit:1": [[1], [1], [1]],  # committed: nobody runs it again
    # Eager paths. A step's commit created task 1 already claimed by this worker (attempt 1),
    # which died before running it: its lease lapses and attempt 2 runs it, once.
    "eager-task-claimed:1": [[2], [1], [1]],
    # Storing task 1's result claimed the workflow for this worker, which died before stepping
    # it: the workflow's lease lapses, another worker steps it; task 1 is not run again.
    "eager-step-claimed:1": [[1], [1], [1]],
    # Eager continuation (the only scenarios run with it on: it takes every later step of this
    # workflow, so the points above are reached with --no-chain). Task 1 returned and the next
    # step ran on the worker's own snapshot; nothing of either was stored: attempt 2 runs task 1.
    "chain-after-vm:1": [[1, 2], [1], [1]],
    # Task 1's result and the step that starts task 2 (claimed by the dying worker) committed
    # together: task 1 is not run again, task 2 runs as attempt 2.
    "chain-after-commit:1": [[1], [2], [1]],
}
CHAINED = {"chain-after-vm:1", "chain-after-commit:1"}


def _queue(point: str) -> str:
    return "fp-" + point.replace(":", "-")


def _runs(run_dir: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for log in run_dir.glob("*.log"):
        for line in log.read_text().splitlines():
            tag, attempt = line.split()
            found.setdefault(tag, []).append(int(attempt))
    return {tag: sorted(a) for tag, a in found.items()}


def test_a_worker_killed_at_any_failpoint_of_a_workflow_loses_nothing(
    migrated_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "runs"
    run_dir.mkdir()
    env = {"WF_RUN_DIR": str(run_dir)}
    common = ["--workflows", "flows", "--lease-seconds", "1"]
    with Client(migrated_url) as client:
        client.register_workflows(APP / "flows")
    started = {
        point: wf_db.start(
            migrated_url, "steps", {"tag": _queue(point), "queue": _queue(point)}, _queue(point)
        )
        for point in SCENARIOS
    }
    doomed: dict[str, WorkerProcess] = {}
    failures: list[BaseException] = []

    def launch(point: str) -> None:
        logs = tmp_path / _queue(point)
        logs.mkdir()
        procs = WorkerProcesses(migrated_url, "wf_tasks", APP, logs, env=env)
        try:
            doomed[point] = procs.start(
                *common,
                *(() if point in CHAINED else ("--no-chain",)),
                *("-q", _queue(point)),
                env={"RHYTHM_FAILPOINT": point},
                ready_timeout=120,
            )
        except BaseException as exc:  # reported below, with the worker's log
            failures.append(exc)

    threads = [threading.Thread(target=launch, args=(p,)) for p in SCENARIOS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)
    assert not failures, failures
    for point, proc in doomed.items():
        code = proc.wait(60)
        assert code == EXIT_CODE, f"{point}: exit {code}\n{proc.log()}"
        assert f"failpoint {point.split(':')[0]} reached" in proc.log()

    rescuer = WorkerProcesses(migrated_url, "wf_tasks", APP, tmp_path, env=env)
    queues = [arg for p in SCENARIOS for arg in ("-q", _queue(p))]
    try:
        rescuer.start(*common, *queues)
        found = wf_db.wait(migrated_url, list(started.values()), 90)
    finally:
        rescuer.stop_all()

    runs = _runs(run_dir)
    for point, expected in SCENARIOS.items():
        wid, tag = started[point], _queue(point)
        row = found[wid]
        assert row["status"] == "completed", (point, row["output"])
        assert row["output"] == [f"{tag}-1", f"{tag}-2", f"{tag}-3"], point
        kids = wf_db.children(migrated_url, wid)
        # Each step's effects were committed once: three tasks, each completed once.
        assert Counter((k["name"], k["status"]) for k in kids) == {("record", "completed"): 3}, (
            point,
            kids,
        )
        ran = [runs.get(f"{tag}-{i}") for i in (1, 2, 3)]
        # An expected entry is the attempts that ran that task, or a tuple of the outcomes allowed.
        assert all(
            r in e if isinstance(e, tuple) else r == e for r, e in zip(ran, expected, strict=True)
        ), (point, ran, expected)
