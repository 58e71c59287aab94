"""Opening connections, with one clear line when the database cannot be reached."""

from __future__ import annotations

from pathlib import Path

import psycopg
from psycopg import conninfo

from rhythm.client.config import DatabaseSetting, resolve_database
from rhythm.client.embedded import start_embedded
from rhythm.client.errors import ConfigError, DatabaseUnavailable

CONNECT_TIMEOUT_SECONDS = 10


def describe_target(url: str) -> str:
    """`host:port/dbname` for messages, never the password."""
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<unparseable URL>"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = params.get("port") or "5432"
    dbname = params.get("dbname") or params.get("user") or ""
    where = f"{host}/{dbname}" if str(host).startswith("/") else f"{host}:{port}/{dbname}"
    return where


def database_url(url: str | None = None, start: Path | None = None) -> str:
    """The URL to connect to: configured, or the embedded server's (started on demand)."""
    setting: DatabaseSetting = resolve_database(url, start)
    if setting.url is not None:
        validate_url(setting.url, setting.source)
        return setting.url
    return start_embedded(setting.app_dir)


def validate_url(url: str, source: str = "flag") -> None:
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "malformed"
        raise ConfigError(f"invalid database URL {url!r} (from {source}): {first}") from None


def connect(url: str, **kwargs: object) -> psycopg.Connection:
    """Open a connection or raise DatabaseUnavailable with a one-line reason naming the host."""
    validate_url(url)
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return psycopg.connect(url, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from None


async def connect_async(url: str, **kwargs: object) -> psycopg.AsyncConnection:
    validate_url(url)
    kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return await psycopg.AsyncConnection.connect(url, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from None


def unreachable_message(url: str, exc: BaseException) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    # psycopg repeats "connection failed: connection to server at ..."; keep the meaningful tail.
    if "failed:" in reason:
        reason = reason.rsplit("failed:", 1)[-1].strip()
    return f"cannot connect to the database at {describe_target(url)}: {reason}"
