"""Postgres restarts under durable workflows: a private cluster (started here, never the system
server) is restarted, cleanly and then as after a crash, while workflows are suspended on timers
and signals and while others are in the middle of their steps. Every workflow then completes
with the right output, each step's tasks were created once, and the two `rhythm worker`
processes reconnect by themselves."""

from __future__ import annotations

import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rhythm.client import Client
from rhythm.client.fault_injection import PrivatePostgres, postgres_bin_dir
from rhythm.client.migrations import migrate
from rhythm.client.testing import create_database
from rhythm.worker.testing import WorkerProcesses, wait_for

APP = Path(__file__).parent / "workflow_app"
sys.path.insert(0, str(APP))
import wf_db  # noqa: E402

FAST = ("--lease-seconds", "1.5", "--statement-timeout", "1.5", "--grace-period", "1")
CHAIN_STEPS = 40


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres(postgres_bin_dir()).start()
    try:
        yield pg
    finally:
        pg.close()


def _stepped(url: str, ids: list[str]) -> int:
    """How many of the workflows have committed a step (they wait on their timer or signal)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM rhythm.workflow_state WHERE execution_id = ANY(%s::uuid[])",
                ([uuid.UUID(i) for i in ids],),
            ).fetchone()
    except psycopg.OperationalError:
        return -1
    return -1 if row is None else int(row[0])


def _statuses(url: str, ids: list[str]) -> Counter[str]:
    try:
        return Counter(r["status"] for r in wf_db.rows(url, ids).values())
    except Exception:  # restarting
        return Counter()


def test_workflows_survive_postgres_restarts_while_suspended_and_while_stepping(
    server: PrivatePostgres, tmp_path: Path
) -> None:
    url = create_database(server.url, "wf_restart")
    migrate(url)
    with Client(url) as client:
        client.register_workflows(APP / "flows")
    procs = WorkerProcesses(url, "wf_tasks", APP, tmp_path)
    try:
        for _ in range(2):
            procs.start("--workflows", "flows", "-c", "8", *FAST)
        naps = [wf_db.start(url, "nap", {"seconds": 8, "n": n}) for n in range(10)]
        waiting = [wf_db.start(url, "wait_signal") for _ in range(10)]
        chains = [
            wf_db.start(url, "chain", {"steps": CHAIN_STEPS, "seconds": 0.1}) for _ in range(10)
        ]
        wait_for(
            lambda: _stepped(url, naps + waiting) == 20,
            60,
            "the timer and signal workflows to take their first step",
        )
        for mode in ("fast", "immediate"):
            # The chains are mid-way: some steps are running, some tasks too.
            assert _statuses(url, chains)["completed"] < len(chains)
            server.stop(mode)
            time.sleep(1.0)
            server.start()
            time.sleep(0.5)
        for n, wid in enumerate(waiting):
            wf_db.signal(url, wid, "go", n)
        found = wf_db.wait(url, naps + waiting + chains, 90)
        assert all(p.poll() is None for p in procs.started)  # they reconnected by themselves
    finally:
        procs.stop_all()
    assert [found[w]["output"] for w in naps] == [n * 2 for n in range(10)]
    assert [found[w]["output"] for w in waiting] == [n * 2 for n in range(10)]
    total = sum(2 * i for i in range(CHAIN_STEPS))
    assert [found[w]["output"] for w in chains] == [total] * len(chains)
    for wid in chains:  # each step's task was created once
        kids = wf_db.children(url, wid)
        assert Counter(k["status"] for k in kids) == {"completed": CHAIN_STEPS}
