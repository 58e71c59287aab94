"""Run the orders example's tasks end to end on Postgres: enqueue, work, wait, print.

    uv run --all-packages python examples/orders/run.py

The database comes from $RHYTHM_DATABASE_URL, else [tool.rhythm] in the nearest pyproject.toml,
else the embedded Postgres under .rhythm/ beside that pyproject.toml (here: examples/orders/.rhythm).
A worker runs in this same process for the demo; in production run `rhythm worker --app order_tasks -q
orders` as separate processes."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import order_tasks  # noqa: E402  (the example's task module)

from rhythm.client import AsyncClient  # noqa: E402
from rhythm.client.database import database_url  # noqa: E402
from rhythm.worker import Worker  # noqa: E402


async def main() -> None:
    url = database_url(None, start=HERE)
    worker = Worker(queues=["orders"], concurrency=4, tasks=[order_tasks], database_url=url)
    async with AsyncClient(url) as client:
        applied = await client.migrate()
        print(f"schema: applied {', '.join(applied)}" if applied else "schema: up to date")
        running = asyncio.create_task(worker.run_async())
        try:
            orders = [("o-1", 25.0), ("o-2", 1500.0), ("o-3", 99.5)]
            ids = {
                order: await client.tasks.run(
                    "charge-card",
                    {"orderId": order, "amount": amount},
                    queue="orders",
                    idempotency_key=f"charge-{order}",  # re-running the demo never charges twice
                    retries=0,
                )
                for order, amount in orders
            }
            for order, tid in ids.items():
                ex = await client.executions.wait(tid, timeout=30)
                detail = ex.output if ex.status == "completed" else ex.error["message"]
                print(f"{order}: charge-card {ex.status}: {detail}")
        finally:
            worker.stop()
            await running


if __name__ == "__main__":
    asyncio.run(main())
