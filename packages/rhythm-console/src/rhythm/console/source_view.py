"""A workflow's source as lines for the page: each line split into (css class, text) tokens for
highlighting, and the lines of a wait point's span marked. No I/O; the template escapes text."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

KEYWORDS = frozenset(
    [
        "async",
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "default",
        "else",
        "export",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "import",
        "in",
        "let",
        "new",
        "null",
        "of",
        "return",
        "switch",
        "throw",
        "true",
        "try",
        "undefined",
        "var",
        "while",
    ]
)
TOKEN = re.compile(
    r"(?P<comment>//[^\n]*)"
    r"|(?P<string>\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?|`(?:[^`\\]|\\.)*`?)"
    r"|(?P<number>\b\d+(?:\.\d+)?\b)"
    r"|(?P<word>[A-Za-z_$][\w$]*)"
)


@dataclass(frozen=True)
class SourceLine:
    number: int
    tokens: list[tuple[str, str]]
    waiting: bool


def highlight(line: str) -> list[tuple[str, str]]:
    """(class, text) pieces of one line: kw, str, num, com, or '' for the rest."""
    out: list[tuple[str, str]] = []
    pos = 0
    for m in TOKEN.finditer(line):
        if m.start() > pos:
            out.append(("", line[pos : m.start()]))
        kind = m.lastgroup
        text = m.group()
        if kind == "word":
            out.append(("kw" if text in KEYWORDS else "", text))
        else:
            out.append(({"comment": "com", "string": "str", "number": "num"}[kind or ""], text))
        pos = m.end()
    if pos < len(line):
        out.append(("", line[pos:]))
    return out


def source_lines(
    source: str, wait_from: int | None = None, wait_to: int | None = None
) -> list[SourceLine]:
    """Every line of `source`, highlighted, with lines wait_from..wait_to (1-based) marked."""
    lines = source.splitlines()
    return [
        SourceLine(
            number=i,
            tokens=highlight(text),
            waiting=wait_from is not None and wait_from <= i <= (wait_to or wait_from),
        )
        for i, text in enumerate(lines, start=1)
    ]


def version_diff(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """A unified diff of two sources as (kind, line): kind is add, del, hunk, head or ''."""
    out: list[tuple[str, str]] = []
    for line in difflib.unified_diff(
        old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""
    ):
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = ""
        out.append((kind, line))
    return out
