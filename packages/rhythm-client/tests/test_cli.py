from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from rhythm.client import cli as cli_module
from rhythm.client.cli import cli
from rhythm.client.testing import create_database, drop_database


def rhythm(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "rhythm.client.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def fresh_url(postgres_admin_url: str, request: pytest.FixtureRequest):
    url = create_database(postgres_admin_url, request.node.name)
    yield url
    drop_database(postgres_admin_url, url)


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("rhythm, version ")


def test_module_entry_point_has_every_command(tmp_path: Path) -> None:
    result = rhythm("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in (
        "migrate",
        "check",
        "fmt",
        "status",
        "ls",
        "inspect",
        "cancel",
        "prune",
        "start",
        "signal",
        "run",
        "dev",
        "worker",
    ):
        assert f"  {name} " in result.stdout, name


def test_migrate_with_flag_then_noop(fresh_url: str, tmp_path: Path) -> None:
    first = rhythm("migrate", "--database-url", fresh_url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_" in first.stdout
    second = rhythm("migrate", "--database-url", fresh_url, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert "applied" not in second.stdout
    assert not (tmp_path / ".rhythm").exists(), (
        "a configured URL must not start the embedded server"
    )


def test_migrate_reads_environment(fresh_url: str, tmp_path: Path) -> None:
    result = rhythm("migrate", cwd=tmp_path, env={"RHYTHM_DATABASE_URL": fresh_url})
    assert result.returncode == 0, result.stderr
    assert "applied 0001_" in result.stdout


def test_migrate_reads_nearest_pyproject(fresh_url: str, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "app"\n\n[tool.rhythm]\ndatabase_url = "{fresh_url}"\n'
    )
    nested = tmp_path / "src" / "app"
    nested.mkdir(parents=True)
    result = rhythm("migrate", cwd=nested)
    assert result.returncode == 0, result.stderr
    assert "applied 0001_" in result.stdout


def test_flag_beats_environment(fresh_url: str, tmp_path: Path) -> None:
    bad = "postgresql://postgres@127.0.0.1:1/nothing"
    result = rhythm(
        "migrate", "--database-url", fresh_url, cwd=tmp_path, env={"RHYTHM_DATABASE_URL": bad}
    )
    assert result.returncode == 0, result.stderr


def test_embedded_server_when_nothing_is_configured(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    first = rhythm("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied 0001_" in first.stdout
    assert (tmp_path / ".rhythm" / "pgdata" / "PG_VERSION").is_file()
    # The next run reuses the same data directory: nothing left to apply.
    second = rhythm("migrate", cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://postgres@127.0.0.1:1/nothing",
            "cannot connect to the database at 127.0.0.1:1/",
        ),
        (
            "postgresql://postgres@no-such-host.invalid:5432/db",
            "cannot connect to the database at no-such-host.invalid:5432/db",
        ),
        ("not a url", "invalid database URL 'not a url'"),
    ],
)
def test_bad_url_is_one_clear_line(url: str, expected: str, tmp_path: Path) -> None:
    result = rhythm("migrate", "--database-url", url, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]


def test_bad_pyproject_setting_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.rhythm]\ndatabase_url = 5\n")
    result = rhythm("migrate", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: {tmp_path / 'pyproject.toml'}: [tool.rhythm] database_url must be a non-empty string"
    ]


def test_plugin_commands_are_listed_from_entry_points() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "migrate" in result.output
    assert "unavailable" not in result.output
    # Contributed by other packages through the `rhythm.commands` entry point group.
    for name, module in (("worker", "rhythm.worker.cli"), ("lsp", "rhythm.lsp.cli")):
        ctx = cli.make_context("rhythm", [name, "--help"], resilient_parsing=True)
        command = cli.get_command(ctx, name)
        assert command is not None and command.callback is not None
        assert command.callback.__module__.startswith(module), command.callback.__module__
        sub = CliRunner().invoke(cli, [name, "--help"])
        assert sub.exit_code == 0, sub.output


def test_cli_module_does_not_import_plugins() -> None:
    code = (
        "import sys, rhythm.client.cli; "
        "print(any(m.startswith(('rhythm.worker', 'rhythm.lsp')) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_broken_plugin_is_reported_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    broken = EntryPoint("broken", "rhythm.no_such_module:cmd", "rhythm.commands")
    monkeypatch.setattr(cli_module, "entry_points", lambda group: [broken])
    listing = CliRunner().invoke(cli, ["--help"])
    assert listing.exit_code == 0
    assert "broken" in listing.output
    run = CliRunner().invoke(cli, ["broken"])
    assert run.exit_code == 1
    assert "`rhythm broken` is unavailable: cannot load" in run.output
