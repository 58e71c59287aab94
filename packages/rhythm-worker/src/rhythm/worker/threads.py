"""A small pool of daemon threads for sync tasks.

Daemon threads, unlike concurrent.futures', never hold up process exit: a worker that handed its
unfinished work back at shutdown can leave while a sync task is still stuck in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

_STOP = object()


class DaemonThreadPool:
    def __init__(self, size: int, name: str = "rhythm-task") -> None:
        self._size = size
        self._name = name
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def _ensure_threads(self) -> None:
        while len(self._threads) < self._size:
            t = threading.Thread(
                target=self._serve, name=f"{self._name}-{len(self._threads)}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def submit(self, fn: Callable[[Any], Any], arg: Any) -> asyncio.Future[Any]:
        """Run fn(arg) in a thread, in a copy of the caller's context; an awaitable result."""
        self._ensure_threads()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._jobs.put((loop, future, contextvars.copy_context(), fn, arg))
        return future

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            if job is _STOP:
                return
            loop, future, ctx, fn, arg = job
            try:
                result = ctx.run(fn, arg)
            except BaseException as exc:
                _deliver(loop, future, None, exc)
            else:
                _deliver(loop, future, result, None)

    def shutdown(self) -> None:
        """Ask idle threads to exit; busy ones finish their job first (they never block exit)."""
        for _ in self._threads:
            self._jobs.put(_STOP)
        self._threads.clear()


def _deliver(
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    result: Any,
    exc: BaseException | None,
) -> None:
    def settle() -> None:
        if future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the loop is closed: the worker has left
        loop.call_soon_threadsafe(settle)
