"""A real `rhythm worker` killed at each failpoint of the task path (RHYTHM_FAILPOINT): the task
then completes exactly once. Tasks run at least once: a kill after the task ran but before its
result was committed re-runs it, and the re-run is visible as attempt 2; nothing is ever lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from rhythm.client import Client
from rhythm.worker.failpoints import EXIT_CODE
from rhythm.worker.testing import WorkerProcesses

HERE = Path(__file__).parent

# point -> (attempts that ran the task's body, final attempt)
EXPECTED = {
    "task-after-claim": ([2], 2),  # claimed, never ran: the lease lapses, attempt 2 runs it
    "task-after-run": ([1, 2], 2),  # ran, result lost with the process: re-run
    "task-before-commit": ([1, 2], 2),
    "task-after-commit": ([1], 1),  # committed: nobody runs it again
}


@pytest.fixture(scope="module")
def client(migrated_url: str) -> Iterator[Client]:
    with Client(migrated_url) as c:
        yield c


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


@pytest.fixture
def workers(migrated_url: str, run_dir: Path, tmp_path: Path) -> Iterator[WorkerProcesses]:
    procs = WorkerProcesses(
        migrated_url, "queue_app", HERE, tmp_path, env={"QUEUE_TEST_RUN_DIR": str(run_dir)}
    )
    yield procs
    procs.stop_all()


def runs(run_dir: Path, tag: str) -> list[int]:
    found = [
        line.split() for f in sorted(run_dir.glob("*.log")) for line in f.read_text().splitlines()
    ]
    return sorted(int(f[2]) for f in found if len(f) == 3 and f[0] == "start" and f[1] == tag)


@pytest.mark.parametrize("point", sorted(EXPECTED))
def test_a_worker_killed_at_a_task_failpoint_loses_nothing(
    client: Client, workers: WorkerProcesses, run_dir: Path, point: str
) -> None:
    queue = f"fp-{point}"
    doomed = workers.start("-q", queue, "--lease-seconds", "1", env={"RHYTHM_FAILPOINT": point})
    tid = client.tasks.run("proc-slow", {"tag": point, "seconds": 0}, queue=queue)
    assert doomed.wait(20) == EXIT_CODE
    assert f"failpoint {point} reached" in doomed.log()

    workers.start("-q", queue, "--lease-seconds", "1")
    ex = client.executions.wait(tid, timeout=30)
    ran, final = EXPECTED[point]
    assert (ex.status, ex.attempt) == ("completed", final)
    assert ex.output == {"tag": point, "attempt": final}
    assert runs(run_dir, point) == ran
    assert Counter(runs(run_dir, point))[final] == 1  # the attempt that counted ran once
