"""Helpers for tests that need a real Postgres: the server from RHYTHM_TEST_DATABASE_URL, else an
embedded one, and a fresh database per test module so tests never see each other's rows."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from psycopg import conninfo, sql

from rhythm.client.database import connect

ENV_TEST_DATABASE_URL = "RHYTHM_TEST_DATABASE_URL"


@contextmanager
def test_server() -> Iterator[str]:
    """Yield an admin URL: RHYTHM_TEST_DATABASE_URL when set, else a throwaway embedded server."""
    configured = os.environ.get(ENV_TEST_DATABASE_URL)
    if configured:
        yield configured
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        folder = Path(tempfile.mkdtemp(prefix="rhythm-test-pg-"))
        server = pgserver.get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()  # deletes pgdata, not the folder made for it
        shutil.rmtree(folder, ignore_errors=True)


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    params = conninfo.conninfo_to_dict(url)
    params["dbname"] = dbname
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


def create_database(admin_url: str, hint: str = "test") -> str:
    """Create an empty database with a unique name derived from `hint`; return its URL."""
    slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")[-40:] or "test"
    name = f"rhythm_{slug}_{secrets.token_hex(4)}"
    with connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return with_database(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = conninfo.conninfo_to_dict(url)["dbname"]
    with connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )
