"""What the text just before the cursor says about what is being typed: a name inside
`Task.run("…`, a member after `x.`, or a plain identifier. Read from the current line only, so it
works in the half-written code an editor holds while completing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from rhythm.lsp.named_calls import NAMED_CALLS, NameKind

_IDENT_TAIL = re.compile(r"[A-Za-z_$][\w$]*$|$")
_IDENT_HEAD = re.compile(r"[\w$]*")
_NAMED_CALL = re.compile(
    r"\b(?P<object>[A-Za-z_$][\w$]*)\s*\.\s*(?P<member>[A-Za-z_$][\w$]*)\s*\(\s*"
    r"(?P<quote>[\"'])(?P<prefix>[^\"'\\]*)$"
)
_MEMBER = re.compile(
    r"(?P<receiver>[A-Za-z_$][\w$]*|\]|\)|\"[^\"\\]*\"|'[^'\\]*'|`[^`]*`)\s*\??\.\s*"
    r"(?P<prefix>[A-Za-z_$][\w$]*)?$"
)


@dataclass(frozen=True, slots=True)
class CursorContext:
    kind: Literal["name", "member", "identifier"]
    prefix: str  # what is typed so far of the word being completed
    start: int  # offset where that word starts (the completion's replace range)
    end: int  # offset where it ends (the word may continue after the cursor)
    name_kind: NameKind | None = None  # for "name": what the string names
    quote: str = ""  # for "name": the opening quote
    receiver: str = ""  # for "member": the text before the dot (`Task`, `name`, `]`, `"x"`)


def cursor_context(text: str, offset: int) -> CursorContext:
    offset = max(0, min(offset, len(text)))
    line_start = max(text.rfind("\n", 0, offset), text.rfind("\r", 0, offset)) + 1
    before = text[line_start:offset]

    named = _NAMED_CALL.search(before)
    if named and (named["object"], named["member"]) in NAMED_CALLS:
        prefix = named["prefix"]
        end = offset
        while end < len(text) and text[end] not in "\"'\r\n\\":
            end += 1
        return CursorContext(
            kind="name",
            prefix=prefix,
            start=offset - len(prefix),
            end=end,
            name_kind=NAMED_CALLS[(named["object"], named["member"])],
            quote=named["quote"],
        )

    after = _IDENT_HEAD.match(text, offset)
    end = after.end() if after else offset
    member = _MEMBER.search(before)
    if member:
        prefix = member["prefix"] or ""
        return CursorContext(
            kind="member",
            prefix=prefix,
            start=offset - len(prefix),
            end=end,
            receiver=member["receiver"],
        )
    word = _IDENT_TAIL.search(before)
    prefix = word.group(0) if word else ""
    return CursorContext(kind="identifier", prefix=prefix, start=offset - len(prefix), end=end)


def word_at(text: str, offset: int) -> tuple[int, int]:
    """The identifier-ish word around `offset` as (start, end) offsets; empty when none."""
    start = offset
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_$"):
        start -= 1
    end = offset
    while end < len(text) and (text[end].isalnum() or text[end] in "_$"):
        end += 1
    return start, end


@dataclass(frozen=True, slots=True)
class OpenCall:
    paren: int  # offset of the call's `(`
    argument: int  # 0-based index of the argument the cursor is in


def enclosing_call(text: str, offset: int, window: int = 8000) -> OpenCall | None:
    """The innermost call whose `(` is open at `offset`, skipping strings and comments."""
    start = max(0, offset - window)
    stack: list[list[int]] = []  # [bracket offset, comma count]; "(" only counts commas
    brackets: list[str] = []
    i = start
    while i < offset:
        ch = text[i]
        if ch in "\"'`":
            end = i + 1
            stops = ch if ch == "`" else ch + "\r\n"  # only template literals span lines
            while end < offset and text[end] not in stops:
                end += 2 if text[end] == "\\" else 1
            i = end + 1
            continue
        if text.startswith("//", i):
            newline = text.find("\n", i, offset)
            i = offset if newline < 0 else newline + 1
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2, offset)
            i = offset if close < 0 else close + 2
            continue
        if ch in "([{":
            stack.append([i, 0])
            brackets.append(ch)
        elif ch in ")]}":
            if brackets:
                stack.pop()
                brackets.pop()
        elif ch == "," and stack:
            stack[-1][1] += 1
        i += 1
    for (position, commas), bracket in zip(reversed(stack), reversed(brackets), strict=True):
        if bracket == "(":  # inside `[...]` or `{...}` arguments the outer call still counts
            return OpenCall(paren=position, argument=commas)
    return None


_CALLEE = re.compile(
    r"(?:(?P<object>[A-Za-z_$][\w$]*|\]|\)|\"[^\"\\]*\"|'[^'\\]*')\s*\??\.\s*)?"
    r"(?P<name>[A-Za-z_$][\w$]*)\s*$"
)


def callee_before(text: str, paren: int) -> tuple[str, str] | None:
    """(`receiver`, `name`) for the callee written just before `(`; receiver "" for a bare name."""
    line_start = max(text.rfind("\n", 0, paren), text.rfind("\r", 0, paren)) + 1
    match = _CALLEE.search(text, line_start, paren)
    if match is None:
        return None
    return match["object"] or "", match["name"]
