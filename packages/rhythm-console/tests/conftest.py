"""Fixtures for console tests: a migrated database with a suspended workflow and a task whose
name and inputs are markup, and a console app over it (Starlette's TestClient, lifespan on)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from rhythm.client import Client
from rhythm.console import ConsoleSettings, create_app

WAITER = """\
const order = Inputs.order
let step = "asked"
const first = await Signal.next("approve")
step = "approved"
const second = await Signal.next("ship")
return { order, first, second }
"""
TOKEN = "a-test-token-of-some-length"


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flows")
    (folder / "waiter.flow").write_text(WAITER, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def client(migrated_url: str, flows: Path) -> Iterator[Client]:
    with Client(migrated_url) as c:
        c.register_workflows(flows)
        yield c


@pytest.fixture(scope="module")
def worker(migrated_url: str, client: Client, flows: Path) -> Iterator[Any]:
    from rhythm.worker import Worker

    worker = Worker(
        database_url=migrated_url,
        workflows=flows,
        queues=["default"],
        poll_interval=0.5,
        lease_seconds=3.0,
        grace_period=1.0,
    )
    thread = threading.Thread(target=lambda: asyncio.run(worker.run_async()), daemon=True)
    thread.start()
    yield worker
    worker.stop(now=True)
    thread.join(15)


def _wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


@pytest.fixture
def wait_until() -> Callable[..., None]:
    """wait_until(check, timeout=15): poll `check` (a test's own patience, not the console's)."""
    return _wait_until


def _csrf_of(console: TestClient) -> str:
    console.get("/executions?type=task&status=cancelled")
    return console.cookies["rhythm_console_csrf"]


@pytest.fixture
def csrf_of() -> Callable[[TestClient], str]:
    """csrf_of(console): the CSRF token the console gave this browser (its cookie)."""
    return _csrf_of


@pytest.fixture(scope="module")
def make_console(migrated_url: str) -> Iterator[Callable[..., TestClient]]:
    opened: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        app = create_app(ConsoleSettings(database_url=migrated_url, **settings))
        tc = TestClient(app, base_url="http://127.0.0.1:8765")
        tc.__enter__()
        opened.append(tc)
        return tc

    yield make
    for tc in opened:
        tc.__exit__(None, None, None)
