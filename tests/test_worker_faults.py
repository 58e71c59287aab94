"""Fault injection: real `rhythm worker` processes against a PRIVATE Postgres this module starts
(never the shared server), through a TCP proxy (rhythm.worker.testing.FaultProxy) that drops a
reply after the server committed, black-holes traffic or delays it, and across restarts of
private clusters of both pgserver's bundled binaries and Debian's Postgres 15.

Every task must complete exactly once, or run again as attempt N+1 (tasks run at least once:
a re-run is fine, a loss or an execution stuck `running` is not)."""

from __future__ import annotations

import signal
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from rhythm.client import Client
from rhythm.client.fault_injection import DEBIAN_BIN, PrivatePostgres, postgres_bin_dir
from rhythm.client.migrations import migrate
from rhythm.client.testing import create_database
from rhythm.worker.testing import FaultProxy, WorkerProcesses, wait_for

HERE = Path(__file__).parent
FAST = ("--lease-seconds", "1.5", "--statement-timeout", "1.5", "--grace-period", "1")


class Cluster:
    def __init__(self, bin_dir: Path) -> None:
        self.server = PrivatePostgres(bin_dir).start()
        self.url = create_database(self.server.url, "faults")
        migrate(self.url)

    def close(self) -> None:
        self.server.close()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster(postgres_bin_dir())
    yield c
    c.close()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runs"
    folder.mkdir()
    return folder


def processes(url: str, run_dir: Path, tmp_path: Path) -> WorkerProcesses:
    return WorkerProcesses(
        url, "queue_app", HERE, tmp_path, env={"QUEUE_TEST_RUN_DIR": str(run_dir)}
    )


