"""Go to definition (variables, task names -> their Python function, workflow names -> their
.flow file), find references and rename for variables."""

from __future__ import annotations

import re

from lsprotocol import types
from pygls.uris import from_fs_path

from rhythm.core import ast
from rhythm.core.lexer import KEYWORDS, RESERVED_HINTS
from rhythm.core.stdlib import lookup_global
from rhythm.lsp.document import Document
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.scopes import binding_at, clashes

_IDENTIFIER = re.compile(r"(?:[^\W\d]|\$)[\w$]*")


class RenameError(ValueError):
    """A rename that cannot be done; the message says why."""


def _file_uri(path: object) -> str:
    return from_fs_path(str(path)) or f"file://{path}"


def definition(document: Document, offset: int, index: WorkspaceIndex) -> list[types.Location]:
    for call in document.named_calls:
        if call.literal.start <= offset < call.literal.end:
            if call.kind == "task":
                task = index.task(call.name)
                if task is None:
                    return []
                line = task.line - 1
                return [
                    types.Location(
                        uri=_file_uri(task.path),
                        range=types.Range(
                            start=types.Position(line=line, character=task.column),
                            end=types.Position(line=line, character=task.end_column),
                        ),
                    )
                ]
            if call.kind == "workflow":
                workflow = index.workflow(call.name)
                if workflow is None:
                    return []
                start = types.Position(line=0, character=0)
                return [
                    types.Location(
                        uri=_file_uri(workflow.path), range=types.Range(start=start, end=start)
                    )
                ]
            return []
    binding = binding_at(document, offset)
    if binding is None:
        return []
    return [types.Location(uri=document.uri, range=document.lines.span_range(binding.declaration))]


def references(document: Document, offset: int, include_declaration: bool) -> list[types.Range]:
    binding = binding_at(document, offset)
    if binding is None:
        return []
    spans = ([binding.declaration] if include_declaration else []) + list(binding.references)
    spans.sort(key=lambda s: s.start)
    return [document.lines.span_range(s) for s in spans]


def prepare_rename(document: Document, offset: int) -> types.Range:
    binding = binding_at(document, offset)
    if binding is None:
        raise RenameError("only variables declared in this file can be renamed")
    span = binding.span_at(offset) or binding.declaration
    return document.lines.span_range(span)


def check_new_name(document: Document, offset: int, old: str, new: str) -> None:
    if not _IDENTIFIER.fullmatch(new):
        raise RenameError(f"'{new}' is not a valid identifier")
    if new in KEYWORDS or new == "of":
        raise RenameError(f"'{new}' is a keyword and cannot name a variable")
    if new in RESERVED_HINTS:
        raise RenameError(f"'{new}' is a reserved word and cannot name a variable")
    if new != old and lookup_global(new) is not None:
        raise RenameError(f"'{new}' would hide the built-in {new}")
    binding = binding_at(document, offset)
    if new != old and binding is not None and clashes(document, binding, new):
        raise RenameError(f"'{new}' is already declared where '{old}' is used")


def rename_edits(document: Document, offset: int, new_name: str) -> list[types.TextEdit]:
    binding = binding_at(document, offset)
    if binding is None:
        raise RenameError("only variables declared in this file can be renamed")
    check_new_name(document, offset, binding.name, new_name)
    shorthand = _shorthand_starts(document)
    edits = []
    for span in sorted([binding.declaration, *binding.references], key=lambda s: s.start):
        # `{ total }` means `{ total: total }`: keep the key, rename the variable.
        text = f"{binding.name}: {new_name}" if span.start in shorthand else new_name
        edits.append(types.TextEdit(range=document.lines.span_range(span), new_text=text))
    return edits


def _shorthand_starts(document: Document) -> set[int]:
    """Offsets of identifiers written as shorthand properties (`{ a }`, `const { a } = o`)."""
    starts: set[int] = set()
    for node in ast.walk(document.program):
        if isinstance(node, ast.Property | ast.PatternProperty) and node.shorthand:
            value = node.value
            if isinstance(value, ast.AssignPattern):
                value = value.target
            if isinstance(value, ast.Identifier):
                starts.add(value.span.start)
    return starts
