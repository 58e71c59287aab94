"""Fixtures for worker tests: in-process workers on their own event loop thread."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
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
def register_flow(client: Client, tmp_path: Path) -> Callable[[str, str], str]:
    """register_flow(source, prefix) -> the name of a new workflow of that source, registered
    under a name of its own (`prefix` and random hex)."""

    def register(source: str, prefix: str) -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        (tmp_path / f"{name}.flow").write_text(source)
        client.register_workflows(tmp_path / f"{name}.flow")
        return name

    return register


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
