"""A long workflow on Postgres: 2,000 sequential task awaits in one workflow, run by a real
`rhythm worker` process. It completes with every awaited result, and its stored snapshot does
not grow with the awaits it has completed: nothing is replayed and no history of events is kept
in the state (the snapshot history of migration 0004 keeps a copy per suspension beside it,
which is what lets this test read the snapshot at every step). Not timed: the speed of the
first and last awaits of a 100,000-await run is bench/bench_long_workflow.py's to measure."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rhythm.worker.testing import WorkerProcesses

APP = Path(__file__).parent / "workflow_app"
sys.path.insert(0, str(APP))
import wf_db  # noqa: E402

AWAITS = 2_000
# The counters in the state (the loop variable, the next handle and sequence numbers, the
# instruction count) gain digits as the awaits go by; nothing else may grow.
COUNTER_DIGITS = 32


@pytest.fixture
def procs(migrated_url: str, tmp_path: Path) -> Iterator[WorkerProcesses]:
    started = WorkerProcesses(migrated_url, "wf_tasks", APP, tmp_path)
    started.start("--workflows", "flows", "-c", "8")
    yield started
    started.stop_all()


def test_two_thousand_sequential_awaits_complete_and_the_snapshot_does_not_grow(
    migrated_url: str, procs: WorkerProcesses
) -> None:
    url = migrated_url
    wid = wf_db.start(url, "awaits", {"n": AWAITS})
    row = wf_db.wait(url, [wid], 900)[wid]
    assert row["status"] == "completed", row["error"]
    assert row["output"] == 2 * AWAITS  # every awaited task's result reached the workflow
    with psycopg.connect(url, autocommit=True) as conn:
        sizes = dict(
            conn.execute(
                "SELECT step, octet_length(state::text) FROM rhythm.workflow_history"
                " WHERE execution_id = %s ORDER BY step",
                (uuid.UUID(wid),),
            ).fetchall()
        )
        tasks = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'completed')"
            " FROM rhythm.executions WHERE parent_id = %s",
            (uuid.UUID(wid),),
        ).fetchone()
    assert tasks == (AWAITS, AWAITS)
    assert sorted(sizes) == list(range(1, AWAITS + 1))  # one snapshot per await, each kept
    early = sizes[10]
    assert max(sizes.values()) - early <= COUNTER_DIGITS, (early, max(sizes.values()))
    assert sizes[AWAITS] - sizes[AWAITS // 2] <= COUNTER_DIGITS // 2, sizes[AWAITS]
