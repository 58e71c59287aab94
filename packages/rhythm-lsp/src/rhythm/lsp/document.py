"""One analysed .flow text: rhythm.core's analysis plus the line index for position conversion.
Analyses are cached per document and recomputed only when the text (or encoding) changes."""

from __future__ import annotations

from dataclasses import dataclass, field

from rhythm.core import ast
from rhythm.core.analysis import Analysis, analyze
from rhythm.core.diagnostics import Diagnostic
from rhythm.lsp.named_calls import NamedCall, find_named_calls
from rhythm.lsp.positions import UTF16, LineIndex


@dataclass(slots=True)
class Document:
    uri: str
    text: str
    lines: LineIndex
    analysis: Analysis
    named_calls: list[NamedCall] = field(default_factory=list)

    @property
    def program(self) -> ast.Program:
        return self.analysis.program

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self.analysis.diagnostics)


def analyse(uri: str, text: str, encoding: str = UTF16) -> Document:
    analysis = analyze(text)
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
        cached = self._documents.get(uri)
        if cached is not None and cached.text == text and cached.lines.encoding == encoding:
            return cached
        document = analyse(uri, text, encoding)
        self._documents[uri] = document
        return document

    def forget(self, uri: str) -> None:
        self._documents.pop(uri, None)
