"""The workflow side of Client and AsyncClient against a real Postgres (no worker needed):
starting workflows by name on their latest version, signals, cancelling a tree, inspect."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from rhythm.client import (
    AsyncClient,
    Client,
    ExecutionFinished,
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    NotAWorkflow,
    UnknownWorkflow,
)
from rhythm.core.versions import version_hash

WAITS = 'const a = await Signal.next("go")\nreturn a\n'


@pytest.fixture(scope="module")
def client(migrated_url: str, tmp_path_factory: pytest.TempPathFactory):
    flows = tmp_path_factory.mktemp("flows")
    (flows / "greet.flow").write_text("return 'hello ' + Inputs.name\n", encoding="utf-8")
    (flows / "waiter.flow").write_text(WAITS, encoding="utf-8")
    with Client(migrated_url) as c:
        c.register_workflows(flows)
        yield c


def sql(url: str, statement: str, *args: object) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement, args)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def test_run_starts_the_latest_version_with_its_inputs(client: Client) -> None:
    wid = client.workflows.run("greet", {"name": "ann", "z": 1, "a": 2}, priority=4, queue="wf")
    ex = client.executions.get(wid)
    assert (ex.type, ex.name, ex.status, ex.queue, ex.priority) == (
        "workflow",
        "greet",
        "pending",
        "wf",
        4,
    )
    assert ex.version_hash == version_hash("return 'hello ' + Inputs.name\n")
    assert ex.inputs == {"name": "ann", "z": 1, "a": 2}
    # The workflow reads its inputs with their keys in the order given (json, not jsonb).
    [(ordered,)] = sql(
        client.database_url, "SELECT ordered_inputs::text FROM rhythm.executions WHERE id = %s", wid
    )
    assert ordered == '{"name":"ann","z":1,"a":2}'
    assert sql(client.database_url, "SELECT 1 FROM rhythm.ready WHERE execution_id = %s", wid)


def test_an_unknown_workflow_names_the_known_ones(client: Client) -> None:
    with pytest.raises(UnknownWorkflow) as caught:
        client.workflows.run("gret", {})
    assert str(caught.value) == "no workflow named 'gret' is registered; registered: greet, waiter"
    assert caught.value.known == ["greet", "waiter"]


def test_versions_new_runs_use_the_last_registered_and_old_runs_keep_theirs(
    client: Client, tmp_path: Path
) -> None:
    flow = tmp_path / "versioned.flow"
    flow.write_text("return 1\n", encoding="utf-8")
    client.register_workflows(flow)
    first = client.workflows.run("versioned", {})
    flow.write_text("return 2\n", encoding="utf-8")
    client.register_workflows(flow)
    second = client.workflows.run("versioned", {})
    assert client.executions.get(first).version_hash == version_hash("return 1\n")
    assert client.executions.get(second).version_hash == version_hash("return 2\n")
    # Registering the first source again makes it the latest again (an edit reverted).
    flow.write_text("return 1\n", encoding="utf-8")
    client.register_workflows(flow)
    third = client.workflows.run("versioned", {})
    assert client.executions.get(third).version_hash == version_hash("return 1\n")


def test_idempotency_keys_and_delays(client: Client) -> None:
    a = client.workflows.run("greet", {"name": "x"}, idempotency_key="greet-x")
    assert client.workflows.run("greet", {"name": "x"}, idempotency_key="greet-x") == a
    client.tasks.run("some-task", {}, idempotency_key="held-by-task", queue="nobody")
    with pytest.raises(IdempotencyConflict, match="already used by task 'some-task'"):
        client.workflows.run("greet", {}, idempotency_key="held-by-task")
    later = client.workflows.run("greet", {"name": "y"}, delay=3600)
    assert sql(client.database_url, "SELECT 1 FROM rhythm.scheduled WHERE execution_id = %s", later)
    assert not sql(client.database_url, "SELECT 1 FROM rhythm.ready WHERE execution_id = %s", later)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda c: c.workflows.run("", {}), r"workflow name must be a non-empty string, got ''"),
        (lambda c: c.workflows.run("greet", [1]), r"inputs must be a dict .* \[1\]"),
        (lambda c: c.workflows.run("greet", {"x": {1}}), r"inputs\['x'\] is set"),
        (lambda c: c.workflows.run("greet", {}, priority=1.5), r"priority must be an integer"),
        (lambda c: c.workflows.run("greet", {}, queue=""), r"queue must be a non-empty string"),
        (lambda c: c.workflows.run("greet", {}, delay=-1), r"delay must be >= 0 seconds, got -1"),
        (lambda c: c.signals.send("nope", "go", {}), r"not an execution id: 'nope'"),
        (lambda c: c.signals.send(str(uuid.uuid4()), "", {}), r"signal name must be a non-empty"),
        (lambda c: c.signals.send(str(uuid.uuid4()), "go", object()), r"payload is object"),
        (lambda c: c.executions.list(type="job"), r"unknown execution type 'job'"),
    ],
)
def test_bad_inputs_are_named(client: Client, call, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        call(client)


def test_signals_are_stored_in_order_and_refused_when_they_cannot_arrive(client: Client) -> None:
    wid = client.workflows.run("waiter", {})
    client.signals.send(wid, "go", {"n": 1, "a": [1, 2]})
    client.signals.send(wid, "go", None)
    client.signals.send(wid, "other", "text")
    rows = sql(
        client.database_url,
        "SELECT name, payload::text FROM rhythm.signals WHERE execution_id = %s ORDER BY id",
        wid,
    )
    assert rows == [("go", '{"n":1,"a":[1,2]}'), ("go", "null"), ("other", '"text"')]

    missing = str(uuid.uuid4())
    with pytest.raises(ExecutionNotFound, match=f"no execution with id {missing}"):
        client.signals.send(missing, "go", {})
    task = client.tasks.run("a-task", {}, queue="nobody")
    with pytest.raises(NotAWorkflow, match=f"execution {task} is a task, not a workflow"):
        client.signals.send(task, "go", {})
    assert client.executions.cancel(wid) is True
    with pytest.raises(
        ExecutionFinished, match=f"workflow {wid} has already finished \\(cancelled\\)"
    ):
        client.signals.send(wid, "go", {})


def add_child(url: str, parent: str, kind: str, name: str, status: str = "pending") -> str:
    child = str(uuid.uuid4())
    sql(
        url,
        "INSERT INTO rhythm.executions (id, type, name, status, parent_id, parent_handle)"
        " VALUES (%s, %s, %s, %s, %s, 1)",
        child,
        kind,
        name,
        status,
        parent,
    )
    return child


def test_cancel_cascades_through_the_tree_and_inspect_shows_it(client: Client) -> None:
    url = client.database_url
    root = client.workflows.run("waiter", {})
    sql(url, "UPDATE rhythm.executions SET status = 'suspended' WHERE id = %s", root)
    child = add_child(url, root, "workflow", "greet", "running")
    grandchild = add_child(url, child, "task", "deep-task", "running")
    done = add_child(url, root, "task", "done-task", "completed")

    found = client.executions.inspect(root)
    assert found.execution.id == root
    assert [(c.id, c.level) for c in found.children] == [(child, 1), (grandchild, 2), (done, 1)]
    assert found.wait is None
    assert found.wait_problem == "no snapshot is stored for this workflow yet"

    assert client.executions.cancel(root) is True
    status = dict(
        sql(
            url,
            "SELECT id::text, status FROM rhythm.executions WHERE id = ANY(%s)",
            [uuid.UUID(i) for i in (root, child, grandchild, done)],
        )
    )
    assert status == {
        root: "cancelled",
        child: "cancelled",
        grandchild: "cancelled",
        done: "completed",
    }
    assert client.executions.cancel(root) is False
    with pytest.raises(ExecutionNotFound):
        client.executions.cancel(str(uuid.uuid4()))


def test_list_by_type(client: Client) -> None:
    workflows = client.executions.list(type="workflow", limit=100)
    assert workflows and all(ex.type == "workflow" for ex in workflows)
    tasks = client.executions.list(type="task", limit=100)
    assert tasks and all(ex.type == "task" for ex in tasks)


def test_status_counts_every_status(client: Client) -> None:
    overview = client.status()
    assert set(overview.executions) == {
        "pending",
        "running",
        "suspended",
        "completed",
        "failed",
        "cancelled",
    }
    assert overview.executions["pending"] >= 1
    assert any(q.queue == "wf" and q.ready >= 1 for q in overview.queues)


async def test_the_async_client_has_the_same_workflow_surface(client: Client) -> None:
    async with AsyncClient(client.database_url) as ac:
        wid = await ac.workflows.run("waiter", {"k": 1})
        await ac.signals.send(wid, "go", [1])
        found = await ac.executions.inspect(wid)
        assert (found.execution.name, found.execution.status, found.children) == (
            "waiter",
            "pending",
            [],
        )
        with pytest.raises(UnknownWorkflow, match="registered: greet, "):
            await ac.workflows.run("nope", {})
        assert await ac.executions.cancel(wid) is True
        with pytest.raises(ExecutionFinished):
            await ac.signals.send(wid, "go", 1)
        assert (await ac.status()).executions["cancelled"] >= 1
