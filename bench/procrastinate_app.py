"""The peer in bench_queue.py: a Procrastinate app with the same no-op task Rhythm runs.

Run as a worker process: `python bench/procrastinate_app.py URL CONCURRENCY [LATENCY_FILE]`."""

from __future__ import annotations

import os
import sys
import time

from procrastinate import App, PsycopgConnector

LATENCY_FILE = os.environ.get("BENCH_LATENCY_FILE")


def make_app(url: str) -> App:
    app = App(connector=PsycopgConnector(conninfo=url))

    @app.task(name="noop", queue="bench")
    async def noop(i: int = 0) -> None:
        if LATENCY_FILE:
            with open(LATENCY_FILE, "a", encoding="utf-8") as out:
                out.write(f"{i} {time.time()}\n")

    return app


def main() -> None:
    url, concurrency = sys.argv[1], int(sys.argv[2])
    app = make_app(url)
    with app.open():
        # Defaults kept except what a fair comparison needs: LISTEN/NOTIFY on, as in Rhythm.
        app.run_worker(queues=["bench"], concurrency=concurrency, wait=True, listen_notify=True)


if __name__ == "__main__":
    main()
