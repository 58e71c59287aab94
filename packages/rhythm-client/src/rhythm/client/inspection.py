"""What `executions.inspect(id)` returns: an execution, its descendants and, for a suspended
workflow, where it waits (the source span of its await, what it waits on, its variables), read
from the stored snapshot with rhythm.core's describe_suspension. No I/O here."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from rhythm.client.models import ChildExecution, Execution
from rhythm.core.compiler import CompiledWorkflow, FlowCompileError, compile_source
from rhythm.core.suspension import SuspensionError, describe_suspension


@dataclass(frozen=True)
class WaitPoint:
    """Where a suspended workflow waits: 1-based line/column span of the await in `source`."""

    workflow: str
    version_hash: str
    source: str
    line: int
    column: int
    end_line: int
    end_column: int
    waits_on: list[dict[str, Any]]
    variables: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        lines = self.source.splitlines()
        return {
            "workflow": self.workflow,
            "version_hash": self.version_hash,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "source_lines": lines[self.line - 1 : self.end_line],
            "waits_on": self.waits_on,
            "variables": self.variables,
        }


@dataclass(frozen=True)
class Inspection:
    """One execution, every descendant (child workflows and tasks, in start order) and, for a
    suspended workflow, its wait point (or why it could not be read: `wait_problem`)."""

    execution: Execution
    children: list[ChildExecution]
    wait: WaitPoint | None = None
    wait_problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "execution": self.execution.to_json(),
            "children": [c.to_json() for c in self.children],
            "wait": None if self.wait is None else self.wait.to_json(),
            "wait_problem": self.wait_problem,
        }


@functools.lru_cache(maxsize=32)
def _compiled(source: str, filename: str) -> CompiledWorkflow:
    # `rhythm run` looks at a suspended workflow ten times a second: compile each version once.
    return compile_source(source, filename)


def wait_point(
    name: str, version_hash: str, source: str | None, state: Any
) -> tuple[WaitPoint | None, str | None]:
    """The wait point of a workflow suspended in `state`, running `source`; or (None, why not)."""
    if source is None:
        return None, f"the source of {name} version {version_hash[:12]} is not stored"
    if not isinstance(state, dict):
        return None, "no snapshot is stored for this workflow yet"
    try:
        workflow = _compiled(source, f"{name}.flow")
    except FlowCompileError as exc:  # a stored version always compiled once; a newer core may not
        return None, f"the stored source no longer compiles: {exc}"
    try:
        found = describe_suspension(workflow, state)
    except SuspensionError as exc:  # e.g. a snapshot of another compiler's program
        return None, f"cannot read the snapshot: {exc}"
    return (
        WaitPoint(
            workflow=name,
            version_hash=version_hash,
            source=source,
            line=found.line,
            column=found.column,
            end_line=found.end_line,
            end_column=found.end_column,
            waits_on=[w.to_json() for w in found.waiting_on],
            variables=dict(found.variables),
        ),
        None,
    )
