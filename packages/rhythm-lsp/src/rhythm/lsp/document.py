"""One analysed .flow text: rhythm.core's analysis plus the line index for position conversion.

Analyses are kept per document. After an edit the next one is computed incrementally from the
last (rhythm.core.incremental: only the top-level statements the edit touched are read again).
Until it is ready, the features that must answer at once (completion, hover, signature help,
symbols, semantic tokens) get a *view*: the current text over the newest ready analysis, with
`EditMap` moving offsets between the two texts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lsprotocol import types

from rhythm.core import ast
from rhythm.core.analysis import Analysis
from rhythm.core.analysis import analyze as full_analysis
from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.incremental import (
    Abandoned,
    IncrementalAnalysis,
    analyze_units,
    edited_range,
    reanalyze,
)
from rhythm.core.symbols import build_symbols
from rhythm.lsp.named_calls import NamedCall, StatementCalls, named_calls_by_statement
from rhythm.lsp.positions import UTF8, UTF16, UTF32, LineIndex

log = logging.getLogger(__name__)

# From scratch, statement by statement, so that the next edit can be re-read incrementally.
analyze = analyze_units

# Past this many characters a document is not analysed at all: rhythm.core takes seconds per
# few hundred kilobytes, and the server must keep answering while the user types.
MAX_ANALYSED_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class EditMap:
    """Offsets between an analysed text and the current one, which differ in one range:
    [start, old_end) of the old text became [start, new_end) of the new one."""

    start: int
    old_end: int
    new_end: int

    @classmethod
    def between(cls, old: str, new: str) -> EditMap:
        return cls(*edited_range(old, new))

    def to_old(self, offset: int) -> int:
        """The analysed text's offset for a current one (inside the new text: its start)."""
        if offset <= self.start:
            return offset
        if offset >= self.new_end:
            return offset - self.new_end + self.old_end
        return self.start

    def to_new(self, offset: int, end: bool = False) -> int:
        """The current text's offset for an analysed one (inside the replaced text: its start).
        Text inserted right at `offset` goes after it when `offset` ends a range, else before."""
        if offset < self.start or (end and offset == self.start):
            return offset
        if offset >= self.old_end:
            return offset - self.old_end + self.new_end
        return self.start

    def touches(self, start: int, end: int) -> bool:
        """Whether the analysed range [start, end) overlaps what was replaced."""
        return start < self.old_end and end > self.start


class MappedLines:
    """`LineIndex.range` / `span_range` for spans of an older analysis, in the current text."""

    def __init__(self, lines: LineIndex, edits: EditMap) -> None:
        self.lines = lines
        self.edits = edits

    def range(self, start: int, end: int) -> types.Range:
        return self.lines.range(self.edits.to_new(start), self.edits.to_new(end, end=True))

    def span_range(self, span: Span) -> types.Range:
        return self.range(span.start, span.end)


@dataclass(slots=True)
class Document:
    uri: str
    text: str  # the current text
    lines: LineIndex  # of the current text
    analysis: Analysis  # of `text`, or of an older text when `edits` is set
    named_calls: list[NamedCall] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)  # derived data, per analysis
    edits: EditMap | None = None  # how the analysed text became `text`
    seconds: float = 0.0  # how long the analysis took
    statement_calls: StatementCalls = field(default_factory=dict)  # named calls, by statement

    @property
    def program(self) -> ast.Program:
        return self.analysis.program

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return list(self.analysis.diagnostics)

    @property
    def stale(self) -> bool:
        return self.edits is not None

    def analysed(self, offset: int) -> int:
        """The analysis's offset for an offset in the current text."""
        return offset if self.edits is None else self.edits.to_old(offset)

    def span_lines(self) -> LineIndex | MappedLines:
        """Converts the analysis's spans to ranges in the current text."""
        return self.lines if self.edits is None else MappedLines(self.lines, self.edits)

    def range_of(self, span: Span) -> types.Range:
        return self.span_lines().span_range(span)


