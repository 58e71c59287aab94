"""How a console runs: where its database is, where it listens, its token and read-only mode;
and the rule that only the loopback address may go without a token."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

ENV_TOKEN = "RHYTHM_CONSOLE_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ConsoleSettingsError(ValueError):
    """A setting the console refuses to start with (one clear line)."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost: addresses only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ConsoleSettings:
    """`token`: required on every request when set (and required to bind a non-loopback host);
    `read_only`: no action is shown and every POST is refused."""

    database_url: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    read_only: bool = False
    page_size: int = 50

    def __post_init__(self) -> None:
        if self.token is not None and len(self.token) < 16:
            raise ConsoleSettingsError(
                f"the console token must be at least 16 characters, got {len(self.token)}"
            )
        if not is_loopback(self.host) and not self.token:
            raise ConsoleSettingsError(
                f"binding {self.host} (not a loopback address) requires a token: pass --token "
                f"or set {ENV_TOKEN}"
            )
