"""Signature help for stdlib calls, with the active parameter under the cursor."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core.stdlib import Builtin, lookup_global, member_of
from rhythm.lsp.cursor import callee_before, enclosing_call
from rhythm.lsp.document import Document
from rhythm.lsp.receivers import receiver_type
from rhythm.lsp.scopes import is_variable, text_resolver
from rhythm.lsp.stdlib_docs import builtin_markdown


def _callee_builtin(document: Document, paren: int) -> Builtin | None:
    callee = callee_before(document.text, paren)
    if callee is None:
        return None
    receiver, name = callee
    resolve = text_resolver(document)
    if not receiver:
        if is_variable(document, name, paren):
            return None  # a variable shadows any global of that name
        entry = lookup_global(name)
        return entry if isinstance(entry, Builtin) else None
    receiver_end = document.text.rfind(receiver, 0, paren) + len(receiver)
    owner = receiver_type(document.text, receiver, receiver_end, resolve)
    return member_of(owner, name) if owner else None


def active_parameter(builtin: Builtin, argument: int) -> int:
    """The parameter an argument index fills (a rest parameter takes all the remaining ones)."""
    if not builtin.params:
        return 0
    return min(argument, len(builtin.params) - 1)


def signature_help(document: Document, offset: int) -> types.SignatureHelp | None:
    call = enclosing_call(document.text, offset)
    if call is None:
        return None
    builtin = _callee_builtin(document, call.paren)
    if builtin is None or builtin.kind == "property":
        return None
    parameters = [
        types.ParameterInformation(
            label=f"{'...' if p.rest else ''}{p.name}{'?' if p.optional else ''}: {p.type}",
            documentation=p.doc or None,
        )
        for p in builtin.params
    ]
    active = active_parameter(builtin, call.argument)
    signature = types.SignatureInformation(
        label=builtin.signature,
        documentation=types.MarkupContent(
            kind=types.MarkupKind.Markdown, value=builtin_markdown(builtin)
        ),
        parameters=parameters,
        active_parameter=active,
    )
    return types.SignatureHelp(signatures=[signature], active_signature=0, active_parameter=active)
