"""The console's SQL, from sql/console.sql, by name; parsed like rhythm.client's queries.sql."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import LiteralString, cast

from rhythm.client.queries import parse_queries


@cache
def _all() -> dict[str, str]:
    text = resources.files("rhythm.console").joinpath("sql/console.sql").read_text("utf-8")
    return parse_queries(text)


def console_query(name: str) -> LiteralString:
    """The statement stored under `-- name: <name>` in console.sql."""
    try:
        return cast(LiteralString, _all()[name])
    except KeyError:
        raise KeyError(f"no query named {name!r} in rhythm/console/sql/console.sql") from None
