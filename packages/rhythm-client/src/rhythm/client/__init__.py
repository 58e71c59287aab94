"""Rhythm's client: Postgres store, migrations runner, Client/AsyncClient and the `rhythm` CLI."""

from rhythm.client.errors import (
    ConfigError,
    DatabaseUnavailable,
    MigrationError,
    RhythmError,
)

__all__ = ["ConfigError", "DatabaseUnavailable", "MigrationError", "RhythmError"]
