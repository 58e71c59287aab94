"""Durable workflows end to end: two real `rhythm worker --app wf_tasks --workflows flows`
processes on a real Postgres run the .flow files of tests/workflow_app/flows, started and
signalled as a client does. Each test checks what run_workflow does in memory now holds on
Postgres: every Task.run option, awaited and fire-and-forget tasks, child workflows, timers,
signals (sent before their wait, in order, with timeouts), the Promise combinators, failures,
Context, versions across re-registration, cancel cascading to children, a runaway loop failing
only its own workflow, and 1,000 concurrent workflows."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from rhythm.client import Client
from rhythm.core.testing import run_workflow
from rhythm.worker.testing import WorkerProcesses, wait_for

APP = Path(__file__).parent / "workflow_app"
sys.path.insert(0, str(APP))
import wf_db  # noqa: E402  (the test app's client helpers live beside its tasks)


@pytest.fixture(scope="module")
def workers(
    migrated_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcesses]:
    logs = tmp_path_factory.mktemp("wf-workers")
    procs = WorkerProcesses(migrated_url, "wf_tasks", APP, logs, env={"WF_RUN_DIR": str(logs)})
    args = ["--workflows", "flows", "-q", "default", "-q", "special", "--lease-seconds", "2"]
    procs.start(*args, "-c", "16")
    procs.start(*args, "-c", "16")
    yield procs
    procs.stop_all()


@pytest.fixture(scope="module")
def url(migrated_url: str, workers: WorkerProcesses) -> str:
    return migrated_url


def finished(url: str, execution_id: str, timeout: float = 30.0) -> dict:
    return wf_db.wait(url, [execution_id], timeout)[execution_id]


def test_every_task_option_is_honoured(url: str) -> None:
    wid = wf_db.start(url, "options")
    row = finished(url, wid)
    assert row["status"] == "completed", row["output"]
    out = row["output"]
    assert out["flaky"] == {"attempt": 3, "queue": "special"}  # retries: 2, queue: "special"
    assert out["timedOut"] == "TaskTimeout"  # timeout: 0.5 on a 3 s task
    assert out["waitedMs"] >= 1000  # delay: 1
    kids = {r["name"]: r for r in wf_db.children(url, wid)}
    details = wf_db.rows(url, [str(r["id"]) for r in kids.values()])
    flaky = details[str(kids["flaky"]["id"])]
    assert (flaky["priority"], flaky["queue"], flaky["attempt"]) == (7, "special", 3)
    delayed = details[str(kids["record"]["id"])]
    assert delayed["started_at"] - delayed["created_at"] >= timedelta(seconds=1)


def test_fire_and_forget_tasks_run_and_their_failure_does_not_fail_the_workflow(url: str) -> None:
    wid = wf_db.start(url, "fanout", {"tag": "ff"})
    row = finished(url, wid)
    # The awaited task's output reached the workflow with its keys in the order returned.
    assert row["output"] == {"keys": ["tag", "zeta", "alpha", "queue"], "tag": "ff"}
    kids = wf_db.wait(url, [str(k["id"]) for k in wf_db.children(url, wid)], 30)
    assert sorted((k["name"], k["status"]) for k in kids.values()) == [
        ("fail", "failed"),
        ("record", "completed"),
        ("record", "completed"),
    ]
    assert wf_db.rows(url, [wid])[wid]["status"] == "completed"


def test_child_workflows_return_their_output_and_throw_their_error(url: str) -> None:
    wid = wf_db.start(url, "parent", {"n": 21})
    row = finished(url, wid)
    assert row["status"] == "completed" and row["output"] == {"r": 42, "err": "n must be >= 0"}
    kids = [k for k in wf_db.children(url, wid) if k["level"] == 1]
    assert [(k["type"], k["name"], str(k["parent_id"])) for k in kids] == [
        ("workflow", "child", wid),
        ("workflow", "child", wid),
    ]
    assert sorted(k["status"] for k in kids) == ["completed", "failed"]


def test_timers_delay_and_until(url: str) -> None:
    until = (datetime.now(UTC) + timedelta(seconds=1.5)).isoformat()
    wid = wf_db.start(url, "timers", {"until": until})
    row = finished(url, wid)
    assert row["status"] == "completed", row["output"]
    assert row["output"]["a"] is None and row["output"]["b"] is None
    assert row["output"]["elapsedMs"] >= 1000
    assert row["completed_at"] >= datetime.fromisoformat(until)


def test_signals_sent_before_their_wait_arrive_in_order_and_waits_time_out(url: str) -> None:
    wid = wf_db.start(url, "signals")
    wf_db.signal(url, wid, "go", {"n": 1, "b": True})  # before the workflow even ran
    wf_db.signal(url, wid, "go", {"n": 2})
    row = finished(url, wid)
    assert row["output"] == {"first": {"n": 1, "b": True}, "second": {"n": 2}, "timeout": "Timeout"}


def test_promise_combinators_over_tasks_timers_signals_and_values(url: str) -> None:
    wid = wf_db.start(url, "combinators")
    row = finished(url, wid)
    assert row["status"] == "completed", row["output"]
    assert row["output"] == {
        "all": [2, None, 5],
        "settled": ["rejected", "fulfilled"],
        "any": 6,
        "race": 8,
        "raced": None,
    }


def test_an_uncaught_task_failure_fails_the_workflow_with_that_error(url: str) -> None:
    row = finished(url, wf_db.start(url, "failing"))
    assert row["status"] == "failed"
    assert row["output"]["type"] == "ValueError" and row["output"]["message"] == "kaboom"
    assert row["output"]["task"] == "fail" and row["error"] == row["output"]


def test_context_holds_the_real_values(url: str) -> None:
    before = time.time()
    wid = wf_db.start(url, "context")
    row = finished(url, wid)
    out = row["output"]
    assert (out["id"], out["name"], out["version"]) == (wid, "context", row["version_hash"])
    assert before * 1000 - 5000 <= out["now"] <= time.time() * 1000 + 5000


def test_a_runaway_loop_or_bloated_state_fails_only_its_own_workflow(url: str) -> None:
    runaway = wf_db.start(url, "runaway")
    bloated = wf_db.start(url, "bloated")
    backtracking = wf_db.start(url, "backtracking")  # holds a thread for its 2 s, not the GIL
    others = wf_db.start_many(url, "one", [{"n": n} for n in range(10)])
    found = wf_db.wait(url, [runaway, bloated, backtracking, *others], 60)
    assert found[runaway]["status"] == "failed"
    assert found[runaway]["output"]["type"] == "BudgetExceeded"
    assert found[backtracking]["status"] == "failed"
    assert found[backtracking]["output"]["type"] == "BudgetExceeded"
    assert "regular expressions ran for more than 2 s" in found[backtracking]["output"]["message"]
    assert found[bloated]["status"] == "failed"
    assert found[bloated]["output"]["type"] == "StateTooLarge"
    assert [found[i]["output"] for i in others] == [n * 2 for n in range(10)]


def test_running_executions_keep_their_version_across_re_registration(
    url: str, tmp_path: Path
) -> None:
    flow = tmp_path / "versioned.flow"
    flow.write_text('await Signal.next("go");\nreturn "v1";\n')
    with Client(url) as client:
        client.register_workflows(flow)
        old = wf_db.start(url, "versioned")
        wait_for(lambda: wf_db.rows(url, [old])[old]["status"] == "suspended", 20, "suspension")
        flow.write_text('await Signal.next("go");\nreturn "v2";\n')
        client.register_workflows(flow)
    new = wf_db.start(url, "versioned")
    assert (
        wf_db.rows(url, [old])[old]["version_hash"] != wf_db.rows(url, [new])[new]["version_hash"]
    )
    for wid in (old, new):
        wf_db.signal(url, wid, "go", None)
    found = wf_db.wait(url, [old, new], 30)
    assert (found[old]["output"], found[new]["output"]) == ("v1", "v2")


def test_cancel_cascades_to_child_workflows_and_running_tasks(
    url: str, workers: WorkerProcesses
) -> None:
    wid = wf_db.start(url, "tree")

    def started() -> bool:
        kids = wf_db.children(url, wid)
        return {(k["name"], k["status"]) for k in kids} == {
            ("sleeper", "suspended"),
            ("sleep", "running"),
        }

    wait_for(started, 20, "the child workflow to wait and the task to run")
    with Client(url) as client:
        assert client.executions.cancel(wid) is True
        assert client.executions.cancel(wid) is False  # already cancelled
    statuses = {k["name"]: k["status"] for k in wf_db.children(url, wid)}
    assert statuses == {"sleeper": "cancelled", "sleep": "cancelled"}
    assert wf_db.rows(url, [wid])[wid]["status"] == "cancelled"
    wait_for(
        lambda: any("no longer leased" in p.log() for p in workers.started),
        10,
        "the running task to learn of its cancellation at lease renewal",
    )


def test_a_thousand_concurrent_workflows_through_two_worker_processes(
    url: str, workers: WorkerProcesses
) -> None:
    ids = wf_db.start_many(url, "one", [{"n": n} for n in range(1000)])
    found = wf_db.wait(url, ids, 120)
    assert [found[i]["output"] for i in ids] == [n * 2 for n in range(1000)]
    assert all(p.poll() is None for p in workers.started)

    def ended() -> list[int]:
        return [
            sum(
                1
                for line in p.log().splitlines()
                if "workflow one (" in line and "completed" in line
            )
            for p in workers.started
        ]

    # A worker logs a workflow's end once its commit has returned: a moment after the database
    # shows it (and the last commits of a batch return together).
    wait_for(lambda: sum(ended()) >= 1000, 30, "a log line for every workflow's end")
    assert all(n > 0 for n in ended()), ended()  # both processes stepped them


def _in_memory(name: str, inputs: dict, signals: list[tuple[str, object]]) -> object:
    """What rhythm.core.testing.run_workflow says, with stand-ins behaving like wf_tasks."""

    def fail(i: dict) -> None:
        raise ValueError(i.get("message", "boom"))

    tasks = {"double": lambda i: i["n"] * 2, "fail": fail}
    flows = {p.stem: p.read_text() for p in (APP / "flows").glob("*.flow")}
    result = run_workflow(flows[name], inputs, tasks=tasks, workflows=flows, signals=signals,
                          name=name)  # fmt: skip
    return result.output


@pytest.mark.parametrize(
    ("name", "inputs", "signals"),
    [
        ("parent", {"n": 5}, []),
        ("combinators", {}, []),
        ("async_calls", {}, []),  # async calls suspended side by side
        ("signals", {}, [("go", [1, {"b": 2, "a": 1}]), ("go", "second")]),
        ("recurse", {"n": 0}, []),  # the same nesting limit for child workflows
        ("forever", {}, []),  # an await nothing can settle fails alike
    ],
)
def test_postgres_gives_what_run_workflow_gives_in_memory(
    url: str, name: str, inputs: dict, signals: list[tuple[str, object]]
) -> None:
    wid = wf_db.start(url, name, inputs)
    for signal_name, payload in signals:
        wf_db.signal(url, wid, signal_name, payload)
    row = finished(url, wid, 60)
    assert row["output"] == _in_memory(name, inputs, signals)


def test_promise_all_over_a_thousand_tasks_started_in_one_step(url: str) -> None:
    wid = wf_db.start(url, "fan", {"n": 1000})
    row = finished(url, wid, 120)
    assert row["status"] == "completed" and row["output"] == sum(2 * i for i in range(1000))
    kids = wf_db.children(url, wid)
    assert len(kids) == 1000 and {k["status"] for k in kids} == {"completed"}
    # All started by the first step: created in one statement, so at one instant.
    assert len({k["created_at"] for k in kids}) == 1
