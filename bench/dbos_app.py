"""The peer in bench_workflows.py: DBOS workflows shaped like the Rhythm ones, and its processes.

Every workflow step appends `<tag> <key> <time.time()>` lines to the file named by BENCH_STAMP_FILE
(when set), so both systems are timed by the same clock and the same kind of write.

    python bench/dbos_app.py URL worker EXECUTOR_ID CONCURRENCY   serve the queues until SIGTERM
    python bench/dbos_app.py URL resume-start K WORKFLOW_ID       run K steps, exit (like kill -9)
                                                                  once the workflow waits in recv
    python bench/dbos_app.py URL recover WORKFLOW_ID              launch (which recovers it), wait
                                                                  for it to finish, exit
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from dbos import DBOS, DBOSConfig

STAMP_FILE = os.environ.get("BENCH_STAMP_FILE")
APP_NAME = "bench"
APP_VERSION = "bench-1"  # fixed, so a second process recovers what the first one left
QUEUE = "bench"
SIGNAL_QUEUE = "bench_signals"
# DBOS queues are polled (1 s by default). A short interval is what lets a queue keep its
# workers busy; the figures would otherwise measure the poll interval, not the engine.
POLL_SECONDS = 0.01


def stamp(tag: str, key: Any) -> None:
    if STAMP_FILE:
        with open(STAMP_FILE, "a", encoding="utf-8") as out:
            out.write(f"{tag} {key} {time.time()}\n")


@DBOS.step()
def noop_step(i: int) -> None:
    """The no-op task: nothing but its checkpoint."""


@DBOS.step()
def stamped_step(key: str) -> None:
    if STAMP_FILE:
        with open(STAMP_FILE, "a", encoding="utf-8") as out:
            out.write(f"start {key} {time.time()}\nend {key} {time.time()}\n")


@DBOS.workflow()
def three_steps(i: int) -> int:
    noop_step(i)
    noop_step(i)
    noop_step(i)
    return i


@DBOS.workflow()
def chain(run: int, steps: int) -> int:
    for i in range(steps):
        stamped_step(f"{run}:{i}")
    return steps


@DBOS.workflow()
def resume_probe(k: int) -> int:
    # Plain workflow code runs again on every (re)execution: this line marks the start of a replay.
    stamp("entry", k)
    for i in range(k):
        noop_step(i)
    DBOS.recv("go", timeout_seconds=3600)
    stamped_step(f"mark:{k}")
    return k


@DBOS.workflow()
async def wait_signal(i: int) -> Any:
    return await DBOS.recv_async("go", timeout_seconds=3600)


def sqlalchemy_url(conninfo: str) -> str:
    """A libpq connection string (what rhythm.client.testing hands out) as the URL DBOS takes."""
    from psycopg.conninfo import conninfo_to_dict
    from sqlalchemy.engine import URL

    params = conninfo_to_dict(conninfo)
    host = str(params.get("host") or "127.0.0.1")
    on_socket = host.startswith("/")
    return URL.create(
        "postgresql",
        username=str(params.get("user") or "postgres"),
        password=str(params["password"]) if params.get("password") else None,
        host=None if on_socket else host,
        port=None if on_socket or not params.get("port") else int(params["port"]),
        database=str(params.get("dbname") or "postgres"),
        query={"host": host, "port": str(params.get("port") or 5432)} if on_socket else {},
    ).render_as_string(hide_password=False)


def configure(url: str, executor_id: str) -> None:
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": sqlalchemy_url(url),
        "application_version": APP_VERSION,
        "executor_id": executor_id,
        "log_level": "WARNING",
    }
    DBOS(config=config)


def register_queues(concurrency: int | None) -> None:
    DBOS.register_queue(QUEUE, worker_concurrency=concurrency, polling_interval_sec=POLL_SECONDS)
    # Every waiting workflow must be running to wait in recv: no per-worker limit here.
    DBOS.register_queue(SIGNAL_QUEUE, polling_interval_sec=POLL_SECONDS)


def serve(url: str, executor_id: str, concurrency: int) -> None:
    configure(url, executor_id)
    DBOS.launch()
    register_queues(concurrency)
    # Sleep until SIGTERM (the default handler ends the process).
    while True:
        time.sleep(3600)


def resume_start(url: str, k: int, workflow_id: str) -> None:
    """Run the probe until it has completed its K steps and waits in recv, then die at once."""
    import psycopg

    configure(url, "local")
    DBOS.launch()
    from dbos import SetWorkflowID

    with SetWorkflowID(workflow_id):
        DBOS.start_workflow(resume_probe, k)
    with psycopg.connect(url, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM dbos.operation_outputs"
                " WHERE workflow_uuid = %s AND function_name LIKE %s",
                (workflow_id, "%noop_step%"),
            ).fetchone()
            if row and row[0] >= k:
                break
            time.sleep(0.05)
    time.sleep(0.5)  # into recv
    os._exit(0)  # no shutdown: the workflow stays PENDING, as after kill -9


def recover(url: str, workflow_id: str) -> None:
    configure(url, "local")
    stamp("launch", workflow_id)
    DBOS.launch()  # finds the PENDING workflow of executor "local" and re-runs it
    handle = DBOS.retrieve_workflow(workflow_id)
    handle.get_result()
    os._exit(0)


def main() -> None:
    url, mode, *rest = sys.argv[1:]
    if mode == "worker":
        serve(url, rest[0], int(rest[1]))
    elif mode == "resume-start":
        resume_start(url, int(rest[0]), rest[1])
    elif mode == "recover":
        recover(url, rest[0])
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
