"""Small workflow steps run on the worker's event loop (stepper.INLINE_INSTRUCTIONS); a step that
outgrows the inline limits, fails, or belongs to a version not compiled yet runs in the thread
pool with the full limits, from the same snapshot, and that run is the one committed. Steps
handed to the pool are counted to tell the two apart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rhythm.client import Client
from rhythm.worker import Worker, task
from rhythm.worker.stepper import INLINE_INSTRUCTIONS
from rhythm.worker.threads import DaemonThreadPool

SMALL = """
const a = await Task.run("inline_echo", { n: 1 }, { queue: Inputs.queue });
const b = await Task.run("inline_echo", { n: a.n + 1 }, { queue: Inputs.queue });
return [a.n, b.n];
"""

# The second step runs LOOPS iterations (several instructions each), past the inline budget,
# and changes values that came from the snapshot: the run in the pool must start from the
# snapshot as committed, not from what the abandoned inline attempt left.
LONG = """
const xs = [1, 2, 3];
const seen = { count: 0 };
const a = await Task.run("inline_echo", { n: 1 }, { queue: Inputs.queue });
for (let i = 0; i < LOOPS; i++) { seen.count = seen.count + 1; }
xs.push(seen.count + a.n);
return xs;
""".replace("LOOPS", str(INLINE_INSTRUCTIONS))

FAILING = """
const a = await Task.run("inline_echo", { n: 1 }, { queue: Inputs.queue });
throw new Error("no " + a.n);
"""


@task("inline_echo")
async def inline_echo(inputs: dict) -> dict:
    return {"n": inputs["n"]}


@pytest.fixture
def pooled(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Every job handed to a worker's thread pool (steps: the tasks here are async)."""
    jobs: list[Any] = []
    original = DaemonThreadPool.submit

    def counting(self: DaemonThreadPool, fn: Callable[[Any], Any], arg: Any) -> Any:
        jobs.append(fn)
        return original(self, fn, arg)

    monkeypatch.setattr(DaemonThreadPool, "submit", counting)
    yield jobs


def _run(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    source: str,
) -> Any:
    name = register_flow(source, "inline")
    queue = f"q-{name}"
    start_worker(tasks=[inline_echo], queues=[queue], concurrency=2)
    wid = client.workflows.run(name, {"queue": queue}, queue=queue)
    return client.executions.wait(wid, timeout=60)


def test_small_steps_run_on_the_event_loop(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    pooled: list[Any],
) -> None:
    done = _run(client, start_worker, register_flow, SMALL)
    assert done.status == "completed" and done.output == [1, 2]
    # Only the first step went to the pool: its version was compiled there.
    assert len(pooled) == 1


def test_a_step_past_the_inline_budget_runs_again_in_the_pool_from_its_snapshot(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    pooled: list[Any],
) -> None:
    done = _run(client, start_worker, register_flow, LONG)
    assert done.status == "completed", done.error
    assert done.output == [1, 2, 3, INLINE_INSTRUCTIONS + 1]
    assert len(pooled) == 2  # the compiling first step, then the long one


def test_a_failing_step_is_run_in_the_pool_and_its_failure_committed(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    pooled: list[Any],
) -> None:
    done = _run(client, start_worker, register_flow, FAILING)
    assert done.status == "failed"
    assert done.error["type"] == "Error" and done.error["message"] == "no 1"
    assert len(pooled) == 2


def test_a_crashing_step_is_logged_once_and_fails_its_workflow(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    pooled: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug of ours in a step (here: vm.resume raising) fails that workflow; the inline attempt
    does not log it, the run in the pool does."""
    from rhythm.worker import stepper

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("resume is broken")

    monkeypatch.setattr(stepper.vm, "resume", broken)
    with caplog.at_level("ERROR", logger="rhythm.worker.stepper"):
        done = _run(client, start_worker, register_flow, SMALL)
    assert done.status == "failed" and done.error["type"] == "InternalError"
    assert "RuntimeError: resume is broken" in done.error["message"]
    crashes = [r for r in caplog.records if "step crashed" in r.getMessage()]
    assert len(crashes) == 1
    assert len(pooled) == 2  # the compiling first step; the second, inline then in the pool
