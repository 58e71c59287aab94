"""Parents in the lock order: statements that finish children (and so write to their parent
workflow's inbox and wake it) racing with statements on the parents themselves (a step's
commit, signals, timers, cancelling whole trees, claims, the reaper, and the eager resume's
claim_woken in the transaction that stores results) must never deadlock
(SQLSTATE 40P01). The statements run raw from several connections, as queries.sql holds them."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import psycopg

from rhythm.client.queries import query
from rhythm.worker.store import HOLD_READY_NOTIFY

PARENTS = 12
TASKS_PER_PARENT = 6
SECONDS = 3.0
WORKER = "parent-stress"


def _connect(url: str) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True)
    with contextlib.suppress(psycopg.Error):  # detect deadlocks in ms, not 1 s
        conn.execute("SET deadlock_timeout = '20ms'")
    return conn


class Tree:
    """PARENTS suspended root workflows; each has one running child workflow and running tasks
    (half its own, half its child's), every lease lapsed, and a due timer."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.roots = [uuid.uuid4() for _ in range(PARENTS)]
        self.children = [uuid.uuid4() for _ in range(PARENTS)]
        self.tasks: list[uuid.UUID] = []
        rows: list[tuple[uuid.UUID, str, str, uuid.UUID | None, int | None]] = []
        for root, child in zip(self.roots, self.children, strict=True):
            rows.append((root, "workflow", "suspended", None, None))
            rows.append((child, "workflow", "running", root, 1))
            for i in range(TASKS_PER_PARENT):
                task = uuid.uuid4()
                self.tasks.append(task)
                parent = root if i % 2 else child
                rows.append((task, "task", "running", parent, 10 + i))
        with conn.transaction():
            for table in ("ready", "scheduled", "leases", "timers"):
                conn.execute(f"DELETE FROM rhythm.{table}")
            conn.execute(
                "INSERT INTO rhythm.workflow_definitions (name, version_hash, source)"
                " VALUES ('stress', 'v', '') ON CONFLICT DO NOTHING"
            )
            conn.execute(
                "INSERT INTO rhythm.executions (id, type, name, status, attempt, max_retries,"
                " parent_id, parent_handle, version_hash, started_at)"
                " SELECT r.id, r.type, 'stress', r.status, 1, 5, r.parent, r.handle,"
                " CASE WHEN r.type = 'workflow' THEN 'v' END, now()"
                " FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::uuid[], %s::int[])"
                " AS r (id, type, status, parent, handle)",
                [list(c) for c in zip(*rows, strict=True)],
            )
            conn.execute(
                "INSERT INTO rhythm.workflow_state (execution_id, version_hash, state, waiting_on)"
                " SELECT id, 'v', '{}', ARRAY[1, 11, 13, 15, 99] FROM unnest(%s::uuid[]) AS id",
                (self.roots,),
            )
            conn.execute(
                "INSERT INTO rhythm.leases (execution_id, worker_id, attempt, expires_at)"
                " SELECT id, %s, 1, now() - interval '1 second' FROM unnest(%s::uuid[]) AS id",
                (WORKER, [*self.children, *self.tasks]),
            )
            conn.execute(
                "INSERT INTO rhythm.timers (execution_id, handle, kind, fire_at)"
                " SELECT id, 99, 'timer', now() FROM unnest(%s::uuid[]) AS id",
                (self.roots,),
            )


def test_children_parents_signals_timers_and_cancels_never_deadlock(migrated_url: str) -> None:
    setup = _connect(migrated_url)
    errors: Counter[str] = Counter()
    ran: Counter[str] = Counter()
    current: list[Tree] = []

    def complete(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        picked = rng.sample(t.tasks, len(t.tasks))
        for start in range(0, len(picked), 10):
            batch = picked[start : start + 10]
            conn.execute(
                query("complete"),
                {"ids": batch, "attempts": [1] * len(batch), "outputs": ['{"b":1,"a":2}'] * 10},
            )

    def fail(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        picked = rng.sample(t.tasks, len(t.tasks) // 2)
        conn.execute(
            query("fail"),
            {
                "ids": picked,
                "attempts": [1] * len(picked),
                "errors": ['{"type": "E", "message": "m"}'] * len(picked),
                "retry_delays": [rng.choice([None, 60.0]) for _ in picked],
            },
        )

    def eager_finish(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        # Eager resume: results stored and the parents they wake claimed, in one transaction
        # (HOLD_READY_NOTIFY, complete or fail, claim_woken, notify_left_ready).
        picked = rng.sample(t.tasks, len(t.tasks))
        for start in range(0, len(picked), 8):
            batch = picked[start : start + 8]
            children = {"ids": batch, "attempts": [1] * len(batch)}
            with conn.transaction():
                conn.execute(HOLD_READY_NOTIFY)
                if rng.random() < 0.5:
                    conn.execute(query("complete"), {**children, "outputs": ["1"] * len(batch)})
                else:
                    errors_ = ['{"type": "E", "message": "m"}'] * len(batch)
                    delays = [rng.choice([None, 60.0]) for _ in batch]
                    conn.execute(
                        query("fail"), {**children, "errors": errors_, "retry_delays": delays}
                    )
                claim = {
                    **children,
                    "queues": ["default"],
                    "limit": 4,
                    "worker_id": "eager",
                    "lease_seconds": 30.0,
                    "skip": [],
                }
                conn.execute(query("claim_woken"), claim)
                conn.execute(query("notify_left_ready"), children)

    def step_children(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        # A child workflow's step finishes it: lock_steps_or_fail (child + parent), finish_steps.
        for child, root in rng.sample(list(zip(t.children, t.roots, strict=True)), PARENTS):
            try:
                with conn.transaction():
                    finish_child(conn, child, root, rng)
            except psycopg.Error as exc:
                if exc.sqlstate != "RH001":  # fenced out (cancelled meanwhile): rolled back
                    raise

    def finish_child(
        conn: psycopg.Connection[Any], child: uuid.UUID, root: uuid.UUID, rng: random.Random
    ) -> None:
        lock = {"ids": [child], "attempts": [1], "parents": [root]}
        conn.execute(query("lock_steps_or_fail"), lock)
        step = {
            "id": str(child),
            "attempt": 1,
            "status": rng.choice(["completed", "failed"]),
            "state": None,
            "waiting_on": [],
            "consumed": [],
            "result": '{"done": true}',
            "version_hash": "v",
        }
        conn.execute(query("finish_steps"), {"steps": json.dumps([step])})

    def signal(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        for root in rng.sample(t.roots, PARENTS):
            conn.execute(query("send_signal"), {"id": root, "name": "go", "payload": "1"})

    def timers(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        conn.execute(query("fire_timers"), {"limit": 5})

    def cancel(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        for target in rng.sample([*t.roots, *t.children], 4):
            with conn.transaction():
                conn.execute(query("cancel_tree_unqueue"), {"id": target})
                conn.execute(query("cancel_tree"), {"id": target})
        for target in rng.sample(t.tasks, 4):
            with conn.transaction():
                conn.execute(query("cancel_unqueue"), {"id": target})
                conn.execute(query("cancel_execution"), {"id": target})

    def reap(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        conn.execute(query("reap_expired_leases"), {"lost_worker_retries": 2})

    def claim(conn: psycopg.Connection[Any], t: Tree, rng: random.Random) -> None:
        params = {
            "queues": ["default"],
            "limit": 20,
            "worker_id": "other",
            "lease_seconds": 30.0,
            "skip": [],
        }
        conn.execute(query("claim"), params)

    actors: dict[str, Callable[[psycopg.Connection[Any], Tree, random.Random], None]] = {
        "complete": complete,
        "fail": fail,
        "eager_finish": eager_finish,
        "step_children": step_children,
        "signal": signal,
        "timers": timers,
        "cancel": cancel,
        "reap": reap,
        "claim": claim,
    }
    conns = {name: _connect(migrated_url) for name in actors}
    barrier = threading.Barrier(len(actors) + 1)
    stop = threading.Event()

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
    for thread in threads:
        thread.start()
    rounds = 0
    deadline = time.monotonic() + SECONDS
    try:
        while time.monotonic() < deadline:
            current[:] = [Tree(setup)]
            barrier.wait(timeout=60)
            barrier.wait(timeout=60)
            rounds += 1
        # Afterwards the wake-up rule held: no parent is left suspended with an awaited result
        # in its inbox, and no suspended or running workflow sits in the ready queue.
        stuck = setup.execute(
            "SELECT count(*) FROM rhythm.executions AS e JOIN rhythm.workflow_state AS s"
            " ON s.execution_id = e.id WHERE e.status = 'suspended' AND EXISTS (SELECT FROM"
            " rhythm.workflow_results AS r WHERE r.execution_id = e.id"
            " AND r.handle = ANY (s.waiting_on))"
        ).fetchone()
        queued = setup.execute(
            "SELECT count(*) FROM rhythm.ready AS r JOIN rhythm.executions AS e"
            " ON e.id = r.execution_id WHERE e.status = 'suspended'"
        ).fetchone()
    finally:
        stop.set()
        barrier.wait(timeout=30)
        for thread in threads:
            thread.join(10)
        for c in [setup, *conns.values()]:
            c.close()

    assert not errors, f"after {rounds} rounds: {dict(errors)}"
    assert rounds >= 3 and all(ran[n] >= 3 for n in actors), (rounds, dict(ran))
    assert stuck == (0,) and queued == (0,)
