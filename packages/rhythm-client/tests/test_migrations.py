from __future__ import annotations

import threading
from pathlib import Path

import psycopg
import pytest

from rhythm.client.errors import MigrationError
from rhythm.client.migrations import applied_migrations, load_migrations, migrate
from rhythm.client.testing import create_database, drop_database


@pytest.fixture
def fresh_url(postgres_admin_url: str, request: pytest.FixtureRequest):
    url = create_database(postgres_admin_url, request.node.name)
    yield url
    drop_database(postgres_admin_url, url)


def test_repository_migrations_apply_then_second_run_is_a_noop(fresh_url: str) -> None:
    shipped = load_migrations()
    assert shipped, "migrations/ must hold at least one file"
    first = migrate(fresh_url)
    assert [m.version for m in first] == [m.version for m in shipped]
    assert migrate(fresh_url) == []
    assert applied_migrations(fresh_url) == [(m.version, m.name) for m in shipped]
    with psycopg.connect(fresh_url) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
        assert "rhythm" in schemas
        public_tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        assert public_tables == (0,), "everything must live in the rhythm schema"


def _write(folder: Path, name: str, sql: str) -> None:
    (folder / name).write_text(sql, encoding="utf-8")


def test_ten_concurrent_runners_migrate_exactly_once(fresh_url: str, tmp_path: Path) -> None:
    # The second file would fail if it ran twice (duplicate table, duplicate primary key).
    _write(tmp_path, "0001_counter.sql", "CREATE TABLE rhythm.applied (id int PRIMARY KEY);")
    _write(
        tmp_path, "0002_mark.sql", "INSERT INTO rhythm.applied VALUES (1); SELECT pg_sleep(0.2);"
    )
    barrier = threading.Barrier(10)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append([m.version for m in migrate(fresh_url, tmp_path)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results, key=len) == [[]] * 9 + [[1, 2]]
    with psycopg.connect(fresh_url) as conn:
        assert conn.execute("SELECT count(*) FROM rhythm.applied").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM rhythm.schema_migrations").fetchone() == (2,)


def test_failed_migration_leaves_nothing_half_written(fresh_url: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_ok.sql", "CREATE TABLE rhythm.ok (id int);")
    _write(tmp_path, "0002_bad.sql", "CREATE TABLE rhythm.half (id int);\nSELECT no_such_column;")
    with pytest.raises(MigrationError, match=r"0002_bad\.sql failed: .*no_such_column"):
        migrate(fresh_url, tmp_path)
    assert applied_migrations(fresh_url) == [(1, "ok")]
    with psycopg.connect(fresh_url) as conn:
        assert conn.execute("SELECT to_regclass('rhythm.half')").fetchone() == (None,)
    # Fixing the file lets the next run apply it.
    _write(tmp_path, "0002_bad.sql", "CREATE TABLE rhythm.half (id int);")
    assert [m.version for m in migrate(fresh_url, tmp_path)] == [2]


def test_edited_migration_is_refused(fresh_url: str, tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.sql", "CREATE TABLE rhythm.a (id int);")
    migrate(fresh_url, tmp_path)
    _write(tmp_path, "0001_a.sql", "CREATE TABLE rhythm.a (id bigint);")
    with pytest.raises(MigrationError, match=r"0001_a\.sql was changed after it was applied"):
        migrate(fresh_url, tmp_path)


def test_badly_named_migration_file_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "add-things.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"must be named NNNN_name\.sql"):
        load_migrations(tmp_path)
