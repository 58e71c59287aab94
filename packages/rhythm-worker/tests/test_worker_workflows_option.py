"""`Worker(workflows=...)` and `rhythm worker --workflows`: files are checked when the worker is
built (one clear error naming every bad file), registered when it starts, and a worker may run
workflow steps only."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from rhythm.client.cli import cli
from rhythm.client.workflow_files import WorkflowFileError
from rhythm.worker import Worker


def test_a_flow_with_errors_is_refused_with_its_position(tmp_path: Path) -> None:
    (tmp_path / "good.flow").write_text("return 1;\n")
    (tmp_path / "bad.flow").write_text("const x = ;\n")
    with pytest.raises(WorkflowFileError, match=r"bad\.flow:1:\d+: "):
        Worker(workflows=tmp_path)
    result = CliRunner().invoke(cli, ["worker", "--workflows", str(tmp_path)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "bad.flow:1:" in result.output


def test_a_missing_folder_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["worker", "--workflows", str(tmp_path / "nope")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "nope" in result.output


def test_a_workflows_only_worker_registers_its_folder_and_serves_the_default_queue(
    migrated_url: str, tmp_path: Path
) -> None:
    (tmp_path / "only_steps.flow").write_text("return Inputs.n + 1;\n")
    worker = Worker(workflows=[tmp_path], database_url=migrated_url, poll_interval=0.2)
    assert worker.tasks == {} and worker.queues == ["default"]
    thread = threading.Thread(target=lambda: asyncio.run(worker.run_async()), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        with psycopg.connect(migrated_url, autocommit=True) as conn:
            while time.monotonic() < deadline:
                row = conn.execute(
                    "SELECT count(*) FROM rhythm.workflow_definitions WHERE name = 'only_steps'"
                ).fetchone()
                if row == (1,):
                    break
                time.sleep(0.1)
            assert row == (1,)
    finally:
        worker.stop(now=True)
        thread.join(15)
    assert not thread.is_alive()
