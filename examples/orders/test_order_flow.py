"""Unit tests of flows/order.flow, in memory: no Postgres, no worker. The task stand-ins are
the real task functions from order_tasks.py."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import order_tasks  # noqa: E402

from rhythm.core.testing import run_workflow  # noqa: E402

SOURCE = (HERE / "flows" / "order.flow").read_text(encoding="utf-8")
STAND_INS = {
    "charge-card": order_tasks.charge_card,
    "ship": lambda inputs: asyncio.run(order_tasks.ship(inputs)),
    "send-email": order_tasks.send_email,
}
ORDER = {"orderId": "o-7", "email": "ann@example.com", "items": [{"price": 20, "qty": 2}]}


def test_a_paid_order_ships_and_confirms() -> None:
    result = run_workflow(SOURCE, ORDER, tasks=STAND_INS)
    assert result.status == "completed", result.error
    assert result.output["status"] == "shipped"
    assert result.output["tracking"] == "TRK-O-7"
    assert [name for name, _ in result.tasks] == ["charge-card", "ship", "send-email"]
    assert result.tasks[0][1] == {"orderId": "o-7", "amount": 40}


def test_a_declined_card_sends_the_failure_email() -> None:
    big = {**ORDER, "items": [{"price": 600, "qty": 2}]}
    result = run_workflow(SOURCE, big, tasks=STAND_INS)
    assert result.status == "completed"
    assert result.output == {
        "status": "payment-failed",
        "reason": "amount 1200.00 is over the card limit",
    }
    assert result.tasks[-1] == (
        "send-email",
        {"to": "ann@example.com", "subject": "Order o-7: payment failed"},
    )
