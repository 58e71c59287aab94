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
