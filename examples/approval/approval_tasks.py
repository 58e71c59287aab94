"""The approval example's tasks: ask a manager, pay out, tell the requester.

The workflow in flows/expense_approval.flow waits between the first task and the others for a
"decision" signal, sent with `rhythm signal ID decision --payload '{"approved": true, "by": "maria"}'`
or `client.signals.send(...)`."""

from __future__ import annotations

import hashlib

from rhythm.worker import task


@task("ask-for-approval")
def ask_for_approval(inputs: dict) -> dict:
    """Tell the approver there is a request waiting (here: report what would be sent)."""
    return {"sent": f"Expense {inputs['requestId']}: {inputs['amount']} for {inputs['requester']}"}


@task("pay-out", retries=5, timeout=30)
def pay_out(inputs: dict) -> dict:
    """Pay the requester. Tasks run at least once, so the payment id is derived from the request
    (a payment provider's idempotency key): a retried payment is the same payment."""
    key = f"expense-{inputs['requestId']}"
    return {"paymentId": "pay_" + hashlib.sha256(key.encode()).hexdigest()[:10]}


@task("notify-requester")
def notify_requester(inputs: dict) -> dict:
    """Tell the requester what became of the request."""
    return {"to": inputs["requester"], "outcome": inputs["outcome"]}
