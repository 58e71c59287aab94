"""Errors a user can cause, each carrying one clear line of text."""

from __future__ import annotations


class RhythmError(Exception):
    """Base class of every error Rhythm raises on purpose."""


class ConfigError(RhythmError):
    """A configuration value is missing or malformed."""


class DatabaseUnavailable(RhythmError):
    """The database could not be reached with the configured URL."""


class SchemaMissing(RhythmError):
    """The database has no Rhythm schema yet, or an older one than this client needs."""


class PermissionDenied(RhythmError):
    """The database role lacks a privilege the call needs (docs/python-api.md, Privileges)."""


class MigrationError(RhythmError):
    """The migrations on disk and the ones recorded in the database disagree, or one failed."""


class InvalidInput(RhythmError, ValueError):
    """An argument passed to the client is unusable (the message names the value)."""


class ExecutionNotFound(RhythmError, LookupError):
    """No execution has the given id."""


class UnknownWorkflow(RhythmError, LookupError):
    """No workflow of that name is registered; `known` lists the names that are."""

    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        listed = ", ".join(known) if known else "none yet (register .flow files first)"
        super().__init__(f"no workflow named {name!r} is registered; registered: {listed}")


class NotAWorkflow(InvalidInput):
    """A workflow-only operation (sending a signal) was given the id of a task."""


class CannotRetry(RhythmError):
    """`executions.retry` was given something other than a failed task started by a client."""


class CannotRestart(RhythmError):
    """`executions.restart` cannot start a new execution from that workflow (message: why)."""


class SnapshotNotFound(CannotRestart, LookupError):
    """The workflow has no kept snapshot of the step asked for (the message lists those kept)."""


class ExecutionFinished(RhythmError):
    """The execution has already completed, failed or been cancelled."""


class WaitTimeout(RhythmError, TimeoutError):
    """An execution did not finish within the time a caller was willing to wait."""


class IdempotencyConflict(InvalidInput):
    """An idempotency key is already held by an execution of a different task or workflow.

    Reusing a key with the same name returns the existing execution's id; with another name (or
    a workflow where a task holds it, or the reverse) it is refused, naming both."""

    def __init__(
        self,
        key: str,
        existing_id: str,
        existing_type: str,
        existing_name: str,
        requested_type: str,
        requested_name: str,
    ) -> None:
        self.key = key
        self.existing_id = existing_id
        self.existing_type = existing_type
        self.existing_name = existing_name
        self.requested_type = requested_type
        self.requested_name = requested_name
        super().__init__(
            f"idempotency key {key!r} is already used by {existing_type} {existing_name!r} "
            f"(execution {existing_id}); it cannot be reused for {requested_type} "
            f"{requested_name!r}"
        )
