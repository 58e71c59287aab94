"""rhythm.core diagnostics (and the workspace's) as LSP diagnostics."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.lsp.positions import LineIndex

SOURCE = "rhythm"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}
_UNNECESSARY = {Code.UNREACHABLE_CODE, Code.UNUSED_VARIABLE}


def to_lsp(diagnostic: Diagnostic, lines: LineIndex) -> types.Diagnostic:
    return types.Diagnostic(
        range=lines.span_range(diagnostic.span),
        message=diagnostic.message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Error),
        code=str(diagnostic.code.value),
        source=SOURCE,
        tags=[types.DiagnosticTag.Unnecessary] if diagnostic.code in _UNNECESSARY else None,
        data={"replacement": diagnostic.replacement}
        if diagnostic.replacement is not None
        else None,
    )
