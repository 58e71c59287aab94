"""The one place where source offsets become LSP positions and back.

rhythm.core spans carry 0-based character offsets (Python string indexes, i.e. code points) next to
1-based line/column numbers. LSP positions are 0-based lines and columns counted in the code units
of the negotiated position encoding (UTF-16 unless the client asked for something else). Every
conversion between the two goes through `LineIndex`."""

from __future__ import annotations

import bisect
import itertools
import re

from lsprotocol import types

from rhythm.core.ast import Span

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # LSP's line breaks, and only those (not \u2028 & co.)


def split_lines(text: str) -> list[str]:
    """`text` cut into lines at LSP's line breaks, each line keeping its break."""
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]
    lines = [text[a:b] for a, b in itertools.pairwise(starts)]
    if starts[-1] < len(text):
        lines.append(text[starts[-1] :])
    return lines


def _units(text: str, encoding: str) -> int:
    """Length of `text` in code units of `encoding`."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", errors="surrogatepass"))
    # UTF-16: characters outside the Basic Multilingual Plane take two code units.
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _chars_for_units(line: str, units: int, encoding: str) -> int:
    """How many characters of `line` make up its first `units` code units (clamped)."""
    if encoding == UTF32:
        return max(0, min(units, len(line)))
    count = 0
    for index, ch in enumerate(line):
        width = (
            len(ch.encode("utf-8", errors="surrogatepass"))
            if encoding == UTF8
            else (2 if ord(ch) > 0xFFFF else 1)
        )
        if count + width > units:
            return index
        count += width
    return len(line)


class LineIndex:
    """Line starts of one text, for offset <-> (line, column) conversion in any encoding."""

    __slots__ = ("_ascii", "encoding", "line_starts", "text")

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16
        self._ascii = text.isascii()
        self.line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def line_end(self, line: int) -> int:
        """Offset of the end of `line`'s content (before its line break)."""
        if line + 1 < len(self.line_starts):
            end = self.line_starts[line + 1]
            while end > self.line_starts[line] and self.text[end - 1] in "\r\n":
                end -= 1
            return end
        return len(self.text)

    def line_text(self, line: int) -> str:
        if line < 0 or line >= len(self.line_starts):
            return ""
        return self.text[self.line_starts[line] : self.line_end(line)]

    def position(self, offset: int) -> types.Position:
        """The LSP position of a 0-based character offset (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        start = self.line_starts[line]
        offset = min(offset, self.line_end(line))
        if self._ascii or self.encoding == UTF32:
            return types.Position(line=line, character=offset - start)
        return types.Position(line=line, character=_units(self.text[start:offset], self.encoding))

    def offset(self, position: types.Position) -> int:
        """The 0-based character offset of an LSP position (clamped to its line)."""
        if position.line < 0:
            return 0
        if position.line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[position.line]
        end = self.line_end(position.line)
        if self._ascii or self.encoding == UTF32:
            return start + max(0, min(position.character, end - start))
        return start + _chars_for_units(self.text[start:end], position.character, self.encoding)

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(start=self.position(start), end=self.position(max(start, end)))

    def span_range(self, span: Span) -> types.Range:
        """The LSP range of a rhythm.core span (from its character offsets)."""
        return self.range(span.start, span.end)

    def full_range(self) -> types.Range:
        return self.range(0, len(self.text))
