"""`rhythm start NAME --input JSON` and `rhythm signal ID NAME --payload JSON`: start a registered
workflow and send a running one a signal, from a terminal or a script (`--json`)."""

from __future__ import annotations

from typing import Any

import click

from rhythm.client.cli_options import JsonValue, database_url_option, inputs_option
from rhythm.client.cli_output import json_option, print_json
from rhythm.client.errors import WaitTimeout


def _client(database_url: str | None) -> Any:
    from rhythm.client.client import Client

    return Client(database_url, max_connections=1)


@click.command("start")
@click.argument("name")
@inputs_option("The workflow's inputs.")
@click.option("--queue", default=None, help="Queue to run it on. Default: default.")
@click.option("--priority", type=int, default=0, show_default=True, help="Higher runs first.")
@click.option(
    "--idempotency-key",
    default=None,
    help="Starting again with the same key returns the same execution instead of a new one.",
)
@click.option(
    "--delay", type=click.FloatRange(min=0), default=None, help="Start after this many seconds."
)
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=None,
    help="Wait up to this many seconds for it to finish and print its output.",
)
@json_option
@database_url_option
def start_command(
    name: str,
    inputs: dict[str, Any],
    queue: str | None,
    priority: int,
    idempotency_key: str | None,
    delay: float | None,
    wait_seconds: float | None,
    as_json: bool,
    database_url: str | None,
) -> None:
    """Start the latest registered version of workflow NAME and print its execution id.

    A worker (`rhythm worker --workflows DIR`, `rhythm dev`) runs it; `rhythm inspect ID` shows
    where it is."""
    with _client(database_url) as client:
        execution_id = client.workflows.run(
            name,
            inputs,
            queue=queue,
            priority=priority,
            idempotency_key=idempotency_key,
            delay=delay,
        )
        finished = None
        if wait_seconds is not None:
            try:
                finished = client.executions.wait(execution_id, timeout=wait_seconds)
            except WaitTimeout as exc:
                # The workflow was started and stays started: say so, and how to follow it.
                raise click.ClickException(
                    f"{exc}; it was started and keeps running: rhythm inspect {execution_id}"
                ) from None
    if as_json:
        shown: dict[str, Any] = {"id": execution_id, "name": name}
        if finished is not None:
            shown.update(status=finished.status, output=finished.output, error=finished.error)
        print_json(shown)
    elif finished is None:
        click.echo(execution_id)
        click.echo(f"started workflow {name}; see it with: rhythm inspect {execution_id}", err=True)
    else:
        click.echo(f"workflow {name} {execution_id}: {finished.status}", err=True)
        print_json(finished.output)
    if finished is not None and finished.status != "completed":
        raise SystemExit(1)


@click.command("signal")
@click.argument("execution_id")
@click.argument("signal_name")
@click.option(
    "--payload",
    type=JsonValue(),
    default="null",
    show_default=True,
    metavar="JSON",
    help="The signal's payload: any JSON value, or @file.json.",
)
@json_option
@database_url_option
def signal_command(
    execution_id: str, signal_name: str, payload: Any, as_json: bool, database_url: str | None
) -> None:
    """Send signal SIGNAL_NAME to the running workflow EXECUTION_ID.

    A signal sent before the workflow waits for it is kept; several of one name arrive in the
    order sent."""
    with _client(database_url) as client:
        client.signals.send(execution_id, signal_name, payload)
    if as_json:
        print_json({"id": execution_id, "signal": signal_name, "sent": True})
    else:
        click.echo(f"sent {signal_name!r} to {execution_id}")
