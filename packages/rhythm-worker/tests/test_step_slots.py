"""A workflow step holds its concurrency slot while its VM runs, not while its commit is stored
(Worker.step_ran): like a task's result, the commit goes on while the slot takes the next claim.
At most `concurrency` commits go on that way; past that the slots stay taken. Step commits are
held at a gate here to see what the worker does meanwhile."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rhythm.client import Client
from rhythm.worker import Worker, task
from rhythm.worker.store import WorkerStore


@task("slot_probe")
async def slot_probe(inputs: dict) -> dict:
    return {"ran": inputs["n"]}


class Gate:
    """Step commits wait here until `open()`; `held` counts the commits waiting."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self.held = 0

    def open(self) -> None:
        self.opened.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    original = WorkerStore._commit

    async def held(self: WorkerStore, *args: Any, **kwargs: Any) -> Any:
        g.held += 1
        while not g.opened.is_set():
            await asyncio.sleep(0.01)
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(WorkerStore, "_commit", held)
    yield g
    g.open()


def _setup(
    client: Client, start_worker: Callable[..., Worker], register_flow: Callable[[str, str], str]
) -> tuple[str, str]:
    """A one-step workflow and a worker with one slot on its own queue: (name, queue)."""
    name = register_flow("return Inputs.n * 2\n", "slots")
    queue = f"q-{name}"
    start_worker(tasks=[slot_probe], queues=[queue], concurrency=1, eager=False)
    return name, queue


def _until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_committing_step_leaves_its_slot_to_the_next_claim(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    gate: Gate,
) -> None:
    name, queue = _setup(client, start_worker, register_flow)
    wid = client.workflows.run(name, {"n": 21}, queue=queue)
    _until(lambda: gate.held == 1)  # its VM has run; the commit waits at the gate
    # The only slot is free: a task enqueued now runs while that commit is still held.
    tid = client.tasks.run("slot_probe", {"n": 1}, queue=queue)
    done = client.executions.wait(tid, timeout=20)
    assert done.status == "completed" and done.output == {"ran": 1}
    assert client.executions.get(wid).status == "running"  # not committed yet
    gate.open()
    finished = client.executions.wait(wid, timeout=20)
    assert finished.status == "completed" and finished.output == 42


def test_no_more_commits_go_on_than_concurrency(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    gate: Gate,
) -> None:
    name, queue = _setup(client, start_worker, register_flow)
    first = client.workflows.run(name, {"n": 1}, queue=queue)
    _until(lambda: gate.held == 1)
    second = client.workflows.run(name, {"n": 2}, queue=queue)
    _until(lambda: gate.held == 2)  # the freed slot took the second step, which ran too
    # Two commits go on with concurrency 1: one freed slot's worth, the other holds the slot.
    tid = client.tasks.run("slot_probe", {"n": 3}, queue=queue)
    time.sleep(1.0)
    assert client.executions.get(tid).status == "pending"
    gate.open()
    assert client.executions.wait(tid, timeout=20).status == "completed"
    assert client.executions.wait(first, timeout=20).output == 2
    assert client.executions.wait(second, timeout=20).output == 4
