"""The quickstart's tasks: plain Python functions the onboarding workflow calls by name.

`rhythm run flows/onboard_user.flow --input '{"userId": "u-42"}'` imports this module (named in
pyproject.toml's [tool.rhythm] tasks) and runs them in an in-process worker. Tasks run at least
once: a worker that dies mid-task leaves it to be run again, so a task with a side effect derives
an idempotency key from its inputs, as create_billing_account does."""

from __future__ import annotations

import hashlib
import time

from rhythm.worker import task

PLANS = ("free", "team", "business")


@task("get-user")
def get_user(inputs: dict) -> dict:
    """Look the user up (here: a made-up profile derived from the id)."""
    user_id = str(inputs["userId"])
    digest = int(hashlib.sha256(user_id.encode()).hexdigest(), 16)
    time.sleep(0.05)  # a real lookup takes a moment; it shows in `rhythm run`'s timings
    return {
        "userId": user_id,
        "name": f"User {user_id}",
        "email": f"{user_id}@example.com",
        "plan": PLANS[digest % len(PLANS)],
    }


@task("create-billing-account", retries=3, timeout=30)
def create_billing_account(inputs: dict) -> dict:
    """Open a billing account. The account id is derived from the user id, which is what a billing
    provider's idempotency key would do: a retry after a crash finds the same account."""
    key = f"billing-{inputs['userId']}"
    time.sleep(0.1)
    return {
        "accountId": "acct_" + hashlib.sha256(key.encode()).hexdigest()[:10],
        "plan": inputs["plan"],
    }


@task("send-welcome-email", retries=2)
def send_welcome_email(inputs: dict) -> dict:
    """Send the welcome e-mail (here: report what would be sent)."""
    time.sleep(0.05)
    return {"to": inputs["to"], "subject": f"Welcome, {inputs['name']}!"}
