"""Rhythm's side of bench_queue.py: the no-op task and a worker process.

Run as a worker process: `python bench/rhythm_app.py URL CONCURRENCY`."""

from __future__ import annotations

import os
import sys
import time

from rhythm.worker import Worker, task

LATENCY_FILE = os.environ.get("BENCH_LATENCY_FILE")


@task("noop", queue="bench")
async def noop(inputs: dict) -> None:
    if LATENCY_FILE:
        with open(LATENCY_FILE, "a", encoding="utf-8") as out:
            out.write(f"{inputs.get('i', 0)} {time.time()}\n")


def main() -> None:
    url, concurrency = sys.argv[1], int(sys.argv[2])
    Worker(queues=["bench"], concurrency=concurrency, tasks=[noop], database_url=url).run()


if __name__ == "__main__":
    main()
