"""`rhythm worker` argument handling (the running worker is tested in tests/test_queue_processes.py)."""

from __future__ import annotations

import logging

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


def test_worker_logs_leave_out_the_embedded_servers_chatter() -> None:
    # `rhythm dev` and `rhythm worker` log at info; the embedded Postgres library's own info
    # lines (every pg_ctl command line it runs) drowned the worker's in the terminal.
    from rhythm.worker.cli import setup_logging

    root = logging.getLogger()
    was = root.level
    try:
        root.setLevel(logging.INFO)  # as basicConfig leaves it outside pytest
        setup_logging("info")
        assert not logging.getLogger("pgserver").isEnabledFor(logging.INFO)
        assert logging.getLogger("pgserver").isEnabledFor(logging.WARNING)
        root.setLevel(logging.DEBUG)
        setup_logging("debug")  # asked for everything: everything it is
        assert logging.getLogger("pgserver").isEnabledFor(logging.DEBUG)
    finally:
        root.setLevel(was)
        logging.getLogger("pgserver").setLevel(logging.NOTSET)
