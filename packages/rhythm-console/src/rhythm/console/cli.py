"""`rhythm console`: serve the web console (added to `rhythm` through the rhythm.commands entry
point group). Binds 127.0.0.1 unless told otherwise; any other address needs a token."""

from __future__ import annotations

import click

from rhythm.client.cli_options import database_url_option
from rhythm.client.database import database_url as resolve_database_url
from rhythm.client.migrations import migrate
from rhythm.console.settings import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ENV_TOKEN,
    ConsoleSettings,
    ConsoleSettingsError,
)


@click.command("console")
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--token",
    envvar=ENV_TOKEN,
    default=None,
    help=f"Required on every request (at least 16 characters; or ${ENV_TOKEN}). Needed to "
    "bind anything but a loopback address.",
)
@click.option("--read-only", is_flag=True, help="Show everything, offer and accept no action.")
@database_url_option
def console_command(
    host: str, port: int, token: str | None, read_only: bool, database_url: str | None
) -> None:
    """Serve the web console: queues, executions, workflows and their past, live."""
    import uvicorn

    from rhythm.console.app import create_app

    url = resolve_database_url(database_url)
    try:
        settings = ConsoleSettings(
            database_url=url, host=host, port=port, token=token or None, read_only=read_only
        )
    except ConsoleSettingsError as exc:
        raise click.ClickException(str(exc)) from None
    migrate(url)
    shown = "localhost" if host == DEFAULT_HOST else host
    click.echo(
        f"Rhythm console on http://{shown}:{port}/" + (" (read-only)" if read_only else ""),
        err=True,
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
