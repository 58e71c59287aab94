"""The clients' connection pools (blocking and asyncio), and the guard that cuts off a statement
whose answer never comes.

Deliberately small: no background threads that reconnect with a growing backoff. A caller that
finds no idle connection opens one right away (bounded by the connect timeout), so after an
outage the very next call reconnects, and a connection that failed is simply dropped. Which
failures deserve another try is decided by `rhythm.client.retrying`, not here."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import os
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus

from rhythm.client.database import Timeouts, connect, connect_async, describe_target
from rhythm.client.errors import DatabaseUnavailable, RhythmError

AnyConnection = psycopg.Connection[Any] | psycopg.AsyncConnection[Any]


class StatementGuard:
    """One daemon thread that shuts down the socket of a connection whose statement has run past
    its deadline. statement_timeout needs a server that still answers, and TCP keepalives need a
    peer that stops acknowledging; a server or proxy that accepts bytes and never replies defeats
    both. Shutting the socket down makes the blocked read return at once with a broken
    connection, which the pool then discards."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget everything (also run in a forked child, which inherits none of the threads)."""
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._watched: dict[int, AnyConnection] = {}
        self._tickets = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, conn: AnyConnection, seconds: float) -> int:
        with self._lock:
            while self._heap and self._heap[0][1] not in self._watched:
                heapq.heappop(self._heap)  # released already: keeps the heap as small as the work
            ticket = next(self._tickets)
            self._watched[ticket] = conn
            heapq.heappush(self._heap, (time.monotonic() + seconds, ticket))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="rhythm-statement-guard", daemon=True
                )
                self._thread.start()
            elif self._heap[0][1] == ticket:
                self._lock.notify()
            return ticket

    def release(self, ticket: int) -> None:
        # The heap entry stays behind and is skipped when it comes up; cheaper than removing it.
        with self._lock:
            self._watched.pop(ticket, None)

    @contextlib.contextmanager
    def guarding(self, conn: AnyConnection, seconds: float | None) -> Iterator[None]:
        if seconds is None:
            yield
            return
        ticket = self.watch(conn, seconds)
        try:
            yield
        finally:
            self.release(ticket)

    def _run(self) -> None:
        with self._lock:
            while True:
                now = time.monotonic()
                while self._heap and (
                    self._heap[0][0] <= now or self._heap[0][1] not in self._watched
                ):
                    _, ticket = heapq.heappop(self._heap)
                    conn = self._watched.pop(ticket, None)
                    if conn is not None:
                        cut_off(conn)
                self._lock.wait(None if not self._heap else self._heap[0][0] - now)


def cut_off(conn: AnyConnection) -> None:
    """Shut the connection's socket down (both ways) without closing its file descriptor, which
    still belongs to libpq: the thread or task blocked on it sees the end of the stream."""
    try:
        fd = conn.pgconn.socket
        dup = socket.socket(fileno=os.dup(fd))
    except (OSError, psycopg.Error):
        return  # already closed
    try:
        dup.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        dup.close()


_guard = StatementGuard()
# A forked child inherits the guard's state but not its thread: start afresh there.
os.register_at_fork(after_in_child=_guard.reset)


def _reusable(conn: AnyConnection) -> bool:
    return not conn.closed and conn.pgconn.transaction_status == TransactionStatus.IDLE


def pool_timeout_error(url: str, seconds: float, size: int) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"no database connection to {describe_target(url)} became free within {seconds:g} s "
        f"(all {size} in use)"
    )


class Pool:
    """Up to `max_size` blocking connections, opened on demand and kept while healthy."""

    def __init__(self, url: str, timeouts: Timeouts, max_size: int, kwargs: dict[str, Any]) -> None:
        self.url = url
        self.timeouts = timeouts
        self.max_size = max_size
        self._kwargs = kwargs
        self._idle: deque[psycopg.Connection[Any]] = deque()
        self._slots = threading.BoundedSemaphore(max_size)
        self._lock = threading.Lock()
        self._closed = False

    @contextlib.contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A connection for one unit of work, guarded by the statement deadline. A connection that
        broke or was left inside a transaction is closed instead of being returned."""
        wait = self.timeouts.connect if timeout is None else timeout
        if not self._slots.acquire(timeout=max(0.0, wait)):
            raise pool_timeout_error(self.url, wait, self.max_size)
        conn: psycopg.Connection[Any] | None = None
        try:
            with self._lock:
                if self._closed:
                    raise RhythmError("this client is closed")
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = connect(self.url, self.timeouts, **self._kwargs)
            with _guard.guarding(conn, self.timeouts.guard):
                yield conn
        finally:
            if conn is not None:
                self._give_back(conn)
            self._slots.release()

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        with self._lock:
            if not self._closed and _reusable(conn):
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = list(self._idle), deque()
        for conn in idle:
            conn.close()


class AsyncPool:
    """The asyncio twin of Pool (used from one event loop)."""

    def __init__(self, url: str, timeouts: Timeouts, max_size: int, kwargs: dict[str, Any]) -> None:
        self.url = url
        self.timeouts = timeouts
        self.max_size = max_size
        self._kwargs = kwargs
        self._idle: deque[psycopg.AsyncConnection[Any]] = deque()
        self._slots = asyncio.BoundedSemaphore(max_size)
        self._closed = False

    @contextlib.asynccontextmanager
    async def connection(
        self, timeout: float | None = None
    ) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        wait = self.timeouts.connect if timeout is None else timeout
        try:
            async with asyncio.timeout(max(0.0, wait)):
                await self._slots.acquire()
        except TimeoutError:
            raise pool_timeout_error(self.url, wait, self.max_size) from None
        conn: psycopg.AsyncConnection[Any] | None = None
        try:
            if self._closed:
                raise RhythmError("this client is closed")
            conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = await connect_async(self.url, self.timeouts, **self._kwargs)
            with _guard.guarding(conn, self.timeouts.guard):
                yield conn
        finally:
            if conn is not None:
                if not self._closed and _reusable(conn):
                    self._idle.append(conn)
                else:
                    await conn.close()
            self._slots.release()

    async def discard_idle(self) -> None:
        """Close the idle connections: after one broke in an outage, the others most likely
        broke with it, and the next caller had better open a fresh one than find out."""
        idle, self._idle = list(self._idle), deque()
        for conn in idle:
            with contextlib.suppress(Exception):
                await conn.close()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = list(self._idle), deque()
        for conn in idle:
            await conn.close()
