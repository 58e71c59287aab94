"""Offsets <-> LSP positions, in UTF-16 (the default), UTF-8 and UTF-32 code units."""

from __future__ import annotations

from lsprotocol.types import Position

from rhythm.lsp.positions import UTF8, UTF16, UTF32, LineIndex

TEXT = 'let a = "é😀x"\r\nlet b = 1\nc'


def test_utf16_counts_astral_characters_twice() -> None:
    lines = LineIndex(TEXT)
    x = TEXT.index("x")
    assert lines.position(x) == Position(line=0, character=x + 1)
    assert lines.offset(Position(line=0, character=x + 1)) == x
    # Each line break form starts a new line.
    b = TEXT.index("b")
    assert lines.position(b) == Position(line=1, character=4)
    assert lines.position(len(TEXT)) == Position(line=2, character=1)


def test_other_encodings() -> None:
    x = TEXT.index("x")
    assert LineIndex(TEXT, UTF32).position(x) == Position(line=0, character=x)
    utf8 = LineIndex(TEXT, UTF8)
    assert utf8.position(x) == Position(line=0, character=x + 1 + 3)
    assert utf8.offset(Position(line=0, character=x + 4)) == x


def test_clamping() -> None:
    lines = LineIndex(TEXT, UTF16)
    assert lines.offset(Position(line=0, character=999)) == TEXT.index("\r")
    assert lines.offset(Position(line=99, character=0)) == len(TEXT)
    assert lines.position(-5) == Position(line=0, character=0)
    assert lines.position(10_000) == Position(line=2, character=1)
    # The middle of a surrogate pair maps to the character it starts.
    emoji = TEXT.index("😀")
    assert lines.offset(Position(line=0, character=emoji + 1)) == emoji
    assert LineIndex("").full_range().end == Position(line=0, character=0)
