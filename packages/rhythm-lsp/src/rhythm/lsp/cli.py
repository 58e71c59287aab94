"""`rhythm lsp`: the language server as a subcommand of the `rhythm` CLI."""

from __future__ import annotations

import click


@click.command("lsp")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"], case_sensitive=False),
    default="warning",
    show_default=True,
    help="How much the server logs to stderr.",
)
def lsp_command(log_level: str) -> None:
    """Run the .flow language server, speaking LSP over stdin/stdout (for editors)."""
    from rhythm.lsp.server import run

    run(log_level=log_level)
