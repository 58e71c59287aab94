"""`rhythm status | ls | inspect | cancel` against a real Postgres."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner

from rhythm.client import Client
from rhythm.client.cli import cli


def rhythm(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_execution_commands(migrated_url: str) -> None:
    with Client(migrated_url) as client:
        a = client.tasks.run("cli-a", {"x": 1}, queue="cli-q")
        b = client.tasks.run("cli-b", {}, queue="cli-q", delay=60)

    code, out = rhythm("status", "--database-url", migrated_url)
    assert code == 0, out
    assert "executions: pending 2, running 0" in out
    assert "queue cli-q: 1 ready, 1 scheduled, 0 running" in out

    code, out = rhythm("ls", "--name", "cli-a", "--database-url", migrated_url)
    assert code == 0 and a in out and "pending" in out and b not in out

    code, out = rhythm("inspect", a, "--database-url", migrated_url)
    assert code == 0
    shown = json.loads(out)
    assert (shown["id"], shown["inputs"], shown["status"]) == (a, {"x": 1}, "pending")

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
