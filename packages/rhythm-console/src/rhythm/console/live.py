"""Live updates: one LISTEN connection per console on rhythm_done, rhythm_ready and rhythm_step,
fanned out to every open Server-Sent Events stream. Pages refresh on an event, never on a timer
(a stream sends a comment every 15 s only to keep proxies from closing it)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator

import psycopg

from rhythm.client.database import CONNECTION_KWARGS

CHANNELS = ("rhythm_done", "rhythm_ready", "rhythm_step")
KEEPALIVE_SECONDS = 15.0
RECONNECT_SECONDS = 1.0
log = logging.getLogger("rhythm.console")


class Broadcaster:
    """Listens on CHANNELS and hands each notification to every subscriber's queue."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self.database_url, **{**CONNECTION_KWARGS, "autocommit": True}
                )
                async with conn:
                    for channel in CHANNELS:
                        await conn.execute(f"LISTEN {channel}")
                    self.listening.set()
                    async for note in conn.notifies():
                        self._publish(
                            json.dumps({"channel": note.channel, "payload": note.payload})
                        )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted: listen again shortly
                self.listening.clear()
                log.warning("console: lost the LISTEN connection (%s); reconnecting", exc)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _publish(self, event: str) -> None:
        for queue in list(self._subscribers):
            if queue.qsize() < 100:  # a stalled browser must not grow memory without bound
                queue.put_nowait(event)

    async def stream(self) -> AsyncIterator[str]:
        """Server-Sent Events text for one browser, until it goes away."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            yield "retry: 2000\n\n"
            while True:
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        event = await queue.get()
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                yield f"data: {event}\n\n"
        finally:
            self._subscribers.discard(queue)
