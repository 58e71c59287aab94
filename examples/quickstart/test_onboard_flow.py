"""Unit tests of flows/onboard_user.flow, in memory (no Postgres, no worker): the stand-ins are the
real task functions of onboarding_tasks.py."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import onboarding_tasks  # noqa: E402

from rhythm.core.testing import run_workflow  # noqa: E402

SOURCE = (HERE / "flows" / "onboard_user.flow").read_text(encoding="utf-8")
TASKS = {
    "get-user": onboarding_tasks.get_user,
    "create-billing-account": onboarding_tasks.create_billing_account,
    "send-welcome-email": onboarding_tasks.send_welcome_email,
}


def test_onboarding_runs_its_three_steps_in_order() -> None:
    result = run_workflow(SOURCE, {"userId": "u-42"}, tasks=TASKS, name="onboard_user")
    assert result.status == "completed", result.error
    assert [name for name, _ in result.tasks] == [
        "get-user",
        "create-billing-account",
        "send-welcome-email",
    ]
    user = onboarding_tasks.get_user({"userId": "u-42"})
    assert result.tasks[1][1] == {"userId": "u-42", "plan": user["plan"]}
    assert result.output["userId"] == "u-42"
    assert result.output["welcomed"] == "u-42@example.com"
    assert result.output["accountId"].startswith("acct_")
    assert result.suspensions == 3  # one durable step per task


def test_a_failing_billing_provider_fails_the_workflow_with_its_error() -> None:
    def down(inputs: dict) -> dict:
        raise ConnectionError("billing provider unreachable")

    result = run_workflow(
        SOURCE, {"userId": "u-1"}, tasks={**TASKS, "create-billing-account": down}
    )
    assert result.status == "failed"
    assert result.error["message"] == "billing provider unreachable"
    assert [name for name, _ in result.tasks] == ["get-user", "create-billing-account"]
