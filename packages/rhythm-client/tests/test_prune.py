"""executions.prune() and `rhythm prune`: finished history older than an age is deleted in
batches; unfinished work, and the family of unfinished workflows, never is."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner

from rhythm.client import AsyncClient, Client, InvalidInput
from rhythm.client.cli import cli
from rhythm.client.validation import parse_duration

DAY = 86400


def seed(url: str, rows: list[tuple[str, str, float, str | None]]) -> dict[str, uuid.UUID]:
    """rows: (label, status, age in seconds, parent label); returns {label: id}."""
    ids = {label: uuid.uuid4() for label, *_ in rows}
    with psycopg.connect(url) as conn:
        for label, status, age, parent in rows:
            finished = status in ("completed", "failed", "cancelled")
            conn.execute(
                "INSERT INTO rhythm.executions (id, type, name, status, parent_id, created_at,"
                " completed_at) VALUES (%s, 'task', %s, %s, %s,"
                " now() - make_interval(secs => %s + 5),"
                " CASE WHEN %s THEN now() - make_interval(secs => %s) END)",
                (ids[label], label, status, parent and ids[parent], age, finished, age),
            )
        conn.execute(
            "INSERT INTO rhythm.signals (execution_id, name) SELECT id, 's'"
            " FROM rhythm.executions WHERE id = ANY(%s)",
            (list(ids.values()),),
        )
    return ids


def remaining(url: str, ids: dict[str, uuid.UUID]) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT name FROM rhythm.executions WHERE id = ANY(%s)", (list(ids.values()),)
        ).fetchall()
    return {r[0] for r in rows}


def test_prune_deletes_only_old_finished_work(migrated_url: str) -> None:
    ids = seed(
        migrated_url,
        [
            *((f"old-done-{i}", "completed", 10 * DAY, None) for i in range(5)),
            ("old-failed", "failed", 10 * DAY, None),
            ("old-cancelled", "cancelled", 10 * DAY, None),
            ("recent-done", "completed", 3600, None),
            ("old-pending", "pending", 10 * DAY, None),
            ("old-running", "running", 10 * DAY, None),
            ("old-suspended", "suspended", 10 * DAY, None),
            ("running-parent", "running", 10 * DAY, None),
            ("child-of-running", "completed", 10 * DAY, "running-parent"),
            ("done-parent-busy-child", "cancelled", 10 * DAY, None),
            ("busy-child", "running", 10 * DAY, "done-parent-busy-child"),
            ("done-parent", "completed", 10 * DAY, None),
            ("done-child", "completed", 10 * DAY, "done-parent"),
            ("young-child", "completed", 60, "done-parent"),
        ],
    )
    with Client(migrated_url) as client:
        assert client.executions.prune(older_than=timedelta(days=7), batch_size=3) == 9
        assert client.executions.prune(older_than=7 * DAY) == 0  # nothing left to do
    assert remaining(migrated_url, ids) == {
        "recent-done",
        "old-pending",
        "old-running",
        "old-suspended",
        "running-parent",
        "child-of-running",
        "done-parent-busy-child",
        "busy-child",
        "young-child",
    }
    with psycopg.connect(migrated_url) as conn:
        young = conn.execute(
            "SELECT parent_id FROM rhythm.executions WHERE id = %s", (ids["young-child"],)
        ).fetchone()
        signals = conn.execute(
            "SELECT count(*) FROM rhythm.signals WHERE execution_id = ANY(%s)",
            (list(ids.values()),),
        ).fetchone()
    assert young == (None,)  # its parent was pruned
    assert signals == (9,)  # the pruned executions' signals went with them


def test_prune_by_status_and_async(migrated_url: str) -> None:
    ids = seed(
        migrated_url,
        [
            ("s-failed", "failed", 2 * DAY, None),
            ("s-done", "completed", 2 * DAY, None),
            ("s-cancelled", "cancelled", 2 * DAY, None),
        ],
    )
    with Client(migrated_url) as client:
        assert client.executions.prune(older_than=DAY, statuses=("failed",)) == 1
        assert client.executions.prune(older_than=3 * DAY) == 0
    assert remaining(migrated_url, ids) == {"s-done", "s-cancelled"}

    async def pruned() -> int:
        async with AsyncClient(migrated_url) as client:
            return await client.executions.prune(timedelta(hours=1), statuses=["cancelled"])

    assert asyncio.run(pruned()) == 1
    assert remaining(migrated_url, ids) == {"s-done"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"older_than": -1}, r"older_than must be >= 0 seconds, got -1"),
        ({"older_than": "7d"}, r"older_than must be a number of seconds or a timedelta"),
        ({"older_than": None}, r"older_than must be a number of seconds or a timedelta"),
        ({"older_than": 1, "statuses": ("running",)}, r"status 'running'.*only finished"),
        ({"older_than": 1, "statuses": "pending"}, r"status 'pending'"),
        ({"older_than": 1, "statuses": ()}, r"at least one of completed"),
        ({"older_than": 1, "batch_size": 0}, r"batch_size must be between 1"),
    ],
)
def test_prune_refuses_bad_arguments(migrated_url: str, kwargs: dict, message: str) -> None:
    with Client(migrated_url) as client, pytest.raises(InvalidInput, match=message):
        client.executions.prune(**kwargs)


def test_parse_duration() -> None:
    assert [parse_duration(t) for t in ("30s", "15m", "24h", "7d", "2w", "1h30m", "1.5h")] == [
        30,
        900,
        86400,
        604800,
        1209600,
        5400,
        5400,
    ]
    for bad in ("", "7", "d", "-1d", "7x", "1.5.2h", "7 days"):
        with pytest.raises(InvalidInput, match=f"invalid duration {bad!r}"):
            parse_duration(bad)


def test_prune_command(migrated_url: str) -> None:
    ids = seed(
        migrated_url, [("cli-old", "completed", 8 * DAY, None), ("cli-new", "failed", 60, None)]
    )
    run = CliRunner().invoke
    result = run(cli, ["prune", "--older-than", "7d", "--database-url", migrated_url])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("deleted 1 execution(s)") and "over 7d ago" in result.output
    assert remaining(migrated_url, ids) == {"cli-new"}

    result = run(cli, ["prune", "--older-than", "7x", "--database-url", migrated_url])
    assert result.exit_code == 2
    assert "invalid duration '7x'" in result.output and "30s, 15m, 24h, 7d" in result.output
    result = run(cli, ["prune", "--database-url", migrated_url])
    assert result.exit_code == 2 and "--older-than" in result.output
    result = run(cli, ["prune", "--older-than", "1s", "--status", "running"])
    assert result.exit_code == 2 and "'running' is not one of" in result.output
    assert remaining(migrated_url, ids) == {"cli-new"}


def test_prune_clears_overdue_rows_left_by_killed_workers(migrated_url: str) -> None:
    # A worker killed while a task of its ran past its timeout leaves its rhythm.overdue row;
    # `rhythm status` hides it once expired, and prune deletes it (an unexpired one stays).
    gone, alive = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(migrated_url) as conn:
        conn.execute(
            "INSERT INTO rhythm.overdue (worker_id, execution_id, attempt, name, expires_at)"
            " VALUES ('killed-worker', %s, 1, 'slow', now() - interval '1 minute'),"
            " ('live-worker', %s, 1, 'slow', now() + interval '1 minute')",
            (gone, alive),
        )
    with Client(migrated_url) as client:
        client.executions.prune(older_than=DAY)
    with psycopg.connect(migrated_url) as conn:
        left = conn.execute(
            "SELECT execution_id FROM rhythm.overdue WHERE execution_id = ANY(%s)", ([gone, alive],)
        ).fetchall()
        conn.execute("DELETE FROM rhythm.overdue WHERE execution_id = %s", (alive,))
    assert left == [(alive,)]