@pytest.fixture
def workers(cluster: Cluster, run_dir: Path, tmp_path: Path) -> Iterator[WorkerProcesses]:
    procs = processes(cluster.url, run_dir, tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
def proxy(cluster: Cluster) -> Iterator[FaultProxy]:
    p = FaultProxy(cluster.server.port)
    yield p
    p.close()


def proxied(cluster: Cluster, proxy: FaultProxy) -> str:
    dbname = psycopg.conninfo.conninfo_to_dict(cluster.url)["dbname"]
    return proxy.url(str(dbname))


def enqueue(url: str, queue: str, count: int, seconds: float = 0.0) -> list[str]:
    with Client(url) as client:
        return client.tasks.run_many(
            "fault-record", [{"n": n, "seconds": seconds} for n in range(count)], queue=queue
        )


def finished(url: str, ids: list[str]) -> dict[str, tuple[str, int]]:
    """{id: (status, attempt)} of the given executions, read with retries across restarts."""
    for _ in range(100):
        try:
            with psycopg.connect(url, connect_timeout=3) as conn:
                rows = conn.execute(
                    "SELECT id::text, status, attempt FROM rhythm.executions"
                    " WHERE id = ANY(%s::uuid[])",
                    (ids,),
                ).fetchall()
            return {i: (s, a) for i, s, a in rows}
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise AssertionError("the database stayed unreachable")


def completed_count(url: str, ids: list[str]) -> int:
    return sum(1 for s, _ in finished(url, ids).values() if s == "completed")


def runs(run_dir: Path) -> dict[int, list[int]]:
    """{n: [attempt of each run]} from the notes of every worker process."""
    found: dict[int, list[int]] = defaultdict(list)
    for f in run_dir.glob("*.log"):
        for line in f.read_text().splitlines():
            kind, n, attempt = line.split()
            if kind == "run":
                found[int(n)].append(int(attempt))
    return found


def assert_exactly_once_or_rerun(url: str, ids: list[str], run_dir: Path, timeout: float) -> int:
    """Wait for every task to complete; each ran its final attempt exactly once and never ran
    an attempt beyond it. Returns how many tasks ran more than once (at-least-once re-runs)."""
    wait_for(
        lambda: completed_count(url, ids) == len(ids), timeout, f"{len(ids)} tasks to complete"
    )
    state = finished(url, ids)
    ran = runs(run_dir)
    reruns = 0
    for n, execution_id in enumerate(ids):
        status, attempt = state[execution_id]
        attempts = ran[n]
        assert status == "completed", (n, status)
        assert attempts.count(attempt) == 1, (n, attempt, attempts)
        assert max(attempts) == attempt, (n, attempt, attempts)
        reruns += len(attempts) > 1
    with psycopg.connect(url) as conn:
        leases = conn.execute(
            "SELECT count(*) FROM rhythm.leases l JOIN rhythm.executions e"
            " ON e.id = l.execution_id WHERE e.id = ANY(%s::uuid[])",
            (ids,),
        ).fetchone()
    assert leases == (0,)
    return reruns


def test_a_claim_whose_reply_is_lost_is_not_left_running(
    cluster: Cluster, proxy: FaultProxy, workers: WorkerProcesses, run_dir: Path
) -> None:
    """Defect 1: the claim committed, its reply was dropped. Those executions must lapse and
    run (as attempt 2), not be renewed forever by the worker that never learnt of them."""
    ids = enqueue(cluster.url, "claim-lost", 5)
    proxy.drop_reply_to("CROSS JOIN LATERAL")  # a piece of the claim statement
    workers.start("-q", "claim-lost", *FAST, database_url=proxied(cluster, proxy))
    assert_exactly_once_or_rerun(cluster.url, ids, run_dir, timeout=20)
    assert proxy.dropped == 1
    assert {a for _, a in finished(cluster.url, ids).values()} == {2}
    assert all(attempts == [2] for attempts in runs(run_dir).values())  # never ran as attempt 1


def test_a_completion_whose_reply_is_lost_is_stored_once(
    cluster: Cluster, proxy: FaultProxy, workers: WorkerProcesses, run_dir: Path
) -> None:
    ids = enqueue(cluster.url, "complete-lost", 5)
    proxy.drop_reply_to("AS d (id, attempt, output)")  # a piece of the complete statement
    workers.start("-q", "complete-lost", *FAST, database_url=proxied(cluster, proxy))
    assert assert_exactly_once_or_rerun(cluster.url, ids, run_dir, timeout=20) == 0
    assert proxy.dropped == 1
    assert {a for _, a in finished(cluster.url, ids).values()} == {1}


def test_a_black_hole_during_a_drain_loses_nothing(
    cluster: Cluster, proxy: FaultProxy, workers: WorkerProcesses, run_dir: Path
) -> None:
    ids = enqueue(cluster.url, "black-hole", 300, seconds=0.01)
    workers.start("-q", "black-hole", "-c", "4", *FAST, database_url=proxied(cluster, proxy))
    wait_for(lambda: completed_count(cluster.url, ids) >= 30, 20, "the drain to get going")
    proxy.blackhole()
    time.sleep(3.0)  # longer than a lease: the leases lapse, the connections hang
    proxy.heal()
    reruns = assert_exactly_once_or_rerun(cluster.url, ids, run_dir, timeout=40)
    assert reruns <= 4 * 2  # at most what was running or unstored when the network went silent


def test_a_slow_network_changes_nothing(
    cluster: Cluster, proxy: FaultProxy, workers: WorkerProcesses, run_dir: Path
) -> None:
    ids = enqueue(cluster.url, "slow-net", 60)
    proxy.delay(0.05)
    workers.start("-q", "slow-net", "-c", "8", *FAST, database_url=proxied(cluster, proxy))
    assert assert_exactly_once_or_rerun(cluster.url, ids, run_dir, timeout=30) == 0


@pytest.mark.parametrize("binaries", ["pgserver", "debian-15"])
def test_postgres_restarts_during_a_drain(
    binaries: str, cluster: Cluster, run_dir: Path, tmp_path: Path
) -> None:
    if binaries == "debian-15":
        if not (DEBIAN_BIN / "pg_ctl").exists():
            pytest.skip("Debian's Postgres 15 binaries are not installed")
        target = Cluster(DEBIAN_BIN)
    else:
        target = cluster
    procs = processes(target.url, run_dir, tmp_path)
    try:
        # At least 8 s of work for 8 slots however fast the machine: both restarts must land
        # while tasks are still waiting (600 tasks of 5 ms drained before the second one).
        ids = enqueue(target.url, "restarts", 1600, seconds=0.04)
        procs.start("-q", "restarts", "-c", "8", *FAST)
        resumed: list[float] = []
        for mode in ("fast", "immediate"):
            wait_for(lambda: completed_count(target.url, ids) < len(ids), 1, "work left")
            time.sleep(0.5)
            target.server.stop(mode)
            time.sleep(1.0)
            target.server.start()
            back = time.monotonic()
            before = completed_count(target.url, ids)
            wait_for(
                lambda b=before: completed_count(target.url, ids) > b, 10, "the drain to resume"
            )
            resumed.append(time.monotonic() - back)
        assert_exactly_once_or_rerun(target.url, ids, run_dir, timeout=60)
        # The worker reconnects by itself, right away: no pool backoff after an outage.
        assert max(resumed) < 1.5, resumed
    finally:
        procs.stop_all()
        if target is not cluster:
            target.close()


def test_sigterm_during_an_outage_says_what_it_could_not_store_or_hand_back(
    cluster: Cluster, workers: WorkerProcesses, run_dir: Path
) -> None:
    with Client(cluster.url) as client:
        medium = client.tasks.run("fault-record", {"n": 0, "seconds": 1.0}, queue="outage-stop")
        long = client.tasks.run("fault-record", {"n": 1, "seconds": 20.0}, queue="outage-stop")
    worker = workers.start("-q", "outage-stop", "-c", "2", *FAST)
    wait_for(lambda: set(runs(run_dir)) == {0, 1}, 10, "both tasks to start")
    cluster.server.stop("immediate")
    try:
        time.sleep(1.5)  # the medium task finishes; its result cannot be stored
        worker.signal(signal.SIGTERM)
        assert worker.wait(20) == 0
    finally:
        cluster.server.start()
    log = worker.log()
    assert "could not store 1 finished result(s) before stopping (database unreachable)" in log
    assert medium in log.split("could not store", 1)[1].splitlines()[0]
    assert "could not hand 1 unfinished execution(s) back" in log
    assert long in log.split("could not hand", 1)[1].splitlines()[0]
    with psycopg.connect(cluster.url, autocommit=True) as conn:  # not worth 20 s of waiting
        conn.execute(
            "UPDATE rhythm.executions SET inputs = '{\"n\": 1}' WHERE id = %s", (uuid.UUID(long),)
        )
    # Nothing was lost: once the leases lapse another worker runs them again.
    workers.start("-q", "outage-stop", *FAST)
    both = [medium, long]
    wait_for(
        lambda: {s for s, _ in finished(cluster.url, both).values()} == {"completed"},
        20,
        "both tasks to complete after the outage",
    )
    assert finished(cluster.url, both)[medium] == ("completed", 2)
