"""Quick fixes: every diagnostic that carries a replacement ("did you mean ...") becomes an edit."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core.diagnostics import Diagnostic
from rhythm.lsp.diagnostics import to_lsp
from rhythm.lsp.positions import LineIndex


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def quick_fixes(
    uri: str, diagnostics: list[Diagnostic], lines: LineIndex, wanted: types.Range
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    for diagnostic in diagnostics:
        if diagnostic.replacement is None:
            continue
        converted = to_lsp(diagnostic, lines)
        if not _overlaps(converted.range, wanted):
            continue
        edit = types.TextEdit(range=converted.range, new_text=diagnostic.replacement)
        actions.append(
            types.CodeAction(
                title=f"Replace with {diagnostic.replacement}",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[converted],
                is_preferred=True,
                edit=types.WorkspaceEdit(changes={uri: [edit]}),
            )
        )
    return actions
