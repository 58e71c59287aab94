"""`rhythm worker` argument handling (the running worker is tested in tests/test_queue_processes.py)."""

from __future__ import annotations

from click.testing import CliRunner

from rhythm.client.cli import cli


def test_worker_is_a_rhythm_subcommand() -> None:
    result = CliRunner().invoke(cli, ["worker", "--help"])
    assert result.exit_code == 0, result.output
    for option in ("--app", "--queue", "--concurrency", "--database-url", "--lease-seconds"):
        assert option in result.output


def test_unimportable_app_is_one_clear_error() -> None:
    result = CliRunner().invoke(cli, ["worker", "--app", "no_such_module_for_rhythm"])
    assert result.exit_code == 1
    assert "--app no_such_module_for_rhythm: cannot import it: No module named" in result.output


def test_app_without_tasks_is_one_clear_error() -> None:
    result = CliRunner().invoke(cli, ["worker", "--app", "json"])
    assert result.exit_code == 1
    assert "module 'json' defines no @task functions" in result.output


def test_app_or_workflows_is_required_and_concurrency_checked() -> None:
    missing = CliRunner().invoke(cli, ["worker"])
    assert (
        missing.exit_code == 2 and "give --app MODULE (tasks), --workflows PATH" in missing.output
    )
    result = CliRunner().invoke(cli, ["worker", "--app", "json", "--concurrency", "0"])
    assert result.exit_code == 2 and "--concurrency" in result.output
