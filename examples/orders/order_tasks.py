"""The Python side of the orders example: plain functions, registered as Rhythm tasks.

Workers run them (`rhythm worker --app order_tasks -q orders`); the workflow in flows/order.flow calls
them by name, and test_order_flow.py reuses them as stand-ins when unit-testing the workflow."""

from __future__ import annotations

import hashlib

from rhythm.worker import task


class CardDeclined(Exception):
    """The payment provider refused the charge."""


@task("charge-card", queue="orders", retries=3, timeout=30)
def charge_card(inputs: dict) -> dict:
    """Charge the customer's card; declines orders over 1,000."""
    amount = float(inputs["amount"])
    if amount > 1000:
        raise CardDeclined(f"amount {amount:.2f} is over the card limit")
    receipt = hashlib.sha256(f"{inputs['orderId']}:{amount}".encode()).hexdigest()[:12]
    return {"receipt": receipt, "amount": amount}


@task("ship", queue="orders", retries=5, timeout=60)
async def ship(inputs: dict) -> dict:
    """Book a courier for the order (async tasks run on the worker's event loop)."""
    return {"orderId": inputs["orderId"], "tracking": f"TRK-{inputs['orderId'].upper()}"}


@task("send-email", queue="orders")
def send_email(inputs: dict) -> dict:
    """Send a notification e-mail (here: just report what would be sent)."""
    return {"to": inputs["to"], "subject": inputs["subject"]}