def _fallback_analysis(text: str, message: str, severity: Severity = Severity.ERROR) -> Analysis:
    """What is left when rhythm.core cannot read a text: an empty program and one diagnostic, so
    every feature that does not need the syntax tree (names, keywords, stdlib) keeps working.
    Its code is RY001, so nothing (formatting, say) rewrites a text that was not read."""
    program = ast.Program(span=Span(1, 1, 1, 1, 0, len(text)))
    diagnostic = Diagnostic(
        code=Code.SYNTAX, severity=severity, message=message, span=Span(1, 1, 1, 1, 0, 0)
    )
    return Analysis(text, program, [diagnostic], build_symbols(program))


def analyse(
    uri: str,
    text: str,
    encoding: str = UTF16,
    previous: Document | None = None,
    should_stop: Callable[[], bool] | None = None,
    *,
    fallback: bool = True,
    incremental: bool = True,
) -> Document | None:
    """The document for `text`: incrementally from `previous` (which is then consumed) when it
    is an incremental analysis of an older text, else from scratch. With `fallback=False` an
    edit that cannot be re-read incrementally gives None (and `previous` stays usable)."""
    started = time.perf_counter()
    if len(text) > MAX_ANALYSED_CHARS:
        analysis: Analysis = _fallback_analysis(
            text,
            f"this file is too large to check ({len(text):,} characters; the limit is "
            f"{MAX_ANALYSED_CHARS:,}): only keyword and stdlib completion work in it",
            Severity.WARNING,
        )
    else:
        try:
            before = previous.analysis if previous is not None else None
            if isinstance(before, IncrementalAnalysis) and not before.consumed:
                found = reanalyze(before, text, should_stop, fallback=fallback)
                if found is None:
                    return None
                analysis = found
            elif not fallback:
                return None
            elif not incremental:
                analysis = full_analysis(text)  # rhythm.core's whole-text analysis, as before
            elif should_stop is not None:  # in a worker thread, dropped for a newer text
                analysis = analyze_units(text, should_stop)
            else:
                analysis = analyze(text)
        except Abandoned:
            raise
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
    known = previous.statement_calls if previous is not None else None
    named_calls, statement_calls = named_calls_by_statement(analysis.program, known)
    return Document(
        uri=uri,
        text=text,
        lines=LineIndex(text, encoding),
        analysis=analysis,
        named_calls=named_calls,
        seconds=time.perf_counter() - started,
        statement_calls=statement_calls,
    )


class DocumentStore:
    """The newest ready analysis of each document, keyed by URI, and views of it."""

    def __init__(self) -> None:
        self._documents: dict[str, Document] = {}
        self._views: dict[str, Document] = {}
        # False: every analysis from scratch and no views (how the server worked before
        # incremental analysis; bench/bench_lsp.py measures both in one run).
        self.incremental = True

    def ready(self, uri: str) -> Document | None:
        return self._documents.get(uri)

    def put(self, document: Document) -> None:
        self._documents[document.uri] = document
        self._views.pop(document.uri, None)

    def get(self, uri: str, text: str, encoding: str = UTF16) -> Document:
        """The analysis of exactly `text`: the ready one, or one computed now (incrementally
        from the ready one when there is one)."""
        encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16
        cached = self._documents.get(uri)
        if cached is not None and cached.text == text and cached.lines.encoding == encoding:
            return cached
        previous = cached if self.incremental else None
        document = analyse(uri, text, encoding, previous, incremental=self.incremental)
        assert document is not None  # with fallback, analyse always gives a document
        self.put(document)
        return document

    def view(self, uri: str, text: str, encoding: str = UTF16) -> Document:
        """`text` over the newest ready analysis, without analysing anything (unless there is
        no analysis of this document yet)."""
        encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16
        ready = self._documents.get(uri)
        if ready is None or ready.lines.encoding != encoding or not self.incremental:
            return self.get(uri, text, encoding)
        if ready.text == text:
            return ready
        view = self._views.get(uri)
        if view is not None and view.text == text and view.analysis is ready.analysis:
            return view
        view = Document(
            uri=uri,
            text=text,
            lines=LineIndex(text, encoding),
            analysis=ready.analysis,
            named_calls=ready.named_calls,
            edits=EditMap.between(ready.text, text),
        )
        self._views[uri] = view
        return view

    def forget(self, uri: str) -> None:
        self._documents.pop(uri, None)
        self._views.pop(uri, None)
