"""`rhythm migrate` and init() with the least privileges a DBA would grant: a role that owns the
`rhythm` schema but may not CREATE in the database (real roles, made in the test server)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from psycopg import conninfo, sql

from rhythm.client import init
from rhythm.client.cli import cli
from rhythm.client.database import connect
from rhythm.client.errors import MigrationError
from rhythm.client.migrations import load_migrations, migrate, migrations_dir
from rhythm.client.testing import create_database, drop_database


def as_role(url: str, role: str) -> str:
    params = conninfo.conninfo_to_dict(url)
    params["user"] = role
    params.pop("password", None)
    return conninfo.make_conninfo(**params)  # type: ignore[arg-type]


class Setup:
    def __init__(self, admin: str, db: str, role: str) -> None:
        self.admin, self.db, self.role = admin, db, role
        self.url = as_role(db, role)

    def run(self, statement: str) -> None:
        """Run `statement` as the admin in the test database; {role} is the role's identifier."""
        with connect(self.db, autocommit=True) as conn:
            conn.execute(sql.SQL(statement).format(role=sql.Identifier(self.role)))  # type: ignore[arg-type]


@pytest.fixture
def setup(postgres_admin_url: str, request: pytest.FixtureRequest) -> Iterator[Setup]:
    """A fresh database and a login role with no privilege beyond CONNECT (roles are global to
    the server, so the name is unique and the role is dropped afterwards)."""
    db = create_database(postgres_admin_url, request.node.name)
    role = f"rhythm_app_{secrets.token_hex(4)}"
    with connect(postgres_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    s = Setup(postgres_admin_url, db, role)
    # Postgres 15 grants no CREATE on a database to PUBLIC; make sure of it anyway
    s.run("REVOKE CREATE ON DATABASE " + conninfo.conninfo_to_dict(db)["dbname"] + " FROM PUBLIC")
    try:
        yield s
    finally:
        drop_database(postgres_admin_url, db)
        with connect(postgres_admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_schema_owner_migrates_and_stays_up_to_date_without_create_on_the_database(
    setup: Setup,
) -> None:
    setup.run("CREATE SCHEMA rhythm AUTHORIZATION {role}")
    applied = migrate(setup.url)
    assert [m.version for m in applied] == [m.version for m in load_migrations()]
    assert migrate(setup.url) == []  # up to date: no DDL at all
    result = CliRunner().invoke(cli, ["migrate", "--database-url", setup.url])
    assert result.exit_code == 0, result.output
    assert "is up to date" in result.output
    with init(setup.url) as client:  # migrates (nothing to do) and works
        tid = client.tasks.run("least-privilege", {"ok": 1})
        assert client.executions.get(tid).status == "pending"


def test_up_to_date_schema_migrated_by_the_dba_then_handed_to_the_app_role(setup: Setup) -> None:
    migrate(setup.db)  # the DBA migrates as the admin...
    setup.run("ALTER SCHEMA rhythm OWNER TO {role}")  # ...and hands the schema over
    setup.run("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA rhythm TO {role}")
    assert migrate(setup.url) == []
    result = CliRunner().invoke(cli, ["migrate", "--database-url", setup.url])
    assert result.exit_code == 0 and "is up to date" in result.output, result.output
    with init(setup.url) as client:
        assert client.executions.list() == []


def test_a_needed_migration_without_the_privilege_is_one_clear_line(setup: Setup) -> None:
    result = CliRunner().invoke(cli, ["migrate", "--database-url", setup.url])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert f"role '{setup.role}' may not create the rhythm schema" in lines[0]
    assert "permission denied for database" in lines[0]
    assert "docs/python-api.md" in lines[0]
    with pytest.raises(MigrationError, match="may not create the rhythm schema"):
        init(setup.url)


def test_a_pending_migration_in_a_schema_the_role_only_uses(setup: Setup, tmp_path: Path) -> None:
    migrate(setup.db)
    setup.run("GRANT USAGE ON SCHEMA rhythm TO {role}")
    setup.run("GRANT SELECT ON rhythm.schema_migrations TO {role}")
    assert migrate(setup.url) == []  # up to date: reading the ledger is all it needs
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    (folder / "0999_extra.sql").write_text("CREATE TABLE rhythm.extra (id int);\n")
    with pytest.raises(MigrationError) as caught:
        migrate(setup.url, folder)
    message = str(caught.value)
    assert f"role '{setup.role}' may not apply migration 0999_extra.sql" in message
    assert "permission denied for schema rhythm" in message
    with connect(setup.db) as conn:  # nothing half-done
        row = conn.execute(
            "SELECT to_regclass('rhythm.extra'), "
            "(SELECT count(*) FROM rhythm.schema_migrations WHERE version = 999)"
        ).fetchone()
    assert row == (None, 0)


def test_a_role_without_table_privileges_gets_one_line(setup: Setup) -> None:
    migrate(setup.db)
    setup.run("GRANT USAGE ON SCHEMA rhythm TO {role}")
    setup.run("GRANT SELECT ON rhythm.schema_migrations TO {role}")
    for args in (["ls"], ["status"]):
        result = CliRunner().invoke(cli, [*args, "--database-url", setup.url])
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert "permission denied for table" in lines[0]
        assert f"role '{setup.role}'" in lines[0] and "Privileges" in lines[0]
