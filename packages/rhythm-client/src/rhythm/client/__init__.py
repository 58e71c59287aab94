"""Rhythm's client: Postgres store, migrations runner, Client/AsyncClient and the `rhythm` CLI."""

from rhythm.client.client import AsyncClient, Client, init
from rhythm.client.errors import (
    CannotRestart,
    CannotRetry,
    ConfigError,
    DatabaseUnavailable,
    ExecutionFinished,
    ExecutionNotFound,
    IdempotencyConflict,
    InvalidInput,
    MigrationError,
    NotAWorkflow,
    PermissionDenied,
    RhythmError,
    SchemaMissing,
    SnapshotNotFound,
    UnknownWorkflow,
    WaitTimeout,
)
from rhythm.client.models import Execution
from rhythm.client.workflow_files import WorkflowDefinition, WorkflowFile, WorkflowFileError

__all__ = [
    "AsyncClient",
    "CannotRestart",
    "CannotRetry",
    "Client",
    "ConfigError",
    "DatabaseUnavailable",
    "Execution",
    "ExecutionFinished",
    "ExecutionNotFound",
    "IdempotencyConflict",
    "InvalidInput",
    "MigrationError",
    "NotAWorkflow",
    "PermissionDenied",
    "RhythmError",
    "SchemaMissing",
    "SnapshotNotFound",
    "UnknownWorkflow",
    "WaitTimeout",
    "WorkflowDefinition",
    "WorkflowFile",
    "WorkflowFileError",
    "init",
]
