"""`rhythm status`, `rhythm ls`, `rhythm cancel ID`, `rhythm retry ID`, `rhythm restart ID` and
`rhythm prune`."""

from __future__ import annotations

from typing import Any

import click

from rhythm.client.cli_options import database_url_option
from rhythm.client.cli_output import (
    console,
    executions_table,
    json_option,
    overdue_table,
    print_json,
    status_tables,
)
from rhythm.client.errors import InvalidInput
from rhythm.client.models import EXECUTION_TYPES, PRUNABLE, STATUSES
from rhythm.client.validation import parse_duration


def _client(database_url: str | None) -> Any:
    from rhythm.client.client import Client

    return Client(database_url, max_connections=1)


@click.command("status")
@json_option
@database_url_option
def status_command(as_json: bool, database_url: str | None) -> None:
    """Executions by status, per queue what is ready, scheduled and running, and tasks still
    running past their timeout (each holding a worker's slot)."""
    with _client(database_url) as client:
        overview = client.status()
    if as_json:
        print_json(overview.to_json())
        return
    by_status, per_queue = status_tables(overview)
    out = console()
    out.print(by_status)
    out.print()
    if overview.queues:
        out.print(per_queue)
    else:
        out.print("Queues: nothing ready, scheduled or running")
    if overview.overdue:
        out.print()
        out.print(overdue_table(overview.overdue))


@click.command("ls")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--type", "kind", type=click.Choice(EXECUTION_TYPES), default=None)
@click.option("--name", default=None, help="Task or workflow name.")
@click.option("--queue", default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@database_url_option
def ls_command(
    status: str | None,
    kind: str | None,
    name: str | None,
    queue: str | None,
    limit: int,
    as_json: bool,
    database_url: str | None,
) -> None:
    """List executions, newest first."""
    with _client(database_url) as client:
        found = client.executions.list(
            status=status, name=name, queue=queue, limit=limit, type=kind
        )
    if as_json:
        print_json([ex.to_json() for ex in found])
    elif not found:
        console().print("no executions match")
    else:
        console().print(executions_table(found))


@click.command("cancel")
@click.argument("execution_id")
@json_option
@database_url_option
def cancel_command(execution_id: str, as_json: bool, database_url: str | None) -> None:
    """Cancel a pending, running or suspended execution (a workflow: with all its unfinished
    child workflows and tasks)."""
    with _client(database_url) as client:
        cancelled = client.executions.cancel(execution_id)
        status = client.executions.get(execution_id).status
    if as_json:
        print_json({"id": execution_id, "cancelled": cancelled, "status": status})
    elif cancelled:
        click.echo(f"cancelled {execution_id}")
    else:
        click.echo(f"{execution_id} had already finished ({status}); nothing to cancel")


class Duration(click.ParamType):
    """A duration such as 30s, 15m, 24h or 7d, as seconds."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int | float):
            return float(value)
        try:
            return parse_duration(str(value))
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


@click.command("prune")
@click.option(
    "--older-than",
    type=Duration(),
    required=True,
    help="Delete executions that finished longer ago than this: 30s, 15m, 24h, 7d, 2w.",
)
@click.option(
    "--status",
    "statuses",
    type=click.Choice(PRUNABLE),
    multiple=True,
    help="Only executions with this status (repeatable). Default: completed, failed, cancelled.",
)
@database_url_option
def prune_command(older_than: float, statuses: tuple[str, ...], database_url: str | None) -> None:
    """Delete finished executions older than a given age, in small batches.

    Pending, running and suspended executions are never deleted, nor the children of an
    unfinished workflow."""
    with _client(database_url) as client:
        deleted = client.executions.prune(older_than=older_than, statuses=statuses or PRUNABLE)
    chosen = ", ".join(statuses or PRUNABLE)
    click.echo(f"deleted {deleted} execution(s) ({chosen}) finished over {_age(older_than)} ago")


def _age(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


@click.command("retry")
@click.argument("execution_id")
@database_url_option
def retry_command(execution_id: str, database_url: str | None) -> None:
    """Run a failed task again (one started by a client; a workflow's task: restart the
    workflow)."""
    with _client(database_url) as client:
        client.executions.retry(execution_id)
    click.echo(f"retrying task {execution_id}")


@click.command("restart")
@click.argument("execution_id")
@click.option(
    "--from",
    "from_step",
    type=click.IntRange(0),
    default=None,
    help="The kept snapshot (step number, as the console and `rhythm inspect` show) to start "
    "from; 0: from the beginning. Default: the last one kept.",
)
@json_option
@database_url_option
def restart_command(
    execution_id: str, from_step: int | None, as_json: bool, database_url: str | None
) -> None:
    """Start a new execution of a workflow from one of its kept snapshots, on the same version,
    linked to the original (what the snapshot waited for is started again for it)."""
    with _client(database_url) as client:
        new = client.executions.restart(execution_id, from_step=from_step)
        step = client.executions.get(new).restarted_from_step
    if as_json:
        print_json({"id": new, "restarted_from": execution_id, "restarted_from_step": step})
    else:
        where = "the beginning" if step == 0 else f"step {step}"
        click.echo(f"restarted {execution_id} from {where} as {new}")
