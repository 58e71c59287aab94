"""One analysed .flow text: rhythm.core's analysis plus the line index for position conversion.
Analyses are cached per document and recomputed only when the text (or encoding) changes."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from rhythm.core import ast
from rhythm.core.analysis import Analysis, analyze
from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.symbols import build_symbols
from rhythm.lsp.named_calls import NamedCall, find_named_calls
from rhythm.lsp.positions import UTF8, UTF16, UTF32, LineIndex

log = logging.getLogger(__name__)

# Past this many characters a document is not analysed at all: rhythm.core takes seconds per
# few hundred kilobytes, and the server must keep answering while the user types.
MAX_ANALYSED_CHARS = 1_000_000


@dataclass(slots=True)
class Document:
    uri: str
    text: str
    lines: LineIndex
    analysis: Analysis
    named_calls: list[NamedCall] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # derived data, per analysis

    @property
    def program(self) -> ast.Program:
        return self.analysis.program

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self.analysis.diagnostics)


def _fallback_analysis(text: str, message: str, severity: Severity = Severity.ERROR) -> Analysis:
    """What is left when rhythm.core cannot read a text: an empty program and one diagnostic, so
    every feature that does not need the syntax tree (names, keywords, stdlib) keeps working.
    Its code is RY001, so nothing (formatting, say) rewrites a text that was not read."""
    program = ast.Program(span=Span(1, 1, 1, 1, 0, len(text)))
    diagnostic = Diagnostic(
        code=Code.SYNTAX, severity=severity, message=message, span=Span(1, 1, 1, 1, 0, 0)
    )
    return Analysis(text, program, [diagnostic], build_symbols(program))


def analyse(uri: str, text: str, encoding: str = UTF16) -> Document:
    if len(text) > MAX_ANALYSED_CHARS:
        analysis = _fallback_analysis(
            text,
            f"this file is too large to check ({len(text):,} characters; the limit is "
            f"{MAX_ANALYSED_CHARS:,}): only keyword and stdlib completion work in it",
            Severity.WARNING,
        )
    else:
        try:
            analysis = analyze(text)
        except RecursionError:  # rhythm.core recurses once per nesting level
            log.warning("rhythm.core hit the recursion limit on %s", uri)  # no 1000-frame trace
            analysis = _fallback_analysis(
                text, "this file is nested too deeply for rhythm to read (recursion limit)"
            )
        except Exception as error:  # rhythm.core promises never to raise; do not die if it does
            log.exception("rhythm.core failed to analyse %s", uri)
            analysis = _fallback_analysis(
                text,
                f"rhythm could not read this file (internal error: {type(error).__name__}: "
                f"{error}); please report it",
            )
    return Document(
        uri=uri,
        text=text,
        lines=LineIndex(text, encoding),
        analysis=analysis,
        named_calls=find_named_calls(analysis.program),
    )


class DocumentStore:
    """The latest analysis of each document, keyed by URI."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}

    def get(self, uri: str, text: str, encoding: str = UTF16) -> Document:
        encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16
        cached = self._documents.get(uri)
        if cached is not None and cached.text == text and cached.lines.encoding == encoding:
            return cached
        document = analyse(uri, text, encoding)
        self._documents[uri] = document
        return document

    def forget(self, uri: str) -> None:
        self._documents.pop(uri, None)
