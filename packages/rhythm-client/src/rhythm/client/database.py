"""Opening connections, with one clear line when the database cannot be reached, and the
timeouts every connection carries so that no call can block forever on a silent network."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import conninfo

from rhythm.client.config import DatabaseSetting, resolve_database
from rhythm.client.embedded import start_embedded
from rhythm.client.errors import ConfigError, DatabaseUnavailable
from rhythm.client.redaction import redact, redact_url

CONNECT_TIMEOUT_SECONDS = 10
STATEMENT_TIMEOUT_SECONDS = 30.0
# TCP keepalive: probe an idle connection after 10 s, every 5 s, give up after 3 unanswered
# probes; unacknowledged data is abandoned after the same 25 s (tcp_user_timeout). A peer that
# vanished without a FIN/RST (a partition, a dead host) is then noticed in under half a minute.
KEEPALIVE_IDLE_SECONDS = 10
KEEPALIVE_INTERVAL_SECONDS = 5
KEEPALIVE_COUNT = 3
# How much longer than statement_timeout the client waits for any answer before it cuts the
# connection itself: the server's own timeout should fire first; this catches a server (or a
# proxy) that no longer answers at all, which neither statement_timeout nor TCP can see.
CLIENT_GRACE_SECONDS = 2.0
# Pooled connections (clients and workers): autocommit (every statement is its own transaction)
# and no server-side prepared statements by default (the worker prepares its statements: see
# rhythm.worker.store).
CONNECTION_KWARGS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}
# Set on every connection unless the URL's `options` set them (Timeouts.settings). A prepared
# statement still gets a plan made for its parameters and the table sizes of the moment on every
# run: a generic plan, cached while a table was nearly empty, would scan it sequentially long
# after it has grown. (The worker keeps its plans instead: rhythm.worker.store.WORKER_SETTINGS.)
SESSION_SETTINGS: tuple[tuple[str, str], ...] = (("plan_cache_mode", "force_custom_plan"),)


@dataclass(frozen=True)
class Timeouts:
    """The time limits of every client connection, and the session settings sent with them
    (`settings`, (name, value) pairs). `statement=None` turns the statement limit (and the
    client-side guard that goes with it) off."""

    connect: float = CONNECT_TIMEOUT_SECONDS
    statement: float | None = STATEMENT_TIMEOUT_SECONDS
    settings: tuple[tuple[str, str], ...] = SESSION_SETTINGS

    @property
    def guard(self) -> float | None:
        """Seconds after which a statement that got no answer at all is cut off by the client."""
        return None if self.statement is None else self.statement + CLIENT_GRACE_SECONDS

    def connection_kwargs(self, url: str) -> dict[str, Any]:
        """libpq parameters for these limits; a parameter the URL sets itself is left to the URL."""
        given = _conninfo(url)
        wanted: dict[str, Any] = {
            # libpq counts whole seconds (and treats 1 as 2); never round a limit down to 0 = none
            "connect_timeout": max(1, round(self.connect)),
            "keepalives": 1,
            "keepalives_idle": KEEPALIVE_IDLE_SECONDS,
            "keepalives_interval": KEEPALIVE_INTERVAL_SECONDS,
            "keepalives_count": KEEPALIVE_COUNT,
            "tcp_user_timeout": (
                KEEPALIVE_IDLE_SECONDS + KEEPALIVE_INTERVAL_SECONDS * KEEPALIVE_COUNT
            )
            * 1000,
        }
        found = {k: v for k, v in wanted.items() if k not in given}
        options = str(given.get("options") or "")
        settings = dict(self.settings)
        if self.statement is not None:
            settings["statement_timeout"] = str(max(1, round(self.statement * 1000)))
        added = [f"-c {name}={value}" for name, value in settings.items() if name not in options]
        if added:
            found["options"] = " ".join([options, *added]).strip()
        return found


def _conninfo(url: str) -> dict[str, Any]:
    try:
        return conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return {}


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


def conninfo_user(url: str) -> str:
    """The role a URL logs in as (libpq's default: the operating-system user)."""
    user = _conninfo(url).get("user")
    return str(user) if user else getpass.getuser()


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
        raise ConfigError(
            f"invalid database URL {redact_url(url)!r} (from {source}): {redact(first, url)}"
        ) from None


def connect(url: str, timeouts: Timeouts | None = None, **kwargs: object) -> psycopg.Connection:
    """Open a connection or raise DatabaseUnavailable with a one-line reason naming the host.
    Timeouts and keepalives are `timeouts` (default: Timeouts()) unless the URL sets them."""
    validate_url(url)
    kwargs = {**(timeouts or Timeouts()).connection_kwargs(url), **kwargs}
    try:
        return psycopg.connect(url, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from None


async def connect_async(
    url: str, timeouts: Timeouts | None = None, **kwargs: object
) -> psycopg.AsyncConnection:
    validate_url(url)
    kwargs = {**(timeouts or Timeouts()).connection_kwargs(url), **kwargs}
    try:
        return await psycopg.AsyncConnection.connect(url, **kwargs)  # type: ignore[arg-type]
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(unreachable_message(url, exc)) from None


def one_line(exc: BaseException, url: str) -> str:
    """A driver error as one line, its password masked."""
    text = " ".join(str(exc).split())
    # psycopg repeats "connection failed: connection to server at ..."; keep the meaningful tail.
    if "failed:" in text:
        text = text.rsplit("failed:", 1)[-1].strip()
    return redact(text, url) or type(exc).__name__


def unreachable_message(url: str, exc: BaseException) -> str:
    return f"cannot connect to the database at {describe_target(url)}: {one_line(exc, url)}"
