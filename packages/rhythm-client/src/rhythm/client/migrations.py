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


BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS rhythm;
CREATE TABLE IF NOT EXISTS rhythm.schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
"""


def migrate(url: str, folder: Path | None = None) -> list[Migration]:
    """Apply every pending migration; return the ones this call applied (empty when up to date)."""
    available = load_migrations(folder)
    applied_now: list[Migration] = []
    # No statement limit: a migration may rewrite a large table, and waiting for another
    # runner's advisory lock is expected to take as long as that runner needs.
    with connect(url, Timeouts(statement=None), autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        try:
            with conn.transaction():
                # Concurrent CREATE SCHEMA IF NOT EXISTS can still collide; the lock prevents it.
                conn.execute(BOOTSTRAP)
            recorded = {
                row[0]: (row[1], row[2])
                for row in conn.execute(
                    "SELECT version, name, checksum FROM rhythm.schema_migrations"
                )
            }
            for migration in available:
                if migration.version in recorded:
                    _, checksum = recorded[migration.version]
                    if checksum != migration.checksum:
                        raise MigrationError(
                            f"migration {migration.filename} was changed after it was applied "
                            f"(recorded checksum {checksum[:12]}, file has {migration.checksum[:12]})"
                        )
                    continue
                try:
                    with conn.transaction():
                        conn.execute(migration.sql)  # type: ignore[arg-type]
                        conn.execute(
                            "INSERT INTO rhythm.schema_migrations (version, name, checksum) "
                            "VALUES (%s, %s, %s)",
                            (migration.version, migration.name, migration.checksum),
                        )
                except psycopg.Error as exc:
                    first = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                    raise MigrationError(
                        f"migration {migration.filename} failed: {first}"
                    ) from None
                applied_now.append(migration)
        finally:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    return applied_now


def applied_migrations(url: str) -> list[tuple[int, str]]:
    """(version, name) of every recorded migration, oldest first; empty before the first migrate."""
    with connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass('rhythm.schema_migrations')").fetchone()
        if not exists or exists[0] is None:
            return []
        rows = conn.execute("SELECT version, name FROM rhythm.schema_migrations ORDER BY version")
        return [(int(v), str(n)) for v, n in rows]
