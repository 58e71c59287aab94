"""Diagnostics only the workspace can give: `Task.run("x")` with no `@task` named x (RY301, with
the closest existing name as a quick fix) and `Workflow.run("x")` with no `x.flow` (RY302)."""

from __future__ import annotations

from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.named_calls import NamedCall
from rhythm.lsp.suggest import closest


def _quoted(document_text: str, call: NamedCall, name: str) -> str:
    """`name` in the same quotes the literal was written with."""
    quote = document_text[call.literal.start : call.literal.start + 1]
    quote = quote if quote in ("'", '"') else '"'
    escaped = name.replace("\\", "\\\\").replace(quote, "\\" + quote)
    return f"{quote}{escaped}{quote}"


def workspace_diagnostics(
    text: str, calls: list[NamedCall], index: WorkspaceIndex
) -> list[Diagnostic]:
    if not index.roots:
        return []  # a lone file: nothing is known about the workspace's tasks and workflows
    found: list[Diagnostic] = []
    task_names = index.task_names()
    workflow_names = index.workflow_names()
    for call in calls:
        if call.kind == "task" and call.name not in task_names:
            suggestion = closest(call.name, task_names)
            message = f'unknown task "{call.name}": no @task in the workspace declares it'
            if suggestion is not None:
                message += f'; did you mean "{suggestion}"?'
            found.append(
                Diagnostic(
                    code=Code.UNKNOWN_TASK,
                    severity=Severity.WARNING,
                    message=message,
                    span=call.literal,
                    replacement=_quoted(text, call, suggestion) if suggestion else None,
                )
            )
        elif call.kind == "workflow" and call.name not in workflow_names:
            suggestion = closest(call.name, workflow_names)
            message = f'unknown workflow "{call.name}": no {call.name}.flow in the workspace'
            if suggestion is not None:
                message += f'; did you mean "{suggestion}"?'
            found.append(
                Diagnostic(
                    code=Code.UNKNOWN_WORKFLOW,
                    severity=Severity.WARNING,
                    message=message,
                    span=call.literal,
                    replacement=_quoted(text, call, suggestion) if suggestion else None,
                )
            )
    return found
