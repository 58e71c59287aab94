"""Shared fixtures: every test talks to a real Postgres (RHYTHM_TEST_DATABASE_URL, else embedded)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rhythm.client.migrations import migrate
from rhythm.client.testing import create_database, drop_database, test_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """A URL to the test server's maintenance database (may create and drop databases)."""
    with test_server() as url:
        yield url


@pytest.fixture(scope="module")
def database_url(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database for this test module, dropped afterwards."""
    url = create_database(postgres_admin_url, request.module.__name__)
    try:
        yield url
    finally:
        drop_database(postgres_admin_url, url)


@pytest.fixture(scope="module")
def migrated_url(database_url: str) -> str:
    """A fresh database for this test module with Rhythm's schema applied."""
    migrate(database_url)
    return database_url
