"""Completion items: keywords, variables in scope, stdlib objects and members, the members of
values of a known kind (string, number, array, Date, Map, RegExp, ...), and the workspace's task, workflow and signal names inside `Task.run("…` and friends."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core import ast
from rhythm.core.lexer import KEYWORDS as LEXER_KEYWORDS
from rhythm.core.stdlib import GLOBALS, Builtin, StdObject, lookup_global, members_of
from rhythm.lsp.ast_search import in_string_or_comment
from rhythm.lsp.cursor import CursorContext, cursor_context
from rhythm.lsp.document import Document
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.receivers import receiver_type
from rhythm.lsp.scopes import text_resolver, visible_bindings
from rhythm.lsp.stdlib_docs import builtin_markdown, object_markdown

# The lexer's table, so a keyword the language gains is offered at once; `of` is contextual.
KEYWORDS = (*LEXER_KEYWORDS, "of")

_MEMBER_KIND = {
    "function": types.CompletionItemKind.Function,
    "method": types.CompletionItemKind.Method,
    "property": types.CompletionItemKind.Property,
}


def _markdown(text: str) -> types.MarkupContent:
    return types.MarkupContent(kind=types.MarkupKind.Markdown, value=text)


def _item(
    label: str,
    kind: types.CompletionItemKind,
    replace: types.Range,
    detail: str | None = None,
    doc: str | None = None,
    sort_group: str = "5",
) -> types.CompletionItem:
    # No filterText: the label is what clients filter on anyway, and Neovim 0.7 ignores the
    # textEdit's range when an item has one, inserting at the start of the keyword under the
    # cursor instead (`"charge-c` + `charge-card` became `"charge-charge-card`). Every item of
    # one answer shares the same replace range, which is what 0.7 needs to use it.
    return types.CompletionItem(
        label=label,
        kind=kind,
        detail=detail,
        documentation=_markdown(doc) if doc else None,
        text_edit=types.TextEdit(range=replace, new_text=label),
        sort_text=f"{sort_group}{label}",
    )


def _builtin_item(builtin: Builtin, replace: types.Range) -> types.CompletionItem:
    return _item(
        builtin.name,
        _MEMBER_KIND.get(builtin.kind, types.CompletionItemKind.Function),
        replace,
        detail=builtin.signature,
        doc=builtin_markdown(builtin),
    )


def inputs_keys(program: ast.Program) -> list[str]:
    """Keys of `Inputs` the file already reads: `Inputs.x`, `Inputs["x"]`, `{ x } = Inputs`."""
    keys: set[str] = set()
    for node in ast.walk(program):
        if isinstance(node, ast.Member) and isinstance(node.object, ast.Identifier):
            if node.object.name == "Inputs" and node.name:
                keys.add(node.name)
        elif isinstance(node, ast.Index) and isinstance(node.object, ast.Identifier):
            if node.object.name == "Inputs" and isinstance(node.index, ast.StringLit):
                keys.add(node.index.value)
        elif (
            isinstance(node, ast.Declarator)
            and isinstance(node.init, ast.Identifier)
            and node.init.name == "Inputs"
            and isinstance(node.target, ast.ObjectPattern)
        ):
            keys.update(p.key for p in node.target.properties if isinstance(p.key, str))
    return sorted(keys)


def _name_items(
    context: CursorContext, replace: types.Range, index: WorkspaceIndex
) -> list[types.CompletionItem]:
    items: list[types.CompletionItem] = []
    if context.name_kind == "task":
        for task in index.tasks():
            doc = f"```python\n{task.signature}\n```\n\n{task.docstring}\n\n{task.location()}"
            items.append(
                _item(task.name, types.CompletionItemKind.Function, replace, task.signature, doc)
            )
    elif context.name_kind == "workflow":
        for workflow in index.workflows():
            items.append(
                _item(
                    workflow.name,
                    types.CompletionItemKind.Module,
                    replace,
                    str(workflow.path),
                    f"Workflow `{workflow.name}` ({workflow.path})",
                )
            )
    elif context.name_kind == "signal":
        for name in index.signal_names():
            items.append(
                _item(name, types.CompletionItemKind.Event, replace, "signal used in the workspace")
            )
    # Names with characters that would need escaping cannot be inserted as they are.
    return [i for i in items if context.quote not in i.label and "\\" not in i.label]


def _member_items(
    document: Document, context: CursorContext, replace: types.Range
) -> list[types.CompletionItem]:
    dot = document.text.rfind(".", 0, context.start)
    receiver_end = dot
    if dot > 0 and document.text[dot - 1] == "?":
        receiver_end = dot - 1
    while receiver_end > 0 and document.text[receiver_end - 1].isspace():
        receiver_end -= 1
    kind = receiver_type(document.text, context.receiver, receiver_end, text_resolver(document))
    if not kind:
        return []
    # A kind of value ("string", "number", "date", ...) or a stdlib global ("Math", "Number"):
    # the one table (stdlib.VALUE_MEMBERS / the global's members) the checker reads too.
    members = members_of(kind)
    if members is not None:
        return [_builtin_item(b, replace) for b in members.values()]
    entry = lookup_global(kind)
    if isinstance(entry, StdObject):
        items = [_builtin_item(b, replace) for b in entry.members.values()]
        if entry.open and entry.name == "Inputs":
            items += [
                _item(key, types.CompletionItemKind.Field, replace, "input key used in this file")
                for key in inputs_keys(document.program)
                if key not in entry.members
            ]
        return items
    return []


def _identifier_items(
    document: Document, offset: int, replace: types.Range
) -> list[types.CompletionItem]:
    items: list[types.CompletionItem] = []
    seen: set[str] = set()
    for binding in visible_bindings(document, offset):
        if binding.name in seen or not binding.name:
            continue
        seen.add(binding.name)
        kind = (
            types.CompletionItemKind.Constant
            if binding.kind == "const"
            else types.CompletionItemKind.Variable
        )
        line = binding.declaration.line
        items.append(
            _item(binding.name, kind, replace, f"{binding.kind} (line {line})", sort_group="1")
        )
    for name, entry in GLOBALS.items():
        if name in seen:
            continue
        if isinstance(entry, StdObject):
            items.append(
                _item(
                    name,
                    types.CompletionItemKind.Module,
                    replace,
                    entry.doc.split(". ")[0],
                    object_markdown(entry),
                    sort_group="2",
                )
            )
        else:
            item = _builtin_item(entry, replace)
            item.sort_text = f"2{name}"
            items.append(item)
    for keyword in KEYWORDS:
        if keyword not in seen:
            items.append(_item(keyword, types.CompletionItemKind.Keyword, replace, sort_group="3"))
    return items


def completions(
    document: Document, offset: int, index: WorkspaceIndex
) -> list[types.CompletionItem]:
    context = cursor_context(document.text, offset)
    replace = document.lines.range(context.start, context.end)
    if context.kind == "name":
        return _name_items(context, replace, index)
    if in_string_or_comment(document.program, document.analysed(offset)):
        return []
    if context.kind == "member":
        return _member_items(document, context, replace)
    return _identifier_items(document, offset, replace)
