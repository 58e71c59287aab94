"""The canonical layout of .flow source (`rhythm fmt`).

2-space indent, double quotes (single when the text holds a double quote and no single one),
spaces around binary operators, no semicolons at line ends, trailing commas in multi-line literals
and argument lists, lines up to 100 characters (longer calls, arrays and objects are broken one
element per line), comments kept, at most one blank line between statements.

Semicolons are omitted; where a line would otherwise continue the previous statement (it starts
with `(`, `[`, a template, `+` or `-` and follows an expression), the line starts with `;`.
A statement that would start with `{` is wrapped in parentheses.

The output is checked before it is returned: it must parse to the same tree as the input (spans
aside), so formatting never changes meaning. Source with syntax errors raises `FormatError`.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from rhythm.core import ast
from rhythm.core.diagnostics import Diagnostic
from rhythm.core.lexer import tokenize
from rhythm.core.parser import parse

WIDTH = 100
INDENT = "  "


class FormatError(Exception):
    """The source cannot be formatted (it has syntax errors)."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None) -> None:
        super().__init__(message)
        self.diagnostics = diagnostics or []


# ------------------------------------------------------------------ a small document algebra


@dataclass
class Group:
    parts: Any


@dataclass
class Indent:
    parts: Any


@dataclass
class Line:
    flat: str = " "  # the text when the enclosing group fits on one line
    hard: bool = False


@dataclass
class IfBreak:
    broken: str
    flat: str = ""


HARD = Line(hard=True)
SOFT = Line("")


def _has_hard(doc: Any, memo: dict[int, bool]) -> bool:
    """Whether `doc` contains a hard line break. Iterative (documents nest as deep as the
    program), memoised by id across the calls of one `render`."""
    key = id(doc)
    if key in memo:
        return memo[key]
    # (doc, children pushed?): a list/Group/Indent is decided once its children are
    stack: list[tuple[Any, bool]] = [(doc, False)]
    while stack:
        d, expanded = stack.pop()
        k = id(d)
        if k in memo:
            continue
        if isinstance(d, Line):
            memo[k] = d.hard
        elif isinstance(d, str):
            memo[k] = "\n" in d
        elif isinstance(d, (list, Group, Indent)):
            parts = d if isinstance(d, list) else [d.parts]
            if expanded:
                memo[k] = any(memo[id(p)] for p in parts)
            else:
                stack.append((d, True))
                stack.extend((p, False) for p in parts if id(p) not in memo)
        else:
            memo[k] = False
    return memo[key]


def render(doc: Any) -> str:
    out: list[str] = []
    col = 0
    memo: dict[int, bool] = {}
    # (indent level, flat?, doc)
    stack: list[tuple[int, bool, Any]] = [(0, False, doc)]
    while stack:
        ind, flat, d = stack.pop()
        if isinstance(d, str):
            out.append(d)
            nl = d.rfind("\n")
            col = len(d) - nl - 1 if nl >= 0 else col + len(d)
        elif isinstance(d, list):
            for item in reversed(d):
                stack.append((ind, flat, item))
        elif isinstance(d, Indent):
            stack.append((ind + 1, flat, d.parts))
        elif isinstance(d, Group):
            if flat:
                stack.append((ind, True, d.parts))
            else:
                fits = not _has_hard(d.parts, memo) and _fits(d.parts, WIDTH - col, stack)
                stack.append((ind, fits, d.parts))
        elif isinstance(d, Line):
            if flat and not d.hard:
                out.append(d.flat)
                col += len(d.flat)
            else:
                out.append("\n" + INDENT * ind)
                col = len(INDENT) * ind
        elif isinstance(d, IfBreak):
            text = d.flat if flat else d.broken
            out.append(text)
            col += len(text)
    text = "".join(out)
    return re.sub(r"[ \t]+\n", "\n", text)


