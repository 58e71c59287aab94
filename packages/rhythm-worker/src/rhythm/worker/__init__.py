"""Rhythm's worker: the @task registry, the Worker and the `rhythm worker` command."""

from rhythm.worker.context import TaskContext, current_execution
from rhythm.worker.registry import TaskDefinition, TaskFunction, task
from rhythm.worker.settings import WorkerSettings
from rhythm.worker.worker import Worker

__all__ = [
    "TaskContext",
    "TaskDefinition",
    "TaskFunction",
    "Worker",
    "WorkerSettings",
    "current_execution",
    "task",
]
