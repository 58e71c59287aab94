"""Eager continuation (WorkerSettings.chain): a task this worker ran, awaited alone by a workflow
whose last step this worker committed, is stored together with that workflow's next step in one
transaction. The next step runs on the snapshot the worker committed, so the transaction checks
that the workflow is still exactly there; when it is not (a signal arrived, it was cancelled)
nothing is stored and the result goes the usual way. WorkerStore.chain_step is watched to tell
the paths apart."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from rhythm.client import Client
from rhythm.worker import Worker, task
from rhythm.worker.store import WorkerStore

SEQUENTIAL = """
const q = Inputs.queue;
const a = await Task.run("chain_echo", { n: 1 }, { queue: q });
const b = await Task.run("chain_echo", { n: a.n + 1 }, { queue: q });
const c = await Task.run("chain_echo", { n: b.n + 1 }, { queue: q });
return { n: c.n, keys: Object.keys(c), at: Context.executionId };
"""

# The signal is sent while the task runs: when the task returns, the workflow's inbox holds the
# signal as well, which the step computed ahead of time never saw.
SIGNAL_DURING_TASK = """
const q = Inputs.queue;
const go = Signal.next("go");
const a = await Task.run("chain_gate", { gate: Inputs.gate }, { queue: q });
const b = await Task.run("chain_echo", { n: 2 }, { queue: q });
const s = await go;
return [a.gate, b.n, s];
"""

CHILD = """
const q = Inputs.queue;
const a = await Task.run("chain_echo", { n: 1 }, { queue: q });
const b = await Task.run("chain_echo", { n: a.n + 1 }, { queue: q });
return b.n;
"""

PARENT = """
const q = Inputs.queue;
const n = await Workflow.run(Inputs.child, { queue: q });
const c = await Task.run("chain_echo", { n: n + 1 }, { queue: q });
return c.n;
"""

_gates: dict[str, threading.Event] = {}


@task("chain_echo")
async def chain_echo(inputs: dict) -> dict:
    # Keys deliberately out of sorted order: the workflow must read them in this order.
    return {"zeta": 0, "n": inputs["n"], "alpha": 1}


@task("chain_gate")
async def chain_gate(inputs: dict) -> dict:
    gate = _gates[inputs["gate"]]
    await asyncio.to_thread(gate.wait, 20)
    return {"gate": inputs["gate"]}


@pytest.fixture
def chained(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """What chain_step answered: 'committed' or 'refused' (the workflow was not as expected)."""
    seen: Counter[str] = Counter()
    original = WorkerStore.chain_step

    async def counting(self: WorkerStore, *args: Any, **kwargs: Any) -> Any:
        done = await original(self, *args, **kwargs)
        seen["refused" if done is None else "committed"] += 1
        return done

    monkeypatch.setattr(WorkerStore, "chain_step", counting)
    yield seen


def _start(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    source: str,
    inputs: dict[str, Any] | None = None,
    **knobs: Any,
) -> tuple[str, str]:
    name = register_flow(source, "chain")
    queue = f"q-{name}"
    start_worker(tasks=[chain_echo, chain_gate], queues=[queue], **knobs)
    return client.workflows.run(name, {"queue": queue, **(inputs or {})}, queue=queue), queue


def _start_gated(
    client: Client, start_worker: Callable[..., Worker], register_flow: Callable[[str, str], str]
) -> tuple[str, str]:
    """SIGNAL_DURING_TASK started and waiting on its gate task: (workflow id, gate name)."""
    gate = secrets.token_hex(4)
    _gates[gate] = threading.Event()
    wid, _ = _start(client, start_worker, register_flow, SIGNAL_DURING_TASK, {"gate": gate})
    _until(lambda: client.executions.get(wid).status == "suspended", "the workflow to wait")
    return wid, gate


def _history(url: str, wid: str) -> list[int]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT step FROM rhythm.workflow_history WHERE execution_id = %s ORDER BY step",
            (uuid.UUID(wid),),
        ).fetchall()
    return [r[0] for r in rows]


def test_each_later_step_commits_with_the_result_it_awaited(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    migrated_url: str,
    chained: Counter[str],
) -> None:
    wid, _ = _start(client, start_worker, register_flow, SEQUENTIAL, concurrency=4)
    done = client.executions.wait(wid, timeout=60)
    assert done.status == "completed", done.error
    assert done.output == {"n": 3, "keys": ["zeta", "n", "alpha"], "at": wid}
    # The first step came through the queue; the three after it each committed together with
    # the result of the task it awaited.
    _settled(chained, "committed", 3)
    assert chained == {"committed": 3}, chained
    kids = [k for k in client.executions.list(limit=50) if str(k.parent_id) == wid]
    assert len(kids) == 3 and all(k.status == "completed" and k.attempt == 1 for k in kids)
    assert [k.output for k in sorted(kids, key=lambda k: k.id)] == [
        {"zeta": 0, "n": n, "alpha": 1} for n in (1, 2, 3)
    ]
    # Every suspension is in the workflow's history, as on the usual path.
    assert _history(migrated_url, wid) == [1, 2, 3]


def test_with_chain_off_results_and_steps_are_stored_separately(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    chained: Counter[str],
) -> None:
    wid, _ = _start(client, start_worker, register_flow, SEQUENTIAL, concurrency=4, chain=False)
    done = client.executions.wait(wid, timeout=60)
    assert done.status == "completed", done.error
    assert done.output == {"n": 3, "keys": ["zeta", "n", "alpha"], "at": wid}
    assert chained == {}, chained


def test_a_signal_that_arrived_during_the_task_sends_its_result_the_usual_way(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    chained: Counter[str],
) -> None:
    wid, gate = _start_gated(client, start_worker, register_flow)
    client.signals.send(wid, "go", {"sent": True})
    _gates[gate].set()
    done = client.executions.wait(wid, timeout=60)
    assert done.status == "completed", done.error
    assert done.output == [gate, 2, {"sent": True}]
    # The gate's result found the signal in the inbox: refused, then stored as usual (and the
    # step that read both started the echo task, whose result chained again).
    _settled(chained, "committed", 1)
    assert chained == {"refused": 1, "committed": 1}, chained


def test_a_workflow_cancelled_during_the_task_stays_cancelled(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    chained: Counter[str],
) -> None:
    wid, gate = _start_gated(client, start_worker, register_flow)
    assert client.executions.cancel(wid) is True
    _gates[gate].set()  # it returns at once, most likely before its lease renewal tells it
    _until(lambda: chained["refused"] == 1, "the gate task's result to be refused", timeout=5)
    time.sleep(0.5)
    assert client.executions.get(wid).status == "cancelled"
    kids = [k for k in client.executions.list(limit=50) if str(k.parent_id) == wid]
    assert [(k.name, k.status) for k in kids] == [("chain_gate", "cancelled")]
    assert chained == {"refused": 1}, chained


def test_a_child_workflows_last_step_tells_its_parent_the_usual_way(
    client: Client,
    start_worker: Callable[..., Worker],
    register_flow: Callable[[str, str], str],
    chained: Counter[str],
) -> None:
    child = register_flow(CHILD, "chain")
    wid, _ = _start(client, start_worker, register_flow, PARENT, {"child": child})
    done = client.executions.wait(wid, timeout=60)
    assert done.status == "completed", done.error
    assert done.output == 3
    # The child's second step (its first resume) chains; its last one finishes it, which tells
    # its parent: that takes a lock after the task's, so it is stored the usual way. The
    # parent's last step has no parent of its own to tell: it chains.
    _settled(chained, "committed", 2)
    assert chained == {"committed": 2}, chained


def _until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.05)


def _settled(chained: Counter[str], key: str, count: int) -> None:
    """The workflow is seen finished as soon as the last commit lands, a moment before the
    worker's coroutine returns from it and the watcher counts it."""
    _until(lambda: chained[key] >= count, f"{count} chain_step answer(s) {key!r}", timeout=5)
