"""The migrations runner: applies the numbered SQL files of migrations/ in order, once.

Each file runs in its own transaction and is recorded in `rhythm.schema_migrations` with a
checksum. A session-level advisory lock serialises concurrent runners, so ten workers starting
at once migrate exactly once; the others wait, then find nothing left to do."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, LiteralString, cast

import psycopg

from rhythm.client.database import Timeouts, connect
from rhythm.client.errors import MigrationError

# pg_advisory_lock key: the first 8 bytes of sha256("rhythm.migrate") as a signed bigint.
LOCK_KEY = int.from_bytes(hashlib.sha256(b"rhythm.migrate").digest()[:8], "big", signed=True)
FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    @property
    def filename(self) -> str:
        return f"{self.version:04d}_{self.name}.sql"


def migrations_dir() -> Path:
    """The packaged SQL files (in a wheel), else the repository's migrations/ (editable install)."""
    packaged = resources.files("rhythm.client").joinpath("migrations")
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[5] / "migrations"
    if repo.is_dir():
        return repo
    raise MigrationError("the migrations folder is missing from this rhythm-client installation")


def load_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or migrations_dir()
    found: list[Migration] = []
    for path in sorted(folder.glob("*.sql")):
        match = FILENAME.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files must be named NNNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{folder}: two migration files share a number")
    return found


CREATE_SCHEMA = "CREATE SCHEMA IF NOT EXISTS rhythm;"
CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS rhythm.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""
PRIVILEGES_HINT = (
    "run `rhythm migrate` once as a role with CREATE on the database, or let a DBA create the "
    "schema first (CREATE SCHEMA rhythm AUTHORIZATION <role>); see docs/python-api.md, Privileges"
)


def migrate(url: str, folder: Path | None = None) -> list[Migration]:
    """Apply every pending migration; return the ones this call applied (empty when up to date).

    Runs no DDL at all when the schema is up to date, so a role that may only use (or own) the
    `rhythm` schema can call it at every start. A role lacking a privilege a pending migration
    needs gets one MigrationError line saying which and what to do."""
    available = load_migrations(folder)
    # No statement limit: a migration may rewrite a large table, and waiting for another
    # runner's advisory lock is expected to take as long as that runner needs.
    with connect(url, Timeouts(statement=None), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            return _migrate_locked(conn, available)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise MigrationError(
                _privilege_message(conn, "read the migration ledger", exc)
            ) from None
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))


def _migrate_locked(conn: psycopg.Connection[Any], available: list[Migration]) -> list[Migration]:
    schema_exists, ledger_exists = conn.execute(
        "SELECT to_regnamespace('rhythm') IS NOT NULL, "
        "to_regclass('rhythm.schema_migrations') IS NOT NULL"
    ).fetchone() or (False, False)
    recorded: dict[int, str] = {}
    if ledger_exists:
        recorded = {
            int(row[0]): str(row[1])
            for row in conn.execute("SELECT version, checksum FROM rhythm.schema_migrations")
        }
    for migration in available:
        checksum = recorded.get(migration.version)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {migration.filename} was changed after it was applied "
                f"(recorded checksum {checksum[:12]}, file has {migration.checksum[:12]})"
            )
    pending = [m for m in available if m.version not in recorded]
    if not pending:
        return []
    if not ledger_exists:
        try:
            with conn.transaction():
                if not schema_exists:
                    conn.execute(CREATE_SCHEMA)
                conn.execute(CREATE_LEDGER)
        except psycopg.errors.InsufficientPrivilege as exc:
            raise MigrationError(
                _privilege_message(conn, "create the rhythm schema", exc)
            ) from None
    applied_now: list[Migration] = []
    for migration in pending:
        try:
            with conn.transaction():
                conn.execute(_executable(migration.sql))
                conn.execute(
                    "INSERT INTO rhythm.schema_migrations (version, name, checksum) "
                    "VALUES (%s, %s, %s)",
                    (migration.version, migration.name, migration.checksum),
                )
        except psycopg.errors.InsufficientPrivilege as exc:
            raise MigrationError(
                _privilege_message(conn, f"apply migration {migration.filename}", exc)
            ) from None
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
            raise MigrationError(f"migration {migration.filename} failed: {first}") from None
        applied_now.append(migration)
    return applied_now


def _executable(sql: str) -> LiteralString:
    """The migration's SQL as run. 0001 opens with CREATE SCHEMA IF NOT EXISTS, which Postgres
    refuses without CREATE on the database even when the schema exists; the runner has made sure
    the schema exists by now, so that line would do nothing and is left out (the recorded
    checksum stays the file's)."""
    lines = [line for line in sql.splitlines() if line.strip() != CREATE_SCHEMA]
    return cast(LiteralString, "\n".join(lines))


def _privilege_message(conn: psycopg.Connection[Any], what: str, exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    role = conn.info.parameter_status("session_authorization") or conn.info.user
    return f"role {role!r} may not {what} ({first}): {PRIVILEGES_HINT}"


def applied_migrations(url: str) -> list[tuple[int, str]]:
    """(version, name) of every recorded migration, oldest first; empty before the first migrate."""
    with connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('rhythm.schema_migrations')").fetchone()
        if not exists or exists[0] is None:
            return []
        rows = conn.execute("SELECT version, name FROM rhythm.schema_migrations ORDER BY version")
        return [(int(v), str(n)) for v, n in rows]
