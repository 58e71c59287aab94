"""The embedded Postgres (the `pgserver` package) used when no database URL is configured.

Its data lives under `.rhythm/pgdata` in the app folder and is reused by the next run. pgserver
counts the processes using a data directory and stops the server when the last one exits."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

EMBEDDED_DIRNAME = ".rhythm"

_servers: dict[Path, Any] = {}


def embedded_data_dir(app_dir: Path) -> Path:
    return app_dir / EMBEDDED_DIRNAME / "pgdata"


def start_embedded(app_dir: Path, database: str = "postgres") -> str:
    """Start (or attach to) the embedded server for `app_dir` and return a connection URL."""
    pgdata = embedded_data_dir(app_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    gitignore = pgdata.parent / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n", encoding="utf-8")
    server = _servers.get(pgdata)
    if server is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver

            server = pgserver.get_server(pgdata)
        _servers[pgdata] = server
    return server.get_uri(database)