def _first_char(doc: Any) -> str:
    """`render(doc)[:1]`, without rendering all of `doc` when it starts with plain text."""
    todo: list[Any] = [doc]
    while todo:
        d = todo.pop()
        if isinstance(d, str):
            if d == "":
                continue
            if d[0] not in " \t":
                return d[0]
            break  # leading blanks may be stripped by `render`: let it decide
        elif isinstance(d, list):
            todo.extend(reversed(d))
        elif isinstance(d, (Group, Indent)):
            todo.append(d.parts)
        else:
            break  # a line break or an IfBreak: the text depends on the layout
    return render(doc)[:1]


def _fits(doc: Any, width: int, rest: list[tuple[int, bool, Any]]) -> bool:
    todo: list[Any] = [doc]
    while width >= 0:
        if not todo:
            return True  # the rest of the line after the group is checked by its own group
        d = todo.pop()
        if isinstance(d, str):
            nl = d.find("\n")
            if nl >= 0:
                return width - nl >= 0
            width -= len(d)
        elif isinstance(d, list):
            todo.extend(reversed(d))
        elif isinstance(d, (Group, Indent)):
            todo.append(d.parts)
        elif isinstance(d, Line):
            if d.hard:
                return True
            width -= len(d.flat)
        elif isinstance(d, IfBreak):
            width -= len(d.flat)
    return False


def _sep_list(items: list[Any], open_: str, close: str, *, pad: bool = False) -> Any:
    """`open item, item close` on one line, or one item per line with a trailing comma."""
    if not items:
        return open_ + close
    parts: list[Any] = []
    for i, item in enumerate(items):
        if i:
            parts.append([",", Line()])
        parts.append(item)
    inner = Line(" " if pad else "")
    return Group([open_, Indent([inner, *parts, IfBreak(",")]), inner, close])


# ------------------------------------------------------------------ precedence

ASSIGN, COND, OR, AND, EQ, REL, ADD, MUL, EXP, UNARY, POSTFIX, CALL, PRIMARY = (
    2, 3, 4, 5, 9, 10, 12, 13, 14, 15, 16, 17, 18,
)  # fmt: skip
BOR, BXOR, BAND, SHIFT, SEQ = 6, 7, 8, 11, 1
_BINARY_PREC = {
    "|": BOR, "^": BXOR, "&": BAND, "<<": SHIFT, ">>": SHIFT, ">>>": SHIFT,
    "==": EQ, "!=": EQ, "===": EQ, "!==": EQ,
    "<": REL, "<=": REL, ">": REL, ">=": REL, "in": REL, "instanceof": REL,
    "+": ADD, "-": ADD, "*": MUL, "/": MUL, "%": MUL, "**": EXP,
}  # fmt: skip
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$")


def _prec(node: Any) -> int:
    if isinstance(node, ast.Sequence):
        return SEQ
    if isinstance(node, (ast.Assign, ast.Arrow)):
        return ASSIGN
    if isinstance(node, ast.Conditional):
        return COND
    if isinstance(node, ast.Logical):
        return AND if node.op == "&&" else OR
    if isinstance(node, ast.Binary):
        return _BINARY_PREC[node.op]
    if isinstance(node, (ast.Unary, ast.Await)):
        return UNARY
    if isinstance(node, ast.Update):
        return UNARY if node.prefix else POSTFIX
    if isinstance(node, (ast.Call, ast.Member, ast.Index, ast.New)):
        return CALL
    return PRIMARY


