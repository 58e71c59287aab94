"""Unit tests of flows/expense_approval.flow, in memory: signals arrive at virtual times and the
timeout runs on virtual time, so a day-long wait takes no time at all."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import approval_tasks  # noqa: E402

from rhythm.core.testing import run_workflow  # noqa: E402

SOURCE = (HERE / "flows" / "expense_approval.flow").read_text(encoding="utf-8")
TASKS = {
    "ask-for-approval": approval_tasks.ask_for_approval,
    "pay-out": approval_tasks.pay_out,
    "notify-requester": approval_tasks.notify_requester,
}
REQUEST = {"requestId": "exp-9", "amount": 120, "requester": "sam"}


def names(result) -> list[str]:
    return [name for name, _ in result.tasks]


def test_an_approval_an_hour_later_pays_out() -> None:
    decision = {"approved": True, "by": "maria"}
    result = run_workflow(SOURCE, REQUEST, tasks=TASKS, signals=[("decision", decision, 3600)])
    assert result.status == "completed", result.error
    assert result.output == {
        "requestId": "exp-9",
        "status": "paid",
        "by": "maria",
        "paymentId": approval_tasks.pay_out(REQUEST)["paymentId"],
    }
    assert names(result) == ["ask-for-approval", "pay-out", "notify-requester"]
    assert result.elapsed == 3600


def test_a_rejection_tells_the_requester_why() -> None:
    decision = {"approved": False, "by": "maria", "reason": "over budget"}
    result = run_workflow(SOURCE, REQUEST, tasks=TASKS, signals=[("decision", decision, 60)])
    assert result.output == {"requestId": "exp-9", "status": "rejected", "by": "maria"}
    assert result.tasks[-1] == (
        "notify-requester",
        {"requestId": "exp-9", "requester": "sam", "outcome": "rejected", "reason": "over budget"},
    )


def test_no_decision_within_the_timeout_expires_the_request() -> None:
    late = [("decision", {"approved": True, "by": "maria"}, 2 * 86400)]
    result = run_workflow(SOURCE, REQUEST, tasks=TASKS, signals=late)
    assert result.output == {"requestId": "exp-9", "status": "expired"}
    assert names(result) == ["ask-for-approval", "notify-requester"]
    assert result.elapsed == 86400


def test_the_timeout_comes_from_the_inputs() -> None:
    result = run_workflow(SOURCE, {**REQUEST, "timeout": "15m"}, tasks=TASKS)
    assert result.output["status"] == "expired"
    assert result.elapsed == 900
