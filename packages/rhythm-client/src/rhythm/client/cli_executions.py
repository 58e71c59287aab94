"""`rhythm status`, `rhythm ls`, `rhythm inspect ID`, `rhythm cancel ID` and `rhythm prune`."""

from __future__ import annotations

import json
from typing import Any

import click

from rhythm.client.cli_options import database_url_option
from rhythm.client.errors import InvalidInput
from rhythm.client.models import PRUNABLE, STATUSES, Execution
from rhythm.client.validation import parse_duration


def _client(database_url: str | None) -> Any:
    from rhythm.client.client import Client

    return Client(database_url, max_connections=1)


def _when(ex: Execution) -> str:
    return ex.created_at.strftime("%Y-%m-%d %H:%M:%S")


@click.command("status")
@database_url_option
def status_command(database_url: str | None) -> None:
    """Executions by status, and per queue what is ready, scheduled and running."""
    from rhythm.client.core import Call

    # through Client._all: retried across a restart, SchemaMissing on an unmigrated database
    with _client(database_url) as client:
        counts = client._all(Call("status_counts", {}))
        queues = client._all(Call("queue_overview", {}))
    by_status = {row["status"]: row["n"] for row in counts}
    click.echo("executions: " + ", ".join(f"{s} {by_status.get(s, 0)}" for s in STATUSES))
    if not queues:
        click.echo("queues: nothing ready, scheduled or running")
    for row in queues:
        click.echo(
            f"queue {row['queue']}: {row['ready']} ready, {row['scheduled']} scheduled, "
            f"{row['running']} running"
        )


@click.command("ls")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--name", default=None, help="Task or workflow name.")
@click.option("--queue", default=None)
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@database_url_option
def ls_command(
    status: str | None, name: str | None, queue: str | None, limit: int, database_url: str | None
) -> None:
    """List executions, newest first."""
    with _client(database_url) as client:
        found = client.executions.list(status=status, name=name, queue=queue, limit=limit)
    if not found:
        click.echo("no executions match")
        return
    for ex in found:
        click.echo(
            f"{ex.id}  {ex.status:<9}  {ex.type:<8}  {ex.name}  queue={ex.queue}  "
            f"attempt={ex.attempt}  created={_when(ex)}"
        )


@click.command("inspect")
@click.argument("execution_id")
@database_url_option
def inspect_command(execution_id: str, database_url: str | None) -> None:
    """Show one execution: status, inputs, output and last error."""
    with _client(database_url) as client:
        ex = client.executions.get(execution_id)
    fields: dict[str, Any] = {
        "id": ex.id,
        "type": ex.type,
        "name": ex.name,
        "queue": ex.queue,
        "priority": ex.priority,
        "status": ex.status,
        "attempt": ex.attempt,
        "parent_id": ex.parent_id,
        "idempotency_key": ex.idempotency_key,
        "created_at": ex.created_at.isoformat(),
        "started_at": ex.started_at.isoformat() if ex.started_at else None,
        "completed_at": ex.completed_at.isoformat() if ex.completed_at else None,
        "inputs": ex.inputs,
        "output": ex.output,
        "error": ex.error,
    }
    click.echo(json.dumps(fields, indent=2, ensure_ascii=False))


@click.command("cancel")
@click.argument("execution_id")
@database_url_option
def cancel_command(execution_id: str, database_url: str | None) -> None:
    """Cancel a pending, running or suspended execution."""
    with _client(database_url) as client:
        if client.executions.cancel(execution_id):
            click.echo(f"cancelled {execution_id}")
        else:
            status = client.executions.get(execution_id).status
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
