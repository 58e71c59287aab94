"""Errors a user can cause, each carrying one clear line of text."""

from __future__ import annotations


class RhythmError(Exception):
    """Base class of every error Rhythm raises on purpose."""


class ConfigError(RhythmError):
    """A configuration value is missing or malformed."""


class DatabaseUnavailable(RhythmError):
    """The database could not be reached with the configured URL."""


class MigrationError(RhythmError):
    """The migrations on disk and the ones recorded in the database disagree, or one failed."""


class InvalidInput(RhythmError, ValueError):
    """An argument passed to the client is unusable (the message names the value)."""


class ExecutionNotFound(RhythmError, LookupError):
    """No execution has the given id."""


class WaitTimeout(RhythmError, TimeoutError):
    """An execution did not finish within the time a caller was willing to wait."""
