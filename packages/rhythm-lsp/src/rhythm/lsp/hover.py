"""Hover text: stdlib docs and signatures, a task's Python signature/docstring/location, a
workflow's file, and where a variable was declared."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core import ast
from rhythm.core.stdlib import StdObject, lookup_global, member_of
from rhythm.lsp.ast_search import nodes_at
from rhythm.lsp.document import Document
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.receivers import expression_type
from rhythm.lsp.scopes import binding_at, type_resolver
from rhythm.lsp.stdlib_docs import builtin_markdown, entry_markdown


def _hover(text: str, range_: types.Range) -> types.Hover:
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text), range=range_
    )


def name_markdown(kind: str, name: str, index: WorkspaceIndex) -> str:
    """Hover text for a task, workflow or signal name."""
    if kind == "task":
        task = index.task(name)
        if task is None:
            return f'Task `"{name}"`: no `@task` in the workspace declares it.'
        parts = [f"```python\n{task.signature}\n```"]
        if task.docstring:
            parts.append(task.docstring)
        parts.append(f"Task `{task.name}` — `{task.path}` line {task.line}")
        return "\n\n".join(parts)
    if kind == "workflow":
        workflow = index.workflow(name)
        if workflow is None:
            return f'Workflow `"{name}"`: no `{name}.flow` in the workspace.'
        return f"Workflow `{workflow.name}` — `{workflow.path}`"
    return f"Signal `{name}`"


def hover(document: Document, offset: int, index: WorkspaceIndex) -> types.Hover | None:
    """Hover at `offset` of the current text (the analysis may be of an older one)."""
    current = offset
    offset = document.analysed(offset)
    for call in document.named_calls:
        if call.literal.start <= offset < call.literal.end:
            return _hover(
                name_markdown(call.kind, call.name, index), document.range_of(call.literal)
            )
    chain = nodes_at(document.program, offset)
    resolve = type_resolver(document)
    for node in reversed(chain):
        if isinstance(node, ast.Member) and node.name_span.start <= offset <= node.name_span.end:
            owner = expression_type(node.object, resolve)
            builtin = member_of(owner, node.name) if owner else None
            if builtin is None:
                return None
            return _hover(builtin_markdown(builtin), document.range_of(node.name_span))
        if isinstance(node, ast.Identifier):
            break
    binding = binding_at(document, current)
    if binding is not None:
        declared = binding.declaration
        text = (
            f"```flow\n({binding.kind}) {binding.name}\n```\n\n"
            f"Declared at line {declared.line}, column {declared.column}"
        )
        if binding.references is not None:
            uses = len(binding.references)
            text += f"; {uses} reference{'s' if uses != 1 else ''}"
        ident = binding.span_at(offset) or declared
        return _hover(text, document.range_of(ident))
    ident_node = chain[-1] if chain and isinstance(chain[-1], ast.Identifier) else None
    if ident_node is not None:
        entry = lookup_global(ident_node.name)
        if entry is not None:
            text = entry_markdown(entry)
            if isinstance(entry, StdObject) and entry.open:
                text += "\n\nAny key may be read."
            return _hover(text, document.range_of(ident_node.span))
    return None
