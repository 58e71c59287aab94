"""One LISTEN connection per client that tells waiting callers when executions finish.

The database notifies `rhythm_done` with the ids of executions that just completed, failed or
were cancelled. A client keeps a single listening connection (started on the first wait) and
wakes only the callers waiting on those ids, so any number of concurrent waits cost one
connection and no polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import defaultdict
from typing import Any

import psycopg

from rhythm.client.database import Timeouts, connect, connect_async
from rhythm.client.redaction import redact

log = logging.getLogger("rhythm.client")

DONE_CHANNEL = "rhythm_done"
RECONNECT_SECONDS = 1.0


def ids_in(payload: str) -> set[str]:
    """The execution ids of one `rhythm_done` notification (comma-separated)."""
    return set(payload.split(",")) if payload else set()


class OutageLog:
    """Says once (a warning) that the LISTEN connection was lost, keeps quiet (debug) while it
    reconnects every second through an outage, and says when it is back."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._down = False

    def lost(self, exc: BaseException) -> None:
        reason = redact(str(exc), self._url)
        if self._down:
            log.debug("LISTEN %s: still reconnecting: %s", DONE_CHANNEL, reason)
            return
        self._down = True
        log.warning(
            "LISTEN %s connection lost (reconnecting every %g s): %s",
            DONE_CHANNEL,
            RECONNECT_SECONDS,
            reason,
        )

    def back(self) -> None:
        if self._down:
            self._down = False
            log.info("LISTEN %s connection restored", DONE_CHANNEL)


class DoneListener:
    """For the blocking Client: a daemon thread that owns the listening connection."""

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self._url = url
        self._timeouts = timeouts
        self._lock = threading.Lock()
        self._waiters: dict[str, set[threading.Event]] = defaultdict(set)
        self._listening = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, execution_id: str, timeout: float) -> threading.Event:
        """An event set when `execution_id` finishes. Waits (up to `timeout`) until LISTEN is
        active, so a status read after this call cannot miss the notification."""
        event = threading.Event()
        with self._lock:
            self._waiters[execution_id].add(event)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="rhythm-done-listener", daemon=True
                )
                self._thread.start()
        self._listening.wait(timeout)
        return event

    def unsubscribe(self, execution_id: str, event: threading.Event) -> None:
        with self._lock:
            waiters = self._waiters.get(execution_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[execution_id]

    def _run(self) -> None:
        outage = OutageLog(self._url)
        while not self._closed.is_set():
            try:
                with connect(self._url, self._timeouts, autocommit=True) as conn:
                    conn.execute(f"LISTEN {DONE_CHANNEL}")
                    outage.back()
                    self._listening.set()
                    self._wake_all()  # anything that finished while we were away
                    while not self._closed.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._wake(ids_in(note.payload))
            except Exception as exc:
                self._listening.clear()
                if self._closed.is_set():
                    return
                outage.lost(exc)
                self._closed.wait(RECONNECT_SECONDS)

    def _wake(self, ids: set[str]) -> None:
        with self._lock:
            for execution_id in ids & self._waiters.keys():
                for event in self._waiters[execution_id]:
                    event.set()

    def _wake_all(self) -> None:
        with self._lock:
            for events in self._waiters.values():
                for event in events:
                    event.set()

    def close(self) -> None:
        self._closed.set()
        self._wake_all()
        if self._thread is not None:
            self._thread.join(timeout=3)


class AsyncDoneListener:
    """For AsyncClient: a task on the client's event loop that owns the listening connection."""

    def __init__(self, url: str, timeouts: Timeouts | None = None) -> None:
        self._url = url
        self._timeouts = timeouts
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._listening = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self, execution_id: str, timeout: float) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters[execution_id].add(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="rhythm-done-listener")
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._listening.wait()
        return event

    def unsubscribe(self, execution_id: str, event: asyncio.Event) -> None:
        waiters = self._waiters.get(execution_id)
        if waiters is not None:
            waiters.discard(event)
            if not waiters:
                del self._waiters[execution_id]

    async def _run(self) -> None:
        outage = OutageLog(self._url)
        while True:
            try:
                conn: psycopg.AsyncConnection[Any] = await connect_async(
                    self._url, self._timeouts, autocommit=True
                )
                async with conn:
                    await conn.execute(f"LISTEN {DONE_CHANNEL}")
                    outage.back()
                    self._listening.set()
                    self._wake(set(self._waiters))
                    async for note in conn.notifies():
                        self._wake(ids_in(note.payload))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._listening.clear()
                outage.lost(exc)
                await asyncio.sleep(RECONNECT_SECONDS)

    def _wake(self, ids: set[str]) -> None:
        for execution_id in ids & self._waiters.keys():
            for event in self._waiters[execution_id]:
                event.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
