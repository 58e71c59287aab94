"""The `rhythm` command. Other installed packages add subcommands through the entry point group
`rhythm.commands` (rhythm-worker adds `worker`, rhythm-lsp adds `lsp`); this module never imports
them directly, and loads one only when it is asked for."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, entry_points, version
from typing import Any

import click

from rhythm.client.cli_executions import (
    cancel_command,
    ls_command,
    prune_command,
    restart_command,
    retry_command,
    status_command,
)
from rhythm.client.cli_flow import check_command, fmt_command
from rhythm.client.cli_inspect import inspect_command
from rhythm.client.cli_options import database_url_option
from rhythm.client.cli_workflows import signal_command, start_command
from rhythm.client.errors import RhythmError
from rhythm.client.redaction import redact

ENTRY_POINT_GROUP = "rhythm.commands"


def _version() -> str:
    try:
        return version("rhythm-client")
    except PackageNotFoundError:  # pragma: no cover - running from an unusual checkout
        return "unknown"


class RhythmGroup(click.Group):
    """A group that also lists the commands contributed by other packages, and turns every
    RhythmError into one line on stderr with exit status 1 (never a traceback)."""

    def _plugins(self) -> dict[str, Any]:
        return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        builtin = super().get_command(ctx, cmd_name)
        if builtin is not None:
            return builtin
        ep = self._plugins().get(cmd_name)
        if ep is None:
            return None
        try:
            command = ep.load()
        except Exception as exc:  # a broken plugin must not take the whole CLI down
            return _broken_plugin(cmd_name, f"cannot load {ep.value!r}: {exc}")
        if not isinstance(command, click.Command):
            return _broken_plugin(cmd_name, f"entry point {ep.value!r} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RhythmError as exc:
            # redact: the last guard, for a message that quotes a URL or a driver's error
            raise click.ClickException(redact(str(exc))) from None


def _broken_plugin(name: str, problem: str) -> click.Command:
    def fail() -> None:
        raise click.ClickException(f"`rhythm {name}` is unavailable: {problem}")

    return click.Command(name, callback=fail, help=f"(unavailable: {problem})")


@click.group(cls=RhythmGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="rhythm")
def cli() -> None:
    """Rhythm: durable workflows and a task queue on Postgres."""


@cli.command()
@database_url_option
def migrate(database_url: str | None) -> None:
    """Apply pending schema migrations (safe to run from many processes at once)."""
    from rhythm.client.database import database_url as resolve_url
    from rhythm.client.database import describe_target
    from rhythm.client.migrations import applied_migrations
    from rhythm.client.migrations import migrate as run_migrations

    url = resolve_url(database_url)
    applied = run_migrations(url)
    where = describe_target(url)
    if applied:
        for m in applied:
            click.echo(f"applied {m.filename}")
    else:
        click.echo(f"database at {where} is up to date")
    total = applied_migrations(url)
    click.echo(f"{len(total)} migration(s) recorded in rhythm.schema_migrations at {where}")


def main() -> None:
    cli(prog_name="rhythm")


for _command in (
    check_command,
    fmt_command,
    status_command,
    ls_command,
    inspect_command,
    cancel_command,
    retry_command,
    restart_command,
    prune_command,
    start_command,
    signal_command,
):
    cli.add_command(_command)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
