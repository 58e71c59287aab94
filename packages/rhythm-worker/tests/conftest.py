"""Fixtures for worker tests: in-process workers on their own event loop thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rhythm.client import Client
from rhythm.worker import Worker

FAST = {"poll_interval": 0.5, "retry_backoff": 0.05, "lease_seconds": 3.0, "grace_period": 1.0}


@pytest.fixture(scope="module")
def client(migrated_url: str) -> Iterator[Client]:
    with Client(migrated_url) as c:
        yield c


@pytest.fixture
def start_worker(migrated_url: str) -> Iterator[Callable[..., Worker]]:
    """start_worker(tasks=[...], queues=[...], **knobs) -> a running Worker, stopped afterwards."""
    started: list[tuple[Worker, threading.Thread]] = []

    def start(**kwargs: Any) -> Worker:
        knobs = {**FAST, **kwargs}
        worker = Worker(database_url=migrated_url, **knobs)
        ready = threading.Event()

        async def main() -> None:
            ready.set()
            await worker.run_async()

        thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
        thread.start()
        ready.wait(5)
        started.append((worker, thread))
        return worker

    yield start
    for worker, _ in started:
        worker.stop(now=True)
    for _, thread in started:
        thread.join(15)
        assert not thread.is_alive(), "a worker did not stop"
