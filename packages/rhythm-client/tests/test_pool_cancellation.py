"""A task cancelled while it waits for a pooled connection ends cancelled, at whatever instant
the cancellation lands (asyncio.wait_for in Python 3.11 swallows one that lands just as the
awaited slot is granted; a worker's background loop then ran on and its shutdown hung)."""

from __future__ import annotations

import asyncio

from rhythm.client.database import CONNECTION_KWARGS, Timeouts
from rhythm.client.pool import AsyncPool


async def test_a_cancellation_landing_at_any_instant_of_a_checkout_is_kept(
    database_url: str,
) -> None:
    pool = AsyncPool(database_url, Timeouts(connect=5.0, statement=5.0), 2, CONNECTION_KWARGS)
    try:
        for turns in range(8):  # cancel after 0, 1, ... loop turns: each instant of the checkout
            inside = asyncio.Event()

            async def borrow(inside: asyncio.Event = inside) -> None:
                async with pool.connection():
                    inside.set()
                    await asyncio.sleep(30)

            task = asyncio.create_task(borrow())
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait([task], timeout=5)
            assert done, f"cancelled after {turns} loop turn(s), the task ran on"
            assert task.cancelled(), f"cancelled after {turns} loop turn(s): {task}"
    finally:
        await pool.close()
