"""Unit tests of flows/order.flow and its child flows/pack_item.flow, in memory: no Postgres, no
worker. The task stand-ins are the real task functions from order_tasks.py."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import order_tasks  # noqa: E402

from rhythm.core.effects import StartWorkflow  # noqa: E402
from rhythm.core.testing import run_workflow  # noqa: E402

FLOWS = HERE / "flows"
SOURCE = (FLOWS / "order.flow").read_text(encoding="utf-8")
CHILDREN = {"pack_item": (FLOWS / "pack_item.flow").read_text(encoding="utf-8")}
STAND_INS = {
    "charge-card": order_tasks.charge_card,
    "reserve-stock": order_tasks.reserve_stock,
    "pack": order_tasks.pack,
    "release-stock": order_tasks.release_stock,
    "refund": order_tasks.refund,
    "ship": lambda inputs: asyncio.run(order_tasks.ship(inputs)),
    "send-email": order_tasks.send_email,
}
ORDER = {
    "orderId": "o-7",
    "email": "ann@example.com",
    "items": [{"sku": "SKU-1", "price": 20, "qty": 2}, {"sku": "SKU-2", "price": 5, "qty": 1}],
}


def run(order: dict):
    return run_workflow(SOURCE, order, tasks=STAND_INS, workflows=CHILDREN, name="order")


def test_a_paid_order_packs_every_item_in_a_child_workflow_and_ships() -> None:
    result = run(ORDER)
    assert result.status == "completed", result.error
    assert result.output["status"] == "shipped"
    assert result.output["tracking"] == "TRK-O-7"
    assert [p["sku"] for p in result.output["packages"]] == ["SKU-1", "SKU-2"]
    names = [name for name, _ in result.tasks]
    assert names[0] == "charge-card" and names[-2:] == ["ship", "send-email"]
    assert sorted(names[1:-2]) == ["pack", "pack", "reserve-stock", "reserve-stock"]
    assert result.tasks[0][1] == {"orderId": "o-7", "amount": 45}
    children = [e for e in result.effects if isinstance(e, StartWorkflow)]
    assert [c.name for c in children] == ["pack_item", "pack_item"]


def test_an_item_out_of_stock_releases_the_stock_and_refunds_the_charge() -> None:
    order = {**ORDER, "items": [*ORDER["items"], {"sku": "SKU-404", "price": 1, "qty": 1}]}
    result = run(order)
    assert result.status == "completed", result.error
    assert result.output["status"] == "refunded"
    assert result.output["reason"] == "SKU-404 is out of stock"
    names = [name for name, _ in result.tasks]
    assert names[-3:] == ["release-stock", "refund", "send-email"]
    assert "ship" not in names
    assert result.tasks[-1][1]["subject"] == "Order o-7: refunded"


def test_a_declined_card_sends_the_failure_email_and_packs_nothing() -> None:
    big = {**ORDER, "items": [{"sku": "SKU-1", "price": 600, "qty": 2}]}
    result = run(big)
    assert result.status == "completed"
    assert result.output == {
        "status": "payment-failed",
        "reason": "amount 1200.00 is over the card limit",
    }
    assert [name for name, _ in result.tasks] == ["charge-card", "send-email"]
