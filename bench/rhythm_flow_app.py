"""Rhythm's side of bench_workflows.py: the tasks the bench workflows (bench/flows/) await, and a
worker process that runs both (the driver registers the workflows with client.register_workflows).

The `stamp` task appends `start|end <run>:<i> <time.time()>` lines to the file named by
BENCH_STAMP_FILE (when set), exactly as the DBOS peer's stamped step does.

    python bench/rhythm_flow_app.py URL CONCURRENCY

With BENCH_EAGER=0 the worker runs with eager dispatch and resume off (WorkerSettings.eager), for
before/after comparisons in one run.
With BENCH_PROFILE=DIR the worker runs under cProfile and writes its stats to DIR when it stops."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rhythm.worker import Worker, task

FLOWS = Path(__file__).resolve().parent / "flows"
# Everything on the default queue: a Task.run without a queue option goes there.
QUEUE = "default"
STAMP_FILE = os.environ.get("BENCH_STAMP_FILE")


@task("noop", queue=QUEUE)
async def noop(inputs: dict) -> None:
    """The no-op task."""


@task("stamp", queue=QUEUE)
async def stamp(inputs: dict) -> None:
    if STAMP_FILE:
        key = f"{inputs.get('run')}:{inputs.get('i')}"
        with open(STAMP_FILE, "a", encoding="utf-8") as out:
            out.write(f"start {key} {time.time()}\nend {key} {time.time()}\n")


def main() -> None:
    url, concurrency = sys.argv[1], int(sys.argv[2])
    Worker(
        queues=[QUEUE],
        concurrency=concurrency,
        tasks=[noop, stamp],
        database_url=url,
        eager=os.environ.get("BENCH_EAGER", "1") != "0",
    ).run()


if __name__ == "__main__":
    profile_to = os.environ.get("BENCH_PROFILE")  # a folder: write cProfile stats there at exit
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
        try:
            profiler.runcall(main)
        finally:
            profiler.dump_stats(os.path.join(profile_to, f"rhythm-worker-{os.getpid()}.prof"))
    else:
        main()
