"""Options shared by every `rhythm` subcommand, including those other packages contribute."""

from __future__ import annotations

import click

from rhythm.client.config import ENV_DATABASE_URL

database_url_option = click.option(
    "--database-url",
    envvar=ENV_DATABASE_URL,
    default=None,
    help="Postgres URL. Default: $RHYTHM_DATABASE_URL, then [tool.rhythm] database_url in "
    "pyproject.toml, then an embedded Postgres under .rhythm/.",
)
