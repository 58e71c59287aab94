"""Eager dispatch and eager resume (WorkerSettings.eager): a worker runs the tasks its own steps
start, and steps the workflows their results wake, without a round through rhythm.ready; with
eager=False everything goes through the queue as before. Either way `concurrency` bounds what
runs at once. The claim statement is watched to tell the two paths apart."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rhythm.client import Client
from rhythm.worker import Worker, task
from rhythm.worker.store import WorkerStore

SEQUENTIAL = """
const q = Inputs.queue;
const a = await Task.run("eager_echo", { n: 1 }, { queue: q });
const b = await Task.run("eager_echo", { n: a.n + 1 }, { queue: q });
const c = await Task.run("eager_echo", { n: b.n + 1 }, { queue: q });
return c.n;
"""

FAN_OUT = """
const q = Inputs.queue;
const calls = [];
for (let i = 0; i < 12; i++) {
  calls.push(Task.run("eager_slow", { i: i }, { queue: q }));
}
const done = await Promise.all(calls);
return done.length;
"""

_running = 0
_most = 0


@task("eager_echo")
async def eager_echo(inputs: dict) -> dict:
    return {"n": inputs["n"]}


@task("eager_slow")
async def eager_slow(inputs: dict) -> dict:
    global _running, _most
    _running += 1
    _most = max(_most, _running)
    try:
        await asyncio.sleep(0.15)
    finally:
        _running -= 1
    return {"i": inputs["i"]}


@pytest.fixture
def claimed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Rows the claim statement hands out, by execution type."""
    seen: Counter[str] = Counter()
    original = WorkerStore.claim

    async def counting(self: WorkerStore, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = await original(self, *args, **kwargs)
        seen.update(r["type"] for r in rows)
        return rows

    monkeypatch.setattr(WorkerStore, "claim", counting)
    yield seen


def _run(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    source: str,
    **knobs: Any,
) -> tuple[Any, str]:
    name = register_flow(source, "eager")
    queue = f"q-{name}"
    start_worker(tasks=[eager_echo, eager_slow], queues=[queue], **knobs)
    wid = client.workflows.run(name, {"queue": queue}, queue=queue)
    done = client.executions.wait(wid, timeout=60)
    assert done.status == "completed", done.error
    return done.output, wid


def test_a_worker_runs_its_own_steps_tasks_and_resumes_without_the_queue(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    claimed: Counter[str],
) -> None:
    output, wid = _run(client, start_worker, register_flow, SEQUENTIAL, concurrency=4)
    assert output == 3
    # Only the workflow's first step came through the queue: its three tasks were created
    # already claimed by their step's commit, and each result claimed the workflow back.
    assert claimed == {"workflow": 1}, claimed
    kids = client.executions.list(limit=50)
    mine = [k for k in kids if str(k.parent_id) == str(wid)]
    assert len(mine) == 3 and all(k.status == "completed" and k.attempt == 1 for k in mine)


def test_with_eager_off_everything_goes_through_the_queue(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    claimed: Counter[str],
) -> None:
    output, _ = _run(client, start_worker, register_flow, SEQUENTIAL, concurrency=4, eager=False)
    assert output == 3
    assert claimed == {"workflow": 4, "task": 3}, claimed


def test_eager_work_never_runs_more_than_concurrency_at_once(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    claimed: Counter[str],
) -> None:
    global _most
    _most = 0
    output, _ = _run(client, start_worker, register_flow, FAN_OUT, concurrency=3)
    assert output == 12
    assert 1 <= _most <= 3, _most
    # The step's own slot and the two free ones took three tasks at its commit; the other nine
    # were queued and claimed as slots came free.
    assert claimed["task"] == 9, claimed
