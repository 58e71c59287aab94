"""Where settings come from: an explicit value, then RHYTHM_* environment variables, then
`[tool.rhythm]` in the nearest pyproject.toml, then a default (for the database: the embedded server)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rhythm.client.errors import ConfigError

ENV_DATABASE_URL = "RHYTHM_DATABASE_URL"


def find_pyproject(start: Path | None = None) -> Path | None:
    """The nearest pyproject.toml at or above `start` (default: the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_tool_settings(start: Path | None = None) -> tuple[dict[str, Any], Path | None]:
    """The `[tool.rhythm]` table of the nearest pyproject.toml, and that file's path."""
    path = find_pyproject(start)
    if path is None:
        return {}, None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("rhythm", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.rhythm] must be a table")
    return table, path


@dataclass(frozen=True)
class DatabaseSetting:
    """A resolved database location: a URL, or None meaning 'use the embedded server in app_dir'."""

    url: str | None
    source: str  # "flag", "environment", "pyproject.toml" or "embedded"
    app_dir: Path


def resolve_database(url: str | None = None, start: Path | None = None) -> DatabaseSetting:
    """Resolve the database URL by precedence: argument, environment, pyproject.toml, embedded."""
    settings, pyproject = load_tool_settings(start)
    app_dir = pyproject.parent if pyproject else (start or Path.cwd()).resolve()
    if url:
        # click hands $RHYTHM_DATABASE_URL over as the --database-url value; name it honestly
        source = "environment" if url == os.environ.get(ENV_DATABASE_URL) else "flag"
        return DatabaseSetting(url, source, app_dir)
    env = os.environ.get(ENV_DATABASE_URL)
    if env:
        return DatabaseSetting(env, "environment", app_dir)
    configured = settings.get("database_url") or settings.get("database-url")
    if configured is not None:
        if not isinstance(configured, str) or not configured.strip():
            raise ConfigError(f"{pyproject}: [tool.rhythm] database_url must be a non-empty string")
        return DatabaseSetting(configured, "pyproject.toml", app_dir)
    return DatabaseSetting(None, "embedded", app_dir)
