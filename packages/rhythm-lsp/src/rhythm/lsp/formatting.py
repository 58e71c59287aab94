"""Document formatting through rhythm.core's formatter: one whole-document edit, or none when the
text is already formatted or does not parse."""

from __future__ import annotations

import logging

from lsprotocol import types

from rhythm.core.diagnostics import Code, Diagnostic
from rhythm.lsp.positions import LineIndex

log = logging.getLogger(__name__)


def format_edits(
    text: str, diagnostics: list[Diagnostic], lines: LineIndex
) -> list[types.TextEdit]:
    if any(d.code is Code.SYNTAX for d in diagnostics):
        return []  # never rewrite a document the parser cannot read
    from rhythm.core.formatter import FormatError, format_source

    try:
        formatted = format_source(text)
    except FormatError as error:
        log.info("not formatting: %s", error)
        return []
    if formatted == text:
        return []
    return [types.TextEdit(range=lines.full_range(), new_text=formatted)]
