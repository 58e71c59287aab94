"""The SQL of sql/queries.sql, loaded by name: `query("claim")`. No SQL lives in Python modules."""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import LiteralString, cast

NAME_LINE = re.compile(r"^--\s*name:\s*([a-z0-9_]+)\s*$")


def parse_queries(text: str) -> dict[str, str]:
    """Split a .sql file into {name: statement}; each statement starts at a `-- name: x` line."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = NAME_LINE.match(line.strip())
        if match:
            name = match[1]
            if name in found:
                raise ValueError(f"queries.sql: the query name {name!r} is used twice")
            current = found[name] = []
        elif current is not None and not line.lstrip().startswith("--"):
            current.append(line)
    return {name: "\n".join(lines).strip().rstrip(";") for name, lines in found.items()}


@cache
def all_queries() -> dict[str, str]:
    source = resources.files("rhythm.client").joinpath("sql/queries.sql").read_text("utf-8")
    return parse_queries(source)


def query(name: str) -> LiteralString:
    """The statement stored under `-- name: <name>`; KeyError names the missing query."""
    try:
        return cast(LiteralString, all_queries()[name])
    except KeyError:
        raise KeyError(f"no query named {name!r} in rhythm/client/sql/queries.sql") from None
