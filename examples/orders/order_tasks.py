"""The Python side of the orders example: plain functions, registered as Rhythm tasks.

The workflows in flows/ call them by name (`rhythm run flows/order.flow --input '{...}'` runs them
in an in-process worker; in production `rhythm worker --app order_tasks --workflows flows`);
test_order_flow.py reuses them as stand-ins when unit-testing the workflows, and run.py enqueues
charge-card directly, as a plain task queue would."""

from __future__ import annotations

import hashlib

from rhythm.worker import task

# SKUs the warehouse has run out of: reserving one fails, and the order is compensated.
OUT_OF_STOCK = frozenset({"SKU-404"})


class CardDeclined(Exception):
    """The payment provider refused the charge."""


class OutOfStock(Exception):
    """The warehouse has none of this item left."""


def _token(*parts: object) -> str:
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:12]


@task("charge-card", retries=3, timeout=30)
def charge_card(inputs: dict) -> dict:
    """Charge the customer's card; declines orders over 1,000. The receipt is derived from the
    order (an idempotency key): a retried charge is the same charge."""
    amount = float(inputs["amount"])
    if amount > 1000:
        raise CardDeclined(f"amount {amount:.2f} is over the card limit")
    return {"receipt": _token(inputs["orderId"], amount), "amount": amount}


@task("reserve-stock")
def reserve_stock(inputs: dict) -> dict:
    """Reserve the items in the warehouse; fails for SKUs that are out of stock."""
    if inputs["sku"] in OUT_OF_STOCK:
        raise OutOfStock(f"{inputs['sku']} is out of stock")
    return {"bin": "BIN-" + _token(inputs["orderId"], inputs["sku"])[:4].upper()}


@task("pack")
def pack(inputs: dict) -> dict:
    """Pack the reserved items into a parcel."""
    return {"parcelId": "PCL-" + _token(inputs["orderId"], inputs["sku"], inputs["bin"])[:6]}


@task("release-stock")
def release_stock(inputs: dict) -> dict:
    """Compensation: release every reservation of the order (releasing twice is harmless)."""
    return {"orderId": inputs["orderId"], "released": True}


@task("refund", retries=5)
def refund(inputs: dict) -> dict:
    """Compensation: refund the charge (keyed by its receipt, so a retry refunds once)."""
    return {"refundId": "RF-" + _token(inputs["receipt"])[:8], "amount": inputs["amount"]}


@task("ship", retries=5, timeout=60)
async def ship(inputs: dict) -> dict:
    """Book a courier for the order's parcels (async tasks run on the worker's event loop)."""
    return {"orderId": inputs["orderId"], "tracking": f"TRK-{inputs['orderId'].upper()}"}


@task("send-email")
def send_email(inputs: dict) -> dict:
    """Send a notification e-mail (here: just report what would be sent)."""
    return {"to": inputs["to"], "subject": inputs["subject"]}
