"""Reporting tasks that ran past their timeout but could not be stopped, for `rhythm status`.

A sync task's thread cannot be killed, and a coroutine may swallow its cancellation: then the
attempt fails at its timeout (outcomes.py) but the task runs on, holding a concurrency slot until
it returns (Worker._hold_slot). OverdueReport keeps the worker's rows of rhythm.overdue equal to
those attempts: written as soon as one becomes or stops being overdue, and renewed every third
of a lease, so the rows of a killed worker expire (a lease later) instead of staying forever.
Writing is best effort: an outage only delays the report, never the worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from rhythm.worker.outcomes import one_line
from rhythm.worker.store import DATABASE_ERRORS, OverdueAttempt, WorkerStore

log = logging.getLogger("rhythm.worker")


class OverdueReport:
    """The overdue attempts of one worker while it serves, mirrored into rhythm.overdue."""

    def __init__(self, store: WorkerStore, lease_seconds: float) -> None:
        self.store = store
        self.lease_seconds = lease_seconds
        self.attempts: dict[tuple[str, int], OverdueAttempt] = {}
        self._changed = asyncio.Event()
        self._lock = asyncio.Lock()  # one sync at a time, so the last one written is the latest
        self._closed = False
        # Whether rhythm.overdue may hold rows of this worker. A worker with nothing overdue and
        # nothing reported runs no statement at all: the common case costs nothing.
        self._reported = False

    def __len__(self) -> int:
        return len(self.attempts)

    def add(self, attempt: OverdueAttempt) -> None:
        self.attempts[(attempt.id, attempt.attempt)] = attempt
        self._changed.set()

    def remove(self, execution_id: str, attempt: int) -> None:
        self.attempts.pop((execution_id, attempt), None)
        self._changed.set()

    async def keep(self) -> None:
        """Write on every change, and renew every third of a lease while there is something to
        report (expiring other workers' stale rows on the way); runs until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.lease_seconds / 3):
                    await self._changed.wait()
            self._changed.clear()
            if self.attempts or self._reported:
                await self._sync(clear=False)

    async def close(self) -> None:
        """The worker stops: delete its rows (a task still running is no longer its concern)."""
        if self.attempts or self._reported:
            await self._sync(clear=True)

    async def _sync(self, clear: bool) -> None:
        async with self._lock:
            if self._closed:
                return
            self._closed = clear
            rows = [] if clear else list(self.attempts.values())
            try:
                await self.store.sync_overdue(rows, self.lease_seconds)
                self._reported = bool(rows)
            except DATABASE_ERRORS as exc:
                self._reported = True  # unknown: try again
                log.warning(
                    "could not report %d overdue task(s) (tried again within %gs): %s",
                    len(rows),
                    self.lease_seconds / 3,
                    one_line(str(exc)),
                )
