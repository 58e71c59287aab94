"""Lock ordering of the queue statements: completions, failures, hand-backs, cancels, lease
renewals and the lease reaper racing on the very same rows must never deadlock (SQLSTATE 40P01).
The statements are run raw from several connections, exactly as queries.sql holds them."""

from __future__ import annotations

import contextlib
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from rhythm.client.queries import query

ROWS = 120
SECONDS = 3.0
WORKER = "stress-worker"


def _connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    with contextlib.suppress(psycopg.Error):  # detect deadlocks in ms, not 1 s (superuser only)
        conn.execute("SET deadlock_timeout = '20ms'")
    return conn


def _seed(conn: psycopg.Connection[Any]) -> list[uuid.UUID]:
    """ROWS running executions of attempt 1 whose leases (held by WORKER) have all lapsed."""
    ids = sorted(uuid.uuid4() for _ in range(ROWS))
    with conn.transaction():
        conn.execute("DELETE FROM rhythm.ready")
        conn.execute("DELETE FROM rhythm.scheduled")
        conn.execute("DELETE FROM rhythm.leases")
        conn.execute(
            "INSERT INTO rhythm.executions (id, type, name, status, attempt, max_retries,"
            " started_at) SELECT i, 'task', 'stress', 'running', 1, 5, now()"
            " FROM unnest(%s::uuid[]) AS i",
            (ids,),
        )
        conn.execute(
            "INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)"
            " SELECT i, %s, 1, now() - interval '1 second' FROM unnest(%s::uuid[]) AS i",
            (WORKER, ids),
        )
    return ids


def _shuffled(ids: list[uuid.UUID], rng: random.Random) -> list[uuid.UUID]:
    picked = list(ids)
    rng.shuffle(picked)
    return picked


def test_finishing_and_reaping_the_same_rows_never_deadlocks(migrated_url: str) -> None:
    setup = _connect(migrated_url)
    errors: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    actors: dict[str, Callable[[psycopg.Connection[Any], list[uuid.UUID], random.Random], None]]

    def complete_and_fail(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        # As Worker._write does: a completion batch, then a fail batch (each autocommitted).
        picked = _shuffled(ids, rng)
        done, failed = picked[: ROWS // 2], picked[ROWS // 2 :]
        conn.execute(
            query("complete"),
            {"ids": done, "attempts": [1] * len(done), "outputs": ["{}"] * len(done)},
        )
        conn.execute(
            query("fail"),
            {
                "ids": failed,
                "attempts": [1] * len(failed),
                "errors": ['{"type": "E"}'] * len(failed),
                "retry_delays": [rng.choice([None, 60.0]) for _ in failed],
            },
        )

    def complete(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        picked = _shuffled(ids, rng)
        for start in range(0, len(picked), 30):
            batch = picked[start : start + 30]
            conn.execute(
                query("complete"),
                {"ids": batch, "attempts": [1] * len(batch), "outputs": ["1"] * len(batch)},
            )

    def release(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        picked = _shuffled(ids, rng)
        conn.execute(query("release"), {"ids": picked, "attempts": [1] * len(picked)})

    def reap(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        for _ in range(3):
            conn.execute(query("reap_expired_leases"), {"lost_worker_retries": 2})

    def renew(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        picked = _shuffled(ids, rng)
        params = {
            "worker_id": WORKER,
            "lease_seconds": -1.0,
            "ids": picked,
            "attempts": [1] * len(picked),
        }
        conn.execute(query("renew_leases"), params)

    def cancel(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        for target in rng.sample(ids, 10):
            with conn.transaction():
                conn.execute(query("cancel_unqueue"), {"id": target})
                conn.execute(query("cancel_execution"), {"id": target})

    def claim(conn: psycopg.Connection[Any], ids: list[uuid.UUID], rng: Any) -> None:
        params = {
            "queues": ["default"],
            "limit": 20,
            "worker_id": "other",
            "lease_seconds": 30.0,
            "skip": [],
        }
        conn.execute(query("claim"), params)

    actors = {
        "complete_and_fail": complete_and_fail,
        "complete": complete,
        "release": release,
        "reap-1": reap,
        "reap-2": reap,
        "renew": renew,
        "cancel": cancel,
        "claim": claim,
    }
    conns = {name: _connect(migrated_url) for name in actors}
    barrier = threading.Barrier(len(actors) + 1)
    stop = threading.Event()
    current: list[list[uuid.UUID]] = [[]]

    def run(name: str) -> None:
        rng = random.Random(name)
        while True:
            barrier.wait(timeout=60)
            if stop.is_set():
                return
            try:
                actors[name](conns[name], current[0], rng)
                ran[name] += 1
            except psycopg.errors.DeadlockDetected:
                errors["deadlock_detected (40P01) in " + name] += 1
            except psycopg.Error as exc:
                errors[f"{type(exc).__name__} in {name}: {exc}"] += 1
            barrier.wait(timeout=60)

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in actors]
    for t in threads:
        t.start()
    rounds = 0
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            current[0] = _seed(setup)
            barrier.wait(timeout=60)  # go
            barrier.wait(timeout=60)  # every actor finished this round
            rounds += 1
    finally:
        stop.set()
        barrier.wait(timeout=30)
        for t in threads:
            t.join(10)
        for c in [setup, *conns.values()]:
            c.close()

    assert not errors, f"after {rounds} rounds: {dict(errors)}"
    assert rounds >= 3 and all(ran[n] >= 3 for n in actors), (rounds, dict(ran))