def quote_string(value: str) -> str:
    quote = "'" if '"' in value and "'" not in value else '"'
    out = [quote]
    for i, ch in enumerate(value):
        code = ord(ch)
        if ch == quote or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            nxt = value[i + 1 : i + 2]
            out.append("\\x00" if nxt.isdigit() else "\\0")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF or code in (0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append(quote)
    return "".join(out)


def _template_piece(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if ch in "`\\":
            out.append("\\" + ch)
        elif ch == "$" and text[i + 1 : i + 2] == "{":
            out.append("\\$")
        elif ch == "\r":
            out.append("\\r")
        elif ch in "\n\t":
            out.append(ch)
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _key(key: str) -> str:
    return key if _IDENT.match(key) else quote_string(key)


# ------------------------------------------------------------------ the printer


class _Printer:
    def __init__(self, source: str, program: ast.Program) -> None:
        self.source = source
        self.comments = sorted(program.comments, key=lambda c: c[0].start)
        self.starts = [c[0].start for c in self.comments]
        self.used = [False] * len(self.comments)
        self.lines = source.splitlines()

    # ------------------------------------------------------------ comments

    def take_comments(
        self, lo: int, hi: int, skip: list[tuple[int, int]] | None = None
    ) -> list[tuple[ast.Span, str]]:
        out = []
        comments = self.comments
        for i in range(bisect.bisect_left(self.starts, lo), bisect.bisect_left(self.starts, hi)):
            span, text = comments[i]
            if self.used[i]:
                continue
            if skip and any(a <= span.start < b for a, b in skip):
                continue
            self.used[i] = True
            out.append((span, text))
        return out

    def trailing_comment(self, end: ast.Span, limit: int) -> str | None:
        comments = self.comments
        for i in range(bisect.bisect_left(self.starts, end.end), len(comments)):
            span, text = comments[i]
            if self.used[i]:
                continue
            if span.start >= limit or span.line != end.end_line or "\n" in text:
                return None
            if self.source[end.end : span.start].strip(" \t;") == "":
                self.used[i] = True
                return text
            return None
        return None

    @staticmethod
    def comment_doc(text: str) -> Any:
        if "\n" not in text:
            return text.rstrip()
        lines = text.split("\n")
        rest = []
        for ln in lines[1:]:
            ln = ln.strip()
            rest.append([HARD, " " + ln if ln.startswith("*") else ln])
        return [lines[0].rstrip(), *rest]

    # ------------------------------------------------------------ statements

    def body(self, stmts: list[Any], lo: int, hi: int) -> list[Any]:
        """Statements of a block/program with their comments, separated by hard lines. Empty
        statements (a stray `;`) mean nothing in a list and are dropped."""
        stmts = [s for s in stmts if not isinstance(s, ast.Empty)]
        parts: list[Any] = []
        last_line: int | None = None
        prev: Any = None

        def gap(line: int) -> None:
            if last_line is not None and line - last_line > 1:
                parts.append(HARD)

        for idx, stmt in enumerate(stmts):
            nxt_start = stmts[idx + 1].span.start if idx + 1 < len(stmts) else hi
            leading = self.take_comments(lo, stmt.span.start)
            leading += self.take_comments(stmt.span.start, stmt.span.end, self.nested_bodies(stmt))
            for span, text in leading:
                gap(span.line)
                parts.extend([self.comment_doc(text), HARD])
                last_line = span.end_line
            gap(stmt.span.line)
            doc = self.stmt(stmt)
            if _hazard(prev, doc):
                doc = [";", doc]
            parts.append(doc)
            tail = self.trailing_comment(stmt.span, nxt_start)
            if tail is not None:
                parts.append([" ", tail.rstrip()])
            parts.append(HARD)
            last_line = stmt.span.end_line
            lo = stmt.span.end
            prev = stmt
        for span, text in self.take_comments(lo, hi):
            gap(span.line)
            parts.extend([self.comment_doc(text), HARD])
            last_line = span.end_line
        while parts and parts[-1] is HARD:
            parts.pop()
        return parts

    def nested_bodies(self, stmt: Any) -> list[tuple[int, int]]:
        """Ranges of statement lists nested in a statement: their comments stay inside."""
        out = []
        for node in ast.walk(stmt):
            if isinstance(node, ast.Block) and node is not stmt:
                out.append((node.span.start, node.span.end))
        return out

    def block(self, block: ast.Block) -> Any:
        inner = self.body(block.body, block.span.start + 1, block.span.end - 1)
        if not inner:
            return "{}"
        return ["{", Indent([HARD, *inner]), HARD, "}"]

    def sub(self, stmt: Any) -> Any:
        """A statement in a single-statement position: `if (x) <stmt>`."""
        if isinstance(stmt, ast.Block):
            return [" ", self.block(stmt)]
        if isinstance(stmt, ast.Empty):
            return ";"
        return Indent([HARD, self.stmt(stmt)])

    def stmt(self, s: Any) -> Any:
        if isinstance(s, ast.VarDecl):
            return self.var_decl(s)
        if isinstance(s, ast.ExprStmt):
            doc = self.expr(s.expr, 0)
            if _first_char(doc) == "{":
                doc = ["(", doc, ")"]
            return doc
        if isinstance(s, ast.Block):
            return self.block(s)
        if isinstance(s, ast.If):
            parts: list[Any] = ["if (", self.expr(s.test, 0), ")", self.sub(s.consequent)]
            if s.alternate is not None:
                parts.append(" " if isinstance(s.consequent, ast.Block) else HARD)
                parts.append("else")
                if isinstance(s.alternate, ast.If):
                    parts.extend([" ", self.stmt(s.alternate)])
                else:
                    parts.append(self.sub(s.alternate))
            return parts
        if isinstance(s, (ast.ForOf, ast.ForIn)):
            kind = f"{s.kind} " if s.kind else ""
            word = "of" if isinstance(s, ast.ForOf) else "in"
            source = s.iterable if isinstance(s, ast.ForOf) else s.object
            return [
                f"for ({kind}",
                self.pattern(s.target),
                f" {word} ",
                self.expr(source, 0),
                ")",
                self.sub(s.body),
            ]
        if isinstance(s, ast.For):
            init: Any = ""
            if isinstance(s.init, ast.VarDecl):
                init = self.var_decl(s.init)
            elif s.init is not None:
                init = self.expr(s.init, 0)
            test = self.expr(s.test, 0) if s.test is not None else ""
            update = self.expr(s.update, 0) if s.update is not None else ""
            head = [
                "for (",
                init,
                ";",
                " " if s.test is not None else "",
                test,
                ";",
                " " if s.update is not None else "",
                update,
                ")",
            ]
            return [head, self.sub(s.body)]
        if isinstance(s, ast.While):
            return ["while (", self.expr(s.test, 0), ")", self.sub(s.body)]
        if isinstance(s, ast.DoWhile):
            if isinstance(s.body, ast.Block):
                return ["do ", self.block(s.body), " while (", self.expr(s.test, 0), ")"]
            return ["do", self.sub(s.body), HARD, "while (", self.expr(s.test, 0), ")"]
        if isinstance(s, ast.Return):
            if s.argument is None:
                return "return"
            return ["return ", self.expr(s.argument, 0)]
        if isinstance(s, ast.Throw):
            return ["throw ", self.expr(s.argument, 0)]
        if isinstance(s, ast.Break):
            return "break" if s.label is None else f"break {s.label}"
        if isinstance(s, ast.Continue):
            return "continue" if s.label is None else f"continue {s.label}"
        if isinstance(s, ast.Labeled):
            return [s.label, ": ", self.stmt(s.body)]
        if isinstance(s, ast.Try):
            parts = ["try ", self.block(s.block)]
            if s.handler is not None:
                parts.append(" catch ")
                if s.param is not None:
                    parts.extend(["(", self.pattern(s.param), ") "])
                parts.append(self.block(s.handler))
            if s.finalizer is not None:
                parts.extend([" finally ", self.block(s.finalizer)])
            return parts
        if isinstance(s, ast.Empty):
            return ";"
        if isinstance(s, ast.Switch):
            cases: list[Any] = []
            for case in s.cases:
                head = "default:" if case.test is None else ["case ", self.expr(case.test, 0), ":"]
                inner = self.body(case.body, case.span.start, case.span.end)
                cases.extend([HARD, head, Indent([HARD, *inner]) if inner else ""])
            return ["switch (", self.expr(s.discriminant, 0), ") {", Indent(cases), HARD, "}"]
        if isinstance(s, ast.FunctionDecl):
            f = s.func
            params = [self.pattern(p) for p in f.params]
            if f.rest is not None:
                params.append(["...", self.pattern(f.rest)])
            assert isinstance(f.body, ast.Block)
            head = ["async " if f.is_async else "", "function ", s.name.name]
            return [*head, _sep_list(params, "(", ")"), " ", self.block(f.body)]
        raise FormatError(f"cannot format {type(s).__name__}")

    def method(self, p: ast.Property, f: ast.Arrow) -> Any:
        """`name(params) { ... }`, `async [key](params) { ... }` in an object literal."""
        key: Any = ["[", self.expr(p.key, ASSIGN), "]"] if p.computed else _key(str(p.key))
        params = [self.pattern(x) for x in f.params]
        if f.rest is not None:
            params.append(["...", self.pattern(f.rest)])
        assert isinstance(f.body, ast.Block)
        return [
            "async " if f.is_async else "",
            key,
            _sep_list(params, "(", ")"),
            " ",
            self.block(f.body),
        ]

    def var_decl(self, d: ast.VarDecl) -> Any:
        parts: list[Any] = [d.kind, " "]
        for i, decl in enumerate(d.declarations):
            if i:
                parts.append(", ")
            parts.append(self.pattern(decl.target))
            if decl.init is not None:
                parts.extend([" = ", self.expr(decl.init, ASSIGN)])
        return parts

    # ------------------------------------------------------------ patterns

    def pattern(self, p: Any) -> Any:
        if isinstance(p, ast.Identifier):
            return p.name
        if isinstance(p, ast.AssignPattern):
            return [self.pattern(p.target), " = ", self.expr(p.default, ASSIGN)]
        if isinstance(p, ast.ObjectPattern):
            items: list[Any] = []
            for prop in p.properties:
                if prop.computed:
                    key: Any = ["[", self.expr(prop.key, ASSIGN), "]"]
                else:
                    key = _key(str(prop.key))
                value = prop.value
                if prop.shorthand and not prop.computed:
                    items.append(self.pattern(value))
                else:
                    items.append([key, ": ", self.pattern(value)])
            if p.rest is not None:
                items.append(["...", self.pattern(p.rest)])
            return _sep_list(items, "{", "}", pad=True)
        if isinstance(p, ast.ArrayPattern):
            items = [self.pattern(e) if e is not None else "" for e in p.elements]
            if p.rest is not None:
                items.append(["...", self.pattern(p.rest)])
            elif p.elements and p.elements[-1] is None:
                items.append("")  # keep a trailing hole: `[a, , ]`
            return _sep_list(items, "[", "]")
        return self.expr(p, ASSIGN)

    # ------------------------------------------------------------ expressions

    def expr(self, node: Any, min_prec: int) -> Any:
        doc = self._expr(node)
        if _prec(node) < min_prec or getattr(node, "parenthesized", False):
            return ["(", doc, ")"]  # `(a?.b).c` differs from `a?.b.c`: keep those parentheses
        return doc

    def args(self, arguments: list[Any]) -> Any:
        return _sep_list([self.expr(a, ASSIGN) for a in arguments], "(", ")")

    def _expr(self, n: Any) -> Any:
        if isinstance(n, ast.Identifier):
            return n.name
        if isinstance(n, ast.NumberLit):
            return n.raw or repr(n.value)
        if isinstance(n, ast.StringLit):
            return quote_string(n.value)
        if isinstance(n, ast.RegExpLit):
            return f"/{n.pattern}/{n.flags}"
        if isinstance(n, ast.BoolLit):
            return "true" if n.value else "false"
        if isinstance(n, ast.NullLit):
            return "null"
        if isinstance(n, ast.UndefinedLit):
            return "undefined"
        if isinstance(n, ast.TemplateLit):
            return self.template(n)
        if isinstance(n, ast.Spread):
            return ["...", self.expr(n.argument, ASSIGN)]
        if isinstance(n, ast.ArrayLit):
            return _sep_list([self.expr(e, ASSIGN) for e in n.elements], "[", "]")
        if isinstance(n, ast.ObjectLit):
            items = []
            for p in n.properties:
                if isinstance(p, ast.Spread):
                    items.append(self.expr(p, ASSIGN))
                elif p.method and isinstance(p.value, ast.Arrow):
                    items.append(self.method(p, p.value))
                elif p.computed:
                    items.append(["[", self.expr(p.key, ASSIGN), "]: ", self.expr(p.value, ASSIGN)])
                elif p.shorthand and isinstance(p.value, ast.Identifier) and p.value.name == p.key:
                    items.append(p.key)
                else:
                    items.append([_key(str(p.key)), ": ", self.expr(p.value, ASSIGN)])
            return _sep_list(items, "{", "}", pad=True)
        if isinstance(n, ast.Member):
            obj = self.member_object(n.object)
            return [obj, "?." if n.optional else ".", n.name]
        if isinstance(n, ast.Index):
            obj = self.member_object(n.object)
            return [obj, "?.[" if n.optional else "[", self.expr(n.index, 0), "]"]
        if isinstance(n, ast.Call):
            return [
                self.member_object(n.callee),
                "?." if n.optional else "",
                self.args(n.arguments),
            ]
        if isinstance(n, ast.New):  # always with parentheses: `new Map` -> `new Map()`
            return ["new ", self.expr(n.callee, CALL), self.args(n.arguments)]
        if isinstance(n, ast.Unary):
            operand = self.expr(n.operand, UNARY)
            if n.op in ("typeof", "void", "delete"):
                return [n.op, " ", operand]
            text = _first_char(operand)
            if n.op in "+-" and text[:1] in "+-":
                return [n.op, " ", operand]
            return [n.op, operand]
        if isinstance(n, ast.Await):
            return ["await ", self.expr(n.argument, UNARY)]
        if isinstance(n, ast.Sequence):
            return [[", " if i else "", self.expr(x, ASSIGN)] for i, x in enumerate(n.expressions)]
        if isinstance(n, ast.Update):
            if n.prefix:
                target = self.expr(n.target, UNARY)
                if _first_char(target) in "+-":
                    return [n.op, " ", target]  # pragma: no cover - not a valid target anyway
                return [n.op, target]
            return [self.expr(n.target, CALL), n.op]
        if isinstance(n, ast.Binary):
            p = _BINARY_PREC[n.op]
            if n.op == "**":
                left = self.expr(n.left, POSTFIX)
                right = self.expr(n.right, EXP)
            else:
                left = self.expr(n.left, p)
                right = self.expr(n.right, p + 1)
            return Group([left, f" {n.op}", Indent([Line(), right])])
        if isinstance(n, ast.Logical):
            p = _prec(n)
            left = self.logical_operand(n, n.left, p)
            right = self.logical_operand(n, n.right, p + 1)
            return Group([left, f" {n.op}", Indent([Line(), right])])
        if isinstance(n, ast.Conditional):
            return Group(
                [
                    self.expr(n.test, OR),
                    Indent(
                        [
                            Line(),
                            "? ",
                            self.expr(n.consequent, ASSIGN),
                            Line(),
                            ": ",
                            self.expr(n.alternate, ASSIGN),
                        ]
                    ),
                ]
            )
        if isinstance(n, ast.Assign):
            if isinstance(n.target, (ast.ObjectPattern, ast.ArrayPattern)):
                target = self.pattern(n.target)
            else:
                target = self.expr(n.target, UNARY)
            return [target, f" {n.op} ", self.expr(n.value, ASSIGN)]
        if isinstance(n, ast.Arrow):
            params = [self.pattern(p) for p in n.params]
            if n.rest is not None:
                params.append(["...", self.pattern(n.rest)])
            head = _sep_list(params, "(", ")")
            if isinstance(n.body, ast.Block):
                body: Any = self.block(n.body)
            else:
                body = self.expr(n.body, ASSIGN)
                if _first_char(body) == "{":
                    body = ["(", body, ")"]
            return ["async " if n.is_async else "", head, " => ", body]
        raise FormatError(f"cannot format {type(n).__name__}")

    def logical_operand(self, parent: ast.Logical, child: Any, min_prec: int) -> Any:
        mixed = isinstance(child, ast.Logical) and ((parent.op == "??") != (child.op == "??"))
        if parent.op == "??" and not isinstance(child, ast.Logical):
            min_prec = max(min_prec, EQ)  # operands of ?? are equality-level or tighter
        if mixed:
            return ["(", self._expr(child), ")"]
        if parent.op == "??" and isinstance(child, ast.Logical) and child is parent.left:
            return self._expr(child)
        return self.expr(child, min_prec)

    def member_object(self, obj: Any) -> Any:
        doc = self.expr(obj, CALL)
        if isinstance(obj, ast.NumberLit) and re.fullmatch(r"[\d_]+", obj.raw or "x"):
            return ["(", doc, ")"]
        return doc

    def template(self, n: ast.TemplateLit) -> Any:
        raws = self.raw_quasis(n)
        parts: list[Any] = ["`"]
        for i, q in enumerate(n.quasis):
            parts.append(raws[i] if raws is not None else _template_piece(q))
            if i < len(n.exprs):
                parts.extend(["${", self.expr(n.exprs[i], 0), "}"])
        parts.append("`")
        return parts

    def raw_quasis(self, n: ast.TemplateLit) -> list[str] | None:
        """The template's pieces exactly as written (so escapes stay as the author wrote them)."""
        src = self.source
        if n.span.end > len(src) or n.span.end - n.span.start < 2:
            return None
        pieces: list[str] = []
        pos = n.span.start + 1
        for e in n.exprs:
            open_at = src.rfind("${", pos, e.span.start)
            if open_at < 0:
                return None
            pieces.append(src[pos:open_at])
            close = src.find("}", e.span.end)
            if close < 0:
                return None
            pos = close + 1
        pieces.append(src[pos : n.span.end - 1])
        cooked = tokenize("`" + "${0}".join(pieces) + "`")
        quasis = [str(t.cooked or "") for t in cooked.tokens if t.type.startswith("TEMPLATE")]
        if cooked.diagnostics or quasis != n.quasis:
            return None
        return [p.replace("\r\n", "\n") for p in pieces]


def _hazard(prev: Any, doc: Any) -> bool:
    """Whether a line starting `doc` would continue `prev` without a semicolon."""
    ends_with_expr = isinstance(prev, (ast.ExprStmt, ast.VarDecl, ast.Throw)) or (
        isinstance(prev, ast.Return) and prev.argument is not None
    )
    if not ends_with_expr:
        return False
    return _first_char(doc) in ("(", "[", "`", "+", "-", "/")


_FIELDS: dict[type, list[str]] = {}  # node class -> the fields `strip_spans` keeps


def strip_spans(node: Any) -> Any:
    """A comparable form of a tree: spans (and comments) removed."""
    if isinstance(node, ast.Node):
        cls = type(node)
        out: dict[str, Any] = {"@": cls.__name__}
        names = _FIELDS.get(cls)
        if names is None:
            names = _FIELDS[cls] = [
                f.name
                for f in dataclasses.fields(node)
                if f.name != "span" and not f.name.endswith("_span") and f.name != "comments"
            ]
        for name in names:
            out[name] = strip_spans(getattr(node, name))
        if isinstance(node, ast.NumberLit):
            out.pop("raw", None)
        if isinstance(node, ast.StringLit):
            out.pop("quote", None)
        return out
    if isinstance(node, list):
        # Empty statements in a statement list carry no meaning (the layout drops them).
        return [strip_spans(x) for x in node if not isinstance(x, ast.Empty)]
    if isinstance(node, float) and node != node:
        return "NaN"
    return node


def format_source(source: str) -> str:
    """Format .flow source text. Raises FormatError when the text has syntax errors."""
    parsed = parse(source)
    if parsed.diagnostics:
        lines = "\n".join(
            f"  {d.span.line}:{d.span.column}: {d.message}" for d in parsed.diagnostics[:20]
        )
        raise FormatError(
            f"cannot format: {len(parsed.diagnostics)} syntax error(s)\n{lines}", parsed.diagnostics
        )
    printer = _Printer(source, parsed.program)
    end = len(source)
    doc = printer.body(parsed.program.body, 0, end + 1)
    text = render(doc).rstrip() + "\n"
    if text.strip() == "":
        return ""
    if text == source:
        return text  # already formatted: reading it again would give the same tree
    again = parse(text)
    if again.diagnostics or strip_spans(again.program) != strip_spans(parsed.program):
        raise FormatError(
            "internal formatter error: the formatted text would not mean the same; "
            "the file is left unchanged (please report this)"
        )
    return text
