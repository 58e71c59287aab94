"""Options shared by every `rhythm` subcommand, including those other packages contribute."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from rhythm.client.config import ENV_DATABASE_URL

F = TypeVar("F", bound=Callable[..., Any])

database_url_option = click.option(
    "--database-url",
    envvar=ENV_DATABASE_URL,
    default=None,
    help="Postgres URL. Default: $RHYTHM_DATABASE_URL, then [tool.rhythm] database_url in "
    "pyproject.toml, then an embedded Postgres under .rhythm/.",
)


class JsonValue(click.ParamType):
    """A JSON text given on the command line, or `@path` to read it from a file."""

    name = "json"

    def __init__(self, object_only: bool = False) -> None:
        self.object_only = object_only

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        text = value
        if value.startswith("@"):
            try:
                text = Path(value[1:]).read_text(encoding="utf-8")
            except OSError as exc:
                self.fail(f"cannot read {value[1:]}: {exc.strerror or exc}", param, ctx)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            shown = text if len(text) <= 60 else text[:57] + "..."
            self.fail(f"not valid JSON ({exc.msg} at column {exc.colno}): {shown!r}", param, ctx)
        if self.object_only and not isinstance(parsed, dict):
            self.fail(
                f"must be a JSON object such as '{{\"id\": 42}}', got {type(parsed).__name__} "
                f"{text.strip()!r}",
                param,
                ctx,
            )
        return parsed


def inputs_option(help_text: str) -> Callable[[F], F]:
    """`--input JSON`: a workflow's or task's inputs, a JSON object (default {})."""
    return click.option(
        "--input",
        "inputs",
        type=JsonValue(object_only=True),
        default="{}",
        show_default=True,
        metavar="JSON",
        help=help_text + " A JSON object, or @file.json.",
    )
