"""`rhythm status | ls | inspect | cancel` against a real Postgres."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from rhythm.client import Client, SchemaMissing
from rhythm.client.cli import cli
from rhythm.client.testing import create_database, drop_database


def rhythm(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_execution_commands(migrated_url: str) -> None:
    with Client(migrated_url) as client:
        a = client.tasks.run("cli-a", {"x": 1}, queue="cli-q")
        b = client.tasks.run("cli-b", {}, queue="cli-q", delay=60)

    code, out = rhythm("status", "--database-url", migrated_url)
    assert code == 0, out
    lines = out.splitlines()
    header = lines.index("Executions")
    assert lines[header + 1].split() == [
        "PENDING",
        "RUNNING",
        "SUSPENDED",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
    ]
    assert lines[header + 2].split() == ["2", "0", "0", "0", "0", "0"]
    assert ["cli-q", "1", "1", "0"] in [line.split() for line in lines]
    code, out = rhythm("status", "--json", "--database-url", migrated_url)
    assert json.loads(out) == {
        "executions": {
            "pending": 2,
            "running": 0,
            "suspended": 0,
            "completed": 0,
            "failed": 0,
            "cancelled": 0,
        },
        "queues": [{"queue": "cli-q", "ready": 1, "scheduled": 1, "running": 0}],
        "overdue": [],
    }

    code, out = rhythm("ls", "--name", "cli-a", "--database-url", migrated_url)
    assert code == 0 and b not in out
    [row] = [line.split() for line in out.splitlines() if a in line]
    assert row[:6] == [a, "task", "cli-a", "·", "pending", "cli-q"]
    code, out = rhythm("ls", "--type", "workflow", "--database-url", migrated_url)
    assert (code, out.strip()) == (0, "no executions match")
    code, out = rhythm("ls", "--type", "task", "--json", "--database-url", migrated_url)
    listed = json.loads(out)
    assert {e["id"] for e in listed} == {a, b}
    assert all(e["type"] == "task" and e["created_at"].startswith("20") for e in listed)

    code, out = rhythm("inspect", a, "--database-url", migrated_url)
    assert code == 0, out
    assert out.splitlines()[0].split() == ["task", "cli-a", "·", "pending"]
    assert ["id", a] in [line.split() for line in out.splitlines()]
    assert '"x": 1' in out
    code, out = rhythm("inspect", a, "--json", "--database-url", migrated_url)
    shown = json.loads(out)
    assert (shown["execution"]["id"], shown["execution"]["inputs"]) == (a, {"x": 1})
    assert shown["children"] == [] and shown["wait"] is None

    code, out = rhythm("cancel", b, "--database-url", migrated_url)
    assert (code, out.strip()) == (0, f"cancelled {b}")
    code, out = rhythm("cancel", b, "--database-url", migrated_url)
    assert "had already finished (cancelled)" in out

    missing = str(uuid.uuid4())
    code, out = rhythm("inspect", missing, "--database-url", migrated_url)
    assert code == 1 and f"no execution with id {missing}" in out
    code, out = rhythm("cancel", "nope", "--database-url", migrated_url)
    assert code == 1 and "not an execution id: 'nope'" in out
    code, out = rhythm("ls", "--status", "done", "--database-url", migrated_url)
    assert code == 2 and "'done' is not one of" in out


@pytest.fixture(scope="module")
def unmigrated_url(postgres_admin_url: str):
    url = create_database(postgres_admin_url, "unmigrated")
    yield url
    drop_database(postgres_admin_url, url)


@pytest.mark.parametrize(
    "args",
    [
        ["status"],
        ["ls"],
        ["inspect", "00000000-0000-0000-0000-000000000001"],
        ["cancel", "00000000-0000-0000-0000-000000000001"],
        ["prune", "--older-than", "1d"],
    ],
)
def test_commands_on_a_database_without_the_schema_say_run_migrate(
    unmigrated_url: str, args: list[str]
) -> None:
    code, out = rhythm(*args, "--database-url", unmigrated_url)
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 1, out
    assert "has no Rhythm schema" in lines[0] and "run `rhythm migrate`" in lines[0]


def test_client_on_a_database_without_the_schema_raises_schema_missing(
    unmigrated_url: str,
) -> None:
    with Client(unmigrated_url) as client:
        with pytest.raises(SchemaMissing, match="run `rhythm migrate`"):
            client.tasks.run("t", {})
        with pytest.raises(SchemaMissing):
            client.executions.list()


def test_inspect_prints_a_traceback_as_text(migrated_url: str) -> None:
    import psycopg

    with Client(migrated_url) as client:
        tid = client.tasks.run("cli-broken", {"n": 1}, queue="nobody")
    traceback = (
        "Traceback (most recent call last):\n"
        '  File "app.py", line 3, in broken\n'
        '    raise ValueError("bad \\"n\\"")\n'
        'ValueError: bad "n"\n'
    )
    error = {"type": "ValueError", "message": 'bad "n"', "traceback": traceback, "attempt": 1}
    with psycopg.connect(migrated_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE rhythm.executions SET status = 'failed', error = %s::jsonb, attempt = 1,"
            " started_at = now(), completed_at = now() WHERE id = %s",
            (json.dumps(error), tid),
        )
    code, out = rhythm("inspect", tid, "--database-url", migrated_url)
    assert code == 0, out
    lines = [line.strip() for line in out.splitlines()]
    assert lines[0].split() == ["task", "cli-broken", "✗", "failed"]
    assert 'ValueError: bad "n"' in lines
    assert 'File "app.py", line 3, in broken' in lines
    assert 'raise ValueError("bad \\"n\\"")' in lines
    assert '"attempt": 1' not in out and "\\n" not in out
    code, out = rhythm("inspect", tid, "--json", "--database-url", migrated_url)
    assert json.loads(out)["execution"]["error"]["traceback"] == traceback
