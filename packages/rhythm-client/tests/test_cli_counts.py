"""How `rhythm ls` and `rhythm inspect` count a workflow's steps and a task's attempts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from rich.console import Console

from rhythm.client.cli_inspect import facts
from rhythm.client.cli_output import executions_table
from rhythm.client.models import Execution

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def execution(kind: str, attempt: int) -> Execution:
    return Execution(
        id=f"{kind}-{attempt}",
        type=kind,  # type: ignore[arg-type]
        name="onboard_user",
        queue="default",
        status="completed",
        inputs={},
        output=None,
        error=None,
        attempt=attempt,
        parent_id=None,
        created_at=T0,
        started_at=T0,
        completed_at=T0,
    )


def rendered(thing: object) -> str:
    console = Console(width=200, record=True)
    console.print(thing)
    return console.export_text()


def test_a_workflow_counts_steps_not_attempts() -> None:
    # A workflow is claimed once per step: "ATTEMPT 4" on a workflow that never failed misleads.
    table = rendered(executions_table([execution("workflow", 4), execution("task", 2)]))
    row = next(line for line in table.splitlines() if line.startswith("workflow-4"))
    assert " 4 steps " in row
    task_row = next(line for line in table.splitlines() if line.startswith("task-2"))
    assert "steps" not in task_row and " 2 " in task_row
    assert "ATTEMPT/STEPS" in table


def test_one_step_is_singular() -> None:
    assert "(priority 0, 1 step)" in rendered(facts(execution("workflow", 1)))
    assert "(priority 0, 3 steps)" in rendered(facts(execution("workflow", 3)))
    assert "(priority 0, attempt 2)" in rendered(facts(replace(execution("task", 2))))
