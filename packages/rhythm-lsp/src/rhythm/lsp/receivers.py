"""What a value before a `.` obviously is: a stdlib global (`Task`, `Number`) or a kind of value
from the stdlib table (`stdlib.VALUE_MEMBERS`: string, array, number, date, map, regexp, ...).
Only the obvious cases: literals, `new Date(...)` and the other constructors, variables
initialised with one, and calls to stdlib builtins whose table entry names their result's kind."""

from __future__ import annotations

import re
from collections.abc import Callable

from rhythm.core import ast
from rhythm.core.checker import BINARY_KINDS, UNARY_KINDS
from rhythm.core.stdlib import (
    INSTANCE_KINDS,
    Builtin,
    StdObject,
    call_kind,
    kind_of_returns,
    lookup_global,
    member_of,
    static_members,
)
from rhythm.lsp.cursor import callee_before

STRING = "string"
ARRAY = "array"
REGEXP = "regexp"

# The type of the name `name` as seen from `offset`: a variable's obvious type, else the stdlib
# object it names when no variable shadows it, else None.
ResolveName = Callable[[str, int], "str | None"]


def _returns(builtin: Builtin | None) -> str | None:
    """The kind of value a builtin's result is, when its table entry says (see
    `stdlib.kind_of_returns`): "string", "array", "number", "date", "regexp", ..."""
    if builtin is None:
        return None
    if builtin.returns.startswith("string"):
        return STRING
    return kind_of_returns(builtin.returns)


def expression_type(expr: ast.Node | None, resolve: ResolveName) -> str | None:
    """A kind of value ("string", "number", "date", ...: the keys of stdlib.VALUE_MEMBERS), a
    stdlib global's name, or None when it is not obvious."""
    if isinstance(expr, ast.StringLit | ast.TemplateLit):
        return STRING
    if isinstance(expr, ast.ArrayLit):
        return ARRAY
    if isinstance(expr, ast.RegExpLit):
        return REGEXP
    if isinstance(expr, ast.NumberLit):
        return "number"
    if isinstance(expr, ast.BoolLit):
        return "boolean"
    if isinstance(expr, ast.Unary):
        return UNARY_KINDS.get(expr.op)
    if isinstance(expr, ast.Binary):
        if expr.op != "+":
            return BINARY_KINDS.get(expr.op)
        left = expression_type(expr.left, resolve)
        right = expression_type(expr.right, resolve)
        if STRING in (left, right):
            return STRING
        return "number" if left == right == "number" else None
    if isinstance(expr, ast.Identifier):
        return resolve(expr.name, expr.span.start)
    if isinstance(expr, ast.New) and isinstance(expr.callee, ast.Identifier):
        return INSTANCE_KINDS.get(expr.callee.name)
    if isinstance(expr, ast.Call):
        callee = expr.callee
        if isinstance(callee, ast.Identifier):
            return (
                call_kind(callee.name)
                if resolve(callee.name, callee.span.start) == callee.name
                else None
            )
        if isinstance(callee, ast.Member):
            owner = expression_type(callee.object, resolve)
            return _returns(member_of(owner, callee.name)) if owner else None
    if isinstance(expr, ast.Member):
        owner = expression_type(expr.object, resolve)
        member = member_of(owner, expr.name) if owner else None
        if member is not None and member.kind == "property":
            return _returns(member)
    return None


def global_type(name: str) -> str | None:
    """The stdlib object `name` names (or the global function, when it has members), if any."""
    entry = lookup_global(name)
    if isinstance(entry, StdObject) or (entry is not None and static_members(name)):
        return entry.name
    return None


_NUMBER = re.compile(r"[+-]?(\d[\d_]*\.?\d*([eE][+-]?\d+)?|\.\d+|0[xXbBoO][\da-fA-F_]+)")


def _matching_open(text: str, close: int) -> int | None:
    """Offset of the bracket matching the `)` or `]` at `close` (strings not considered)."""
    pairs = {")": "(", "]": "["}
    want = pairs[text[close]]
    depth = 0
    for i in range(close, max(-1, close - 4000), -1):
        ch = text[i]
        if ch in pairs:
            depth += 1
        elif ch in "([":
            depth -= 1
            if depth == 0:
                return i if ch == want else None
    return None


def receiver_type(text: str, receiver: str, end: int, resolve: ResolveName) -> str | None:
    """The type of the receiver text ending at offset `end` (just before the `.`)."""
    if not receiver:
        return None
    if receiver[0] in "\"'`":
        return STRING
    if receiver in (")", "]"):
        close = end - 1
        while close >= 0 and text[close] != receiver:
            close -= 1
        opening = _matching_open(text, close) if close >= 0 else None
        if opening is None:
            return None
        before = text[:opening].rstrip()
        if receiver == "]":
            # `[1, 2]` is an array literal; `items[0]` is an element of unknown type.
            return None if before and (before[-1].isalnum() or before[-1] in "_$)]") else ARRAY
        callee = callee_before(text, opening)
        if callee is None:
            inside = text[opening + 1 : close].strip()
            return "number" if _NUMBER.fullmatch(inside) else None  # `(1).toFixed`
        owner_text, name = callee
        if not owner_text:
            if text[: text.rfind(name, 0, opening)].rstrip().endswith("new"):
                return INSTANCE_KINDS.get(name)  # `new Date(ms).`
            return call_kind(name) if resolve(name, opening) == name else None  # `String(x).`
        owner_end = text.rfind(owner_text, 0, opening) + len(owner_text)
        owner = receiver_type(text, owner_text, owner_end, resolve)
        return _returns(member_of(owner, name)) if owner else None
    return resolve(receiver, end)
