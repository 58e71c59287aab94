"""What a value before a `.` obviously is: a stdlib object (`Task`), a string, an array or a
regular expression.
Only the obvious cases: literals, variables initialised with one, and calls to stdlib builtins
whose table entry says they return a string or an array."""

from __future__ import annotations

from collections.abc import Callable

from rhythm.core import ast
from rhythm.core.stdlib import Builtin, StdObject, lookup_global, lookup_member
from rhythm.lsp.cursor import callee_before

STRING = "string"
ARRAY = "array"
REGEXP = "regexp"

# The type of the name `name` as seen from `offset`: a variable's obvious type, else the stdlib
# object it names when no variable shadows it, else None.
ResolveName = Callable[[str, int], "str | None"]


def _returns(builtin: Builtin | None) -> str | None:
    if builtin is None:
        return None
    if builtin.returns == "string" or builtin.returns.startswith("string"):
        return STRING
    if builtin.returns == "array" or builtin.returns.endswith("[]"):
        return ARRAY
    if builtin.returns == "RegExp":
        return REGEXP
    return None


def expression_type(expr: ast.Node | None, resolve: ResolveName) -> str | None:
    """`string`, `array`, a stdlib object's name, or None when it is not obvious."""
    if isinstance(expr, ast.StringLit | ast.TemplateLit):
        return STRING
    if isinstance(expr, ast.ArrayLit):
        return ARRAY
    if isinstance(expr, ast.RegExpLit):
        return REGEXP
    if isinstance(expr, ast.Binary) and expr.op == "+":
        left = expression_type(expr.left, resolve)
        right = expression_type(expr.right, resolve)
        return STRING if STRING in (left, right) else None
    if isinstance(expr, ast.Identifier):
        return resolve(expr.name, expr.span.start)
    if isinstance(expr, ast.Call):
        callee = expr.callee
        if isinstance(callee, ast.Identifier):
            entry = lookup_global(callee.name)
            return _returns(entry) if isinstance(entry, Builtin) else None
        if isinstance(callee, ast.Member):
            owner = expression_type(callee.object, resolve)
            return _returns(lookup_member(owner, callee.name)) if owner else None
    if isinstance(expr, ast.Member):
        owner = expression_type(expr.object, resolve)
        member = lookup_member(owner, expr.name) if owner else None
        if member is not None and member.kind == "property":
            return _returns(member)
    return None


def global_type(name: str) -> str | None:
    """The stdlib object `name` names, if any."""
    entry = lookup_global(name)
    return entry.name if isinstance(entry, StdObject) else None


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
            return None
        owner_text, name = callee
        if not owner_text:
            entry = lookup_global(name)
            return _returns(entry) if isinstance(entry, Builtin) else None
        owner_end = text.rfind(owner_text, 0, opening) + len(owner_text)
        owner = receiver_type(text, owner_text, owner_end, resolve)
        return _returns(lookup_member(owner, name)) if owner else None
    return resolve(receiver, end)
