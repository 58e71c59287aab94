"""The .flow parser: lark LALR(1) over rhythm.core.lexer's tokens, building rhythm.core.ast nodes
directly in the parser callbacks, with error recovery.

`parse(source)` never raises. On a syntax error it reports one diagnostic, pops the LR stack back
to the innermost statement list, skips tokens to the next statement boundary (brackets are already
balanced by the lexer), leaves an `ErrorStmt` there, and carries on: one pass reports every error,
and the Program still holds every statement that could be read.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token
from lark.grammar import Rule
from lark.lexer import Lexer, TerminalDef
from lark.parse_tree_builder import ExpandSingleChild
from lark.parsers.lalr_analysis import Shift

from rhythm.core import ast
from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.lexer import RESERVED_HINTS, Tok, make_tok, tokenize

_MAX_REPORTED = 100

# The deepest syntax tree the parser hands on: the checker, formatter, compiler, VM snapshots and
# the language server walk trees recursively, so a deeper subtree is replaced by an error node
# (see `_Parse.too_deep`). Depth counts syntax nodes (statements, expressions, patterns, parentheses)
# from a top-level statement down. Documented in docs/language.md ("Limits").
MAX_DEPTH = 100
_DEEP_MESSAGE = (
    f"nesting is too deep (more than {MAX_DEPTH} levels): split up what is nested too deeply, "
    "e.g. with intermediate variables"
)
# Nonterminals whose values can be swapped for an error node of the same role when too deep.
_EXPR_ORIGINS = frozenset(
    {
        "assign_expr", "arrow", "cond_expr", "coalesce_expr", "or_expr", "and_expr", "eq_expr",
        "bor_expr", "bxor_expr", "band_expr", "shift_expr", "expression",
        "rel_expr", "add_expr", "mul_expr", "exp_expr", "unary_expr", "update_expr", "lhs_expr",
        "primary", "template", "array", "object",
    }
)  # fmt: skip
# Helper nonterminals whose values are lists/tuples/tokens, or a child passed on: no new level.
_NO_LEVEL_ORIGINS = frozenset(
    {"term", "decl_kind", "opat_list", "prop_key", "apat_elem", "arrow_params", "arguments"}
    | {"arr_elem", "start", "binding_target"}  # binding_target: a name, like `x => 1`'s
)
_REPLACE_NONE, _REPLACE_EXPR, _REPLACE_STMT, _REPLACE_BLOCK = 0, 1, 2, 3


def _is_repetition(origin: str) -> bool:
    """A rule lark made for `x*` / `(COMMA x)*` (`__array_star_6: __array_star_6 COMMA arr_elem`):
    it is left-recursive once per item, so counting it would turn width (150 array elements, 120
    keys, a program of many statements) into depth. Items side by side add no level."""
    return origin.startswith("__") and ("_star_" in origin or "_plus_" in origin)


_TOKEN_TEXT = {
    "LPAR": "'('",
    "ARROW_LPAR": "'('",
    "FOREACH_LPAR": "'('",
    "RPAR": "')'",
    "LBRACE": "'{'",
    "LBRACE_OBJ": "'{'",
    "RBRACE": "'}'",
    "LSQB": "'['",
    "RSQB": "']'",
    "SEMI": "';'",
    "NLSEMI": "a line break",
    "COMMA": "','",
    "DOT": "'.'",
    "QDOT": "'?.'",
    "ELLIPSIS": "'...'",
    "COLON": "':'",
    "QMARK": "'?'",
    "ARROW": "'=>'",
    "ASSIGN": "'='",
    "OF": "'of'",
    "IN": "'in'",
    "ELSE": "'else'",
    "CATCH": "'catch'",
    "FINALLY": "'finally'",
    "WHILE": "'while'",
    "NAME": "a name",
    "TEMPLATE_MIDDLE": "'}'",
    "TEMPLATE_TAIL": "'}'",
}
_CLOSERS = {"LPAR": "RPAR", "ARROW_LPAR": "RPAR", "FOREACH_LPAR": "RPAR", "LSQB": "RSQB"}
_CLOSERS |= {"LBRACE": "RBRACE", "LBRACE_OBJ": "RBRACE", "TEMPLATE_HEAD": "TEMPLATE_TAIL"}
_CLOSERS |= {"TEMPLATE_MIDDLE": "TEMPLATE_TAIL"}
_CLOSE_TYPES = {"RPAR", "RSQB", "RBRACE", "TEMPLATE_TAIL"}
_STATEMENT_STARTERS = {
    "LET", "CONST", "IF", "FOR", "WHILE", "DO", "RETURN", "THROW", "TRY", "BREAK", "CONTINUE",
    "NAME", "AWAIT",
}  # fmt: skip


@dataclass
class ParseResult:
    program: ast.Program
    diagnostics: list[Diagnostic] = field(default_factory=list)
    tokens: list[Tok] = field(default_factory=list)


class _NoLexer(Lexer):
    """Tokens are fed by hand (see `_Parse.run`); lark never lexes."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, lexer_state: Any, parser_state: Any) -> Any:  # pragma: no cover
        raise NotImplementedError


# ------------------------------------------------------------------ span helpers


def _bounds(item: Any, parens: dict[int, Span]) -> tuple[Span, Span] | None:
    """(first span, last span) of a child: a token, a node, a list, or None."""
    if item is None:
        return None
    if isinstance(item, Token):
        if item.value == "" or item.start_pos is None:
            return None
        s = Span(
            item.line, item.column, item.end_line, item.end_column, item.start_pos, item.end_pos
        )
        return s, s
    if isinstance(item, ast.Node):
        s = parens.get(id(item), item.span)
        return s, s
    if isinstance(item, (list, tuple)):
        first = last = None
        for sub in item:
            b = _bounds(sub, parens)
            if b is None:
                continue
            if first is None:
                first = b[0]
            last = b[1]
        if first is None or last is None:
            return None
        return first, last
    return None


def _first_pos(item: Any, parens: dict[int, Span]) -> tuple[int, int, int] | None:
    """(line, column, offset) where a child starts: the first of `_bounds(item)`, faster."""
    if item is None:
        return None
    if isinstance(item, Token):
        if item.value == "" or item.start_pos is None:
            return None
        return item.line, item.column, item.start_pos  # type: ignore[return-value]
    if isinstance(item, ast.Node):
        s = parens.get(id(item), item.span)
        return s.line, s.column, s.start
    if isinstance(item, (list, tuple)):
        for sub in item:
            b = _first_pos(sub, parens)
            if b is not None:
                return b
    return None


def _last_pos(item: Any, parens: dict[int, Span]) -> tuple[int, int, int] | None:
    """(end line, end column, end offset) where a child ends: the last of `_bounds(item)`."""
    if item is None:
        return None
    if isinstance(item, Token):
        if item.value == "" or item.start_pos is None:
            return None
        return item.end_line, item.end_column, item.end_pos  # type: ignore[return-value]
    if isinstance(item, ast.Node):
        s = parens.get(id(item), item.span)
        return s.end_line, s.end_column, s.end
    if isinstance(item, (list, tuple)):
        for sub in reversed(item):
            b = _last_pos(sub, parens)
            if b is not None:
                return b
    return None


def _join(first: Span, last: Span) -> Span:
    return Span(first.line, first.column, last.end_line, last.end_column, first.start, last.end)


def _js_number_key(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return str(value)


@dataclass
class _Hole:
    pass


@dataclass
class _RestElem:
    target: Any
    span: Span


class _Builder:
    """Parser callbacks: each grammar rule (or alias) -> an AST node."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.parens: dict[int, Span] = {}
        self.cover: set[int] = set()
        # The nodes `parens` and `cover` know by id(), kept alive while parsing: a freed node's
        # id can be reused by a new one, which would inherit its entry (a wrong span, from run
        # to run depending on when memory is freed).
        self.kept: list[Any] = []
        self.holes = False  # an array literal with a hole was built (see `_post_pass`)

    def reset(self) -> None:
        self.diagnostics = []
        self.parens = {}
        self.cover = set()
        self.kept = []
        self.holes = False

    def span(self, *items: Any) -> Span:
        """The span from the first to the last child that has one (what `_bounds` finds)."""
        if len(items) == 1 and items[0].__class__ is list:
            items = items[0]  # span(children): the common case, one level less to look through
        parens = self.parens
        for it in items:
            if isinstance(it, Token):
                if it.value == "" or it.start_pos is None:
                    continue
                line, col, start = it.line, it.column, it.start_pos
                break
            if isinstance(it, ast.Node):
                s = parens.get(id(it), it.span) if parens else it.span
                line, col, start = s.line, s.column, s.start
                break
            b = _first_pos(it, parens)
            if b is not None:
                line, col, start = b
                break
        else:
            return ast.NO_SPAN
        for it in reversed(items):
            if isinstance(it, Token):
                if it.value == "" or it.start_pos is None:
                    continue
                end_line, end_col, end = it.end_line, it.end_column, it.end_pos
                break
            if isinstance(it, ast.Node):
                s = parens.get(id(it), it.span) if parens else it.span
                end_line, end_col, end = s.end_line, s.end_column, s.end
                break
            b = _last_pos(it, parens)
            if b is not None:
                end_line, end_col, end = b
                break
        return Span(line, col, end_line, end_col, start, end)  # type: ignore[arg-type]

    def error(self, message: str, span: Span) -> None:
        self.diagnostics.append(Diagnostic(Code.SYNTAX, Severity.ERROR, message, span))

    # ------------------------------------------------------------ program and statements

    def start(self, c: list[Any]) -> ast.Program:
        return ast.Program(body=list(c), span=self.span(c))

    def decl_stmt(self, c: list[Any]) -> ast.VarDecl:
        decl: ast.VarDecl = c[0]
        decl.span = self.span(c)
        return decl

    def expr_stmt(self, c: list[Any]) -> ast.ExprStmt:
        return ast.ExprStmt(expr=c[0], span=self.span(c))

    def return_stmt(self, c: list[Any]) -> ast.Return:
        return ast.Return(argument=c[1], span=self.span(c))

    def throw_stmt(self, c: list[Any]) -> ast.Throw:
        return ast.Throw(argument=c[1], span=self.span(c))

    def break_stmt(self, c: list[Any]) -> ast.Break:
        label = c[1].value if c[1] is not None else None
        label_span = self.span(c[1]) if c[1] is not None else ast.NO_SPAN
        return ast.Break(label=label, label_span=label_span, span=self.span(c))

    def continue_stmt(self, c: list[Any]) -> ast.Continue:
        label = c[1].value if c[1] is not None else None
        label_span = self.span(c[1]) if c[1] is not None else ast.NO_SPAN
        return ast.Continue(label=label, label_span=label_span, span=self.span(c))

    def labeled_stmt(self, c: list[Any]) -> ast.Labeled:
        return ast.Labeled(
            label=c[0].value, body=c[2], label_span=self.span(c[0]), span=self.span(c)
        )

    def empty_stmt(self, c: list[Any]) -> ast.Empty:
        return ast.Empty(span=self.span(c))

    def block_stmt(self, c: list[Any]) -> ast.Block:
        return c[0]

    def error_stmt(self, c: list[Any]) -> ast.ErrorStmt:
        return ast.ErrorStmt(span=self.span(c))

    def if_stmt(self, c: list[Any]) -> ast.If:
        return ast.If(test=c[2], consequent=c[4], alternate=c[6], span=self.span(c))

    def while_stmt(self, c: list[Any]) -> ast.While:
        return ast.While(test=c[2], body=c[4], span=self.span(c))

    def do_stmt(self, c: list[Any]) -> ast.DoWhile:
        return ast.DoWhile(body=c[1], test=c[4], span=self.span(c))

    def for_stmt(self, c: list[Any]) -> ast.For:
        return ast.For(init=c[2], test=c[4], update=c[6], body=c[8], span=self.span(c))

    def foreach_stmt(self, c: list[Any]) -> ast.ForOf | ast.ForIn:
        kind = c[2].value if c[2] is not None else None
        span = self.span(c)
        if c[4].type == "OF":
            return ast.ForOf(kind=kind, target=c[3], iterable=c[5], body=c[7], span=span)
        return ast.ForIn(kind=kind, target=c[3], object=c[5], body=c[7], span=span)

    def switch_stmt(self, c: list[Any]) -> ast.Switch:
        cases = [x for x in c[5:-1] if isinstance(x, ast.SwitchCase)]
        return ast.Switch(discriminant=c[2], cases=cases, span=self.span(c))

    def case_clause(self, c: list[Any]) -> ast.SwitchCase:
        body = [x for x in c[3:] if isinstance(x, ast.Node)]
        return ast.SwitchCase(test=c[1], body=body, span=self.span(c))

    def default_clause(self, c: list[Any]) -> ast.SwitchCase:
        body = [x for x in c[2:] if isinstance(x, ast.Node)]
        return ast.SwitchCase(test=None, body=body, span=self.span(c))

    def try_catch(self, c: list[Any]) -> ast.Try:
        return ast.Try(block=c[1], param=c[4], handler=c[6], finalizer=c[8], span=self.span(c))

    def try_finally(self, c: list[Any]) -> ast.Try:
        return ast.Try(block=c[1], finalizer=c[3], span=self.span(c))

    def term(self, c: list[Any]) -> Any:
        return c[0]

    def block(self, c: list[Any]) -> ast.Block:
        return ast.Block(body=list(c[1:-1]), span=self.span(c))

    def decl_kind(self, c: list[Any]) -> Any:
        return c[0]

    def var_decl(self, c: list[Any]) -> ast.VarDecl:
        kind = c[0].value
        decls = [d for d in c[1:] if isinstance(d, ast.Declarator)]
        for d in decls:
            if d.init is None and kind == "const":
                self.error(
                    "'const' needs an initial value: write `const name = value`", d.target.span
                )
            elif d.init is None and not isinstance(d.target, ast.Identifier):
                self.error("a destructuring declaration needs an initial value", d.target.span)
        return ast.VarDecl(kind=kind, declarations=decls, span=self.span(c))

    def declarator(self, c: list[Any]) -> ast.Declarator:
        return ast.Declarator(target=c[0], init=c[2], span=self.span(c))

    # ------------------------------------------------------------ patterns

    def pat_name(self, c: list[Any]) -> ast.Identifier:
        return ast.Identifier(name=c[0].value, span=self.span(c))

    def binding_elem(self, c: list[Any]) -> Any:
        if c[1] is None:
            return c[0]
        return ast.AssignPattern(target=c[0], default=c[2], span=self.span(c))

    def opat_list(self, c: list[Any]) -> list[Any]:
        if len(c) == 1:
            return [c[0]]
        return [*c[0], c[2]]

    def object_pattern(self, c: list[Any]) -> ast.ObjectPattern:
        props: list[ast.PatternProperty] = []
        rest = None
        for i, item in enumerate(c):
            if isinstance(item, list):
                props = item
            elif isinstance(item, Token) and item.type == "ELLIPSIS":
                name = c[i + 1]
                rest = ast.Identifier(name=name.value, span=self.span(name))
        return ast.ObjectPattern(properties=props, rest=rest, span=self.span(c))

    def prop_key(self, c: list[Any]) -> Any:
        return c[0]

    def _key(self, tok: Tok) -> str:
        if tok.type == "STRING":
            return str(tok.cooked)
        if tok.type == "NUMBER":
            return _js_number_key(tok.cooked)  # type: ignore[arg-type]
        return tok.value

    def pprop_kv(self, c: list[Any]) -> ast.PatternProperty:
        return ast.PatternProperty(
            key=self._key(c[0]), value=c[2], key_span=self.span(c[0]), span=self.span(c)
        )

    def pprop_computed(self, c: list[Any]) -> ast.PatternProperty:
        return ast.PatternProperty(
            key=c[1], value=c[4], computed=True, key_span=self.span(c[:3]), span=self.span(c)
        )

    def pprop_short(self, c: list[Any]) -> ast.PatternProperty:
        ident = ast.Identifier(name=c[0].value, span=self.span(c[0]))
        value: Any = ident
        if c[1] is not None:
            value = ast.AssignPattern(target=ident, default=c[2], span=self.span(c))
        return ast.PatternProperty(
            key=c[0].value, value=value, shorthand=True, key_span=ident.span, span=self.span(c)
        )

    def apat_elem(self, c: list[Any]) -> Any:
        if not c:
            return _Hole()
        if isinstance(c[0], Token) and c[0].type == "ELLIPSIS":
            return _RestElem(c[1], self.span(c))
        return c[0]

    def array_pattern(self, c: list[Any]) -> ast.ArrayPattern:
        elems = [e for e in c if not isinstance(e, Token)]
        if elems and isinstance(elems[-1], _Hole):
            elems.pop()  # `[a, ]`: a trailing comma, not a hole
        rest = None
        out: list[Any] = []
        for i, e in enumerate(elems):
            if isinstance(e, _RestElem):
                if i != len(elems) - 1:
                    self.error("a rest element must be last", e.span)
                rest = e.target
            else:
                out.append(None if isinstance(e, _Hole) else e)
        return ast.ArrayPattern(elements=out, rest=rest, span=self.span(c))

    # ------------------------------------------------------------ expressions

    def assign(self, c: list[Any]) -> ast.Assign:
        op = c[1].value
        target = c[0]
        is_literal = isinstance(target, (ast.ObjectLit, ast.ArrayLit))
        if op == "=" and is_literal and id(target) not in self.parens:
            pattern = _to_pattern(target)
            if pattern is not None:
                target = pattern
        return ast.Assign(op=op, target=target, value=c[2], span=self.span(c))

    def arrow(self, c: list[Any]) -> ast.Arrow:
        params, rest = c[1] if c[1] is not None else ([], None)
        return ast.Arrow(params=params, rest=rest, body=c[4], span=self.span(c))

    def arrow_single(self, c: list[Any]) -> ast.Arrow:
        param = ast.Identifier(name=c[0].value, span=self.span(c[0]))
        return ast.Arrow(params=[param], body=c[2], span=self.span(c))

    def function_decl(self, c: list[Any]) -> ast.FunctionDecl:
        params, rest = c[4] if c[4] is not None else ([], None)
        span = self.span(c)
        func = ast.Arrow(params=params, rest=rest, body=c[6], span=span, is_async=c[0] is not None)
        name = ast.Identifier(name=c[2].value, span=self.span(c[2]))
        return ast.FunctionDecl(name=name, func=func, span=span)

    def async_arrow(self, c: list[Any]) -> ast.Arrow:
        params, rest = c[2] if c[2] is not None else ([], None)
        return ast.Arrow(params=params, rest=rest, body=c[5], span=self.span(c), is_async=True)

    def async_arrow_single(self, c: list[Any]) -> ast.Arrow:
        param = ast.Identifier(name=c[1].value, span=self.span(c[1]))
        return ast.Arrow(params=[param], body=c[3], span=self.span(c), is_async=True)

    def arrow_params(self, c: list[Any]) -> tuple[list[Any], Any]:
        params: list[Any] = []
        rest = None
        for i, item in enumerate(c):
            if isinstance(item, Token):
                if item.type == "ELLIPSIS":
                    rest = c[i + 1]
                    break
                continue
            if item is not None:
                params.append(item)
        return params, rest

    def conditional(self, c: list[Any]) -> ast.Conditional:
        return ast.Conditional(test=c[0], consequent=c[2], alternate=c[4], span=self.span(c))

    def logical(self, c: list[Any]) -> ast.Logical:
        return ast.Logical(op=c[1].value, left=c[0], right=c[2], span=self.span(c))

    def binary(self, c: list[Any]) -> ast.Binary:
        return ast.Binary(op=c[1].value, left=c[0], right=c[2], span=self.span(c))

    def unary(self, c: list[Any]) -> ast.Unary:
        return ast.Unary(op=c[0].value, operand=c[1], span=self.span(c))

    def sequence(self, c: list[Any]) -> ast.Sequence:
        first = c[0]
        head = list(first.expressions) if isinstance(first, ast.Sequence) else [first]
        if isinstance(first, ast.Sequence) and id(first) in self.parens:
            head = [first]  # `(a, b), c`: the parenthesized sequence is one operand
        return ast.Sequence(expressions=[*head, c[2]], span=self.span(c))

    def await_expr(self, c: list[Any]) -> ast.Await:
        return ast.Await(argument=c[1], span=self.span(c))

    def postfix(self, c: list[Any]) -> ast.Update:
        return ast.Update(op=c[1].value, prefix=False, target=c[0], span=self.span(c))

    def prefix(self, c: list[Any]) -> ast.Update:
        return ast.Update(op=c[0].value, prefix=True, target=c[1], span=self.span(c))

    def member(self, c: list[Any]) -> ast.Member:
        return ast.Member(
            object=c[0], name=c[2].value, name_span=self.span(c[2]), span=self.span(c)
        )

    def opt_member(self, c: list[Any]) -> ast.Member:
        return ast.Member(
            object=c[0],
            name=c[2].value,
            optional=True,
            name_span=self.span(c[2]),
            span=self.span(c),
        )

    def index(self, c: list[Any]) -> ast.Index:
        return ast.Index(object=c[0], index=c[2], span=self.span(c))

    def opt_index(self, c: list[Any]) -> ast.Index:
        return ast.Index(object=c[0], index=c[3], optional=True, span=self.span(c))

    def arguments(self, c: list[Any]) -> tuple[list[Any], Any]:
        args = [a for a in c if not isinstance(a, Token)]
        return args, c[-1]

    def call(self, c: list[Any]) -> ast.Call:
        args, close = c[1]
        return ast.Call(callee=c[0], arguments=args, span=self.span(c[0], close))

    def new_callee(self, c: list[Any]) -> ast.Identifier | ast.Member:
        if len(c) == 1:
            return ast.Identifier(name=c[0].value, span=self.span(c))
        return ast.Member(
            object=c[0], name=c[2].value, name_span=self.span(c[2]), span=self.span(c)
        )

    def new_expr(self, c: list[Any]) -> ast.New:
        if c[2] is None:
            return ast.New(callee=c[1], arguments=[], span=self.span(c[0], c[1]))
        args, close = c[2]
        return ast.New(callee=c[1], arguments=args, span=self.span(c[0], close))

    def opt_call(self, c: list[Any]) -> ast.Call:
        args, close = c[2]
        return ast.Call(callee=c[0], arguments=args, optional=True, span=self.span(c[0], close))

    def spread(self, c: list[Any]) -> ast.Spread:
        return ast.Spread(argument=c[1], span=self.span(c))

    def name(self, c: list[Any]) -> ast.Identifier:
        return ast.Identifier(name=c[0].value, span=self.span(c))

    def number(self, c: list[Any]) -> ast.NumberLit:
        tok = c[0]
        value = tok.cooked if tok.cooked is not None else 0
        return ast.NumberLit(value=value, raw=tok.value, span=self.span(c))

    def string(self, c: list[Any]) -> ast.StringLit:
        tok = c[0]
        quote = "'" if tok.value.startswith("'") else '"'
        return ast.StringLit(value=str(tok.cooked), quote=quote, span=self.span(c))

    def regex(self, c: list[Any]) -> ast.RegExpLit:
        pattern, flags = c[0].cooked
        return ast.RegExpLit(pattern=pattern, flags=flags, span=self.span(c))

    def true(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=True, span=self.span(c))

    def false(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=False, span=self.span(c))

    def null(self, c: list[Any]) -> ast.NullLit:
        return ast.NullLit(span=self.span(c))

    def undefined(self, c: list[Any]) -> ast.UndefinedLit:
        return ast.UndefinedLit(span=self.span(c))

    def paren(self, c: list[Any]) -> Any:
        inner = c[1]
        self.parens[id(inner)] = self.span(c)
        self.kept.append(inner)
        if isinstance(inner, ast.Member | ast.Index | ast.Call) and ast.has_optional(inner):
            inner.parenthesized = True  # `(a?.b).c`: the short-circuit stops at the parenthesis
        return inner

    def template(self, c: list[Any]) -> ast.TemplateLit:
        quasis = [str(t.cooked or "") for t in c if isinstance(t, Token)]
        exprs = [e for e in c if not isinstance(e, Token)]
        return ast.TemplateLit(quasis=quasis, exprs=exprs, span=self.span(c))

    def arr_elem(self, c: list[Any]) -> Any:
        if not c:
            return _Hole()
        if isinstance(c[0], Token):
            return ast.Spread(argument=c[1], span=self.span(c))
        return c[0]

    def array(self, c: list[Any]) -> ast.ArrayLit:
        elems = [e for e in c if not isinstance(e, Token)]
        if elems and isinstance(elems[-1], _Hole):
            elems.pop()
        # Holes stay None until the post-pass: `[, b] = x` is a valid pattern.
        elements = [None if e.__class__ is _Hole else e for e in elems]
        if None in elements:
            self.holes = True
        return ast.ArrayLit(elements=elements, span=self.span(c))  # type: ignore[arg-type]

    def object(self, c: list[Any]) -> ast.ObjectLit:
        props = [p for p in c if not isinstance(p, Token)]
        return ast.ObjectLit(properties=props, span=self.span(c))

    def prop_kv(self, c: list[Any]) -> ast.Property:
        return ast.Property(
            key=self._key(c[0]), value=c[2], key_span=self.span(c[0]), span=self.span(c)
        )

    def prop_computed(self, c: list[Any]) -> ast.Property:
        return ast.Property(
            key=c[1], value=c[4], computed=True, key_span=self.span(c[:3]), span=self.span(c)
        )

    def _method(self, c: list[Any], key: Any, key_span: Span, params: Any) -> ast.Property:
        params, rest = params if params is not None else ([], None)
        func = ast.Arrow(
            params=params, rest=rest, body=c[-1], span=self.span(c), is_async=c[0] is not None
        )
        return ast.Property(
            key=key,
            value=func,
            computed=not isinstance(key, str),
            method=True,
            key_span=key_span,
            span=self.span(c),
        )

    def prop_method(self, c: list[Any]) -> ast.Property:
        # [ASYNC] prop_key LPAR [arrow_params] RPAR block
        return self._method(c, self._key(c[1]), self.span(c[1]), c[3])

    def prop_computed_method(self, c: list[Any]) -> ast.Property:
        # [ASYNC] LSQB assign_expr RSQB LPAR [arrow_params] RPAR block
        return self._method(c, c[2], self.span(c[1:4]), c[5])

    def prop_short(self, c: list[Any]) -> ast.Property:
        ident = ast.Identifier(name=c[0].value, span=self.span(c))
        return ast.Property(
            key=ident.name, value=ident, shorthand=True, key_span=ident.span, span=ident.span
        )

    def prop_cover(self, c: list[Any]) -> ast.Property:
        ident = ast.Identifier(name=c[0].value, span=self.span(c[0]))
        value = ast.Assign(op="=", target=ident, value=c[2], span=self.span(c))
        prop = ast.Property(
            key=ident.name, value=value, shorthand=True, key_span=ident.span, span=self.span(c)
        )
        self.cover.add(id(prop))
        self.kept.append(prop)
        return prop


def _to_pattern(expr: Any) -> Any:
    """An object/array literal on the left of `=` read again as a destructuring pattern."""
    if isinstance(expr, ast.Identifier):
        return expr
    if isinstance(expr, ast.Assign) and expr.op == "=":
        target = _to_pattern(expr.target)
        if target is None:
            return None
        return ast.AssignPattern(target=target, default=expr.value, span=expr.span)
    if isinstance(expr, (ast.ObjectPattern, ast.ArrayPattern, ast.AssignPattern)):
        return expr
    if isinstance(expr, ast.ObjectLit):
        props: list[ast.PatternProperty] = []
        rest = None
        for i, p in enumerate(expr.properties):
            if isinstance(p, ast.Spread):
                if i != len(expr.properties) - 1 or not isinstance(p.argument, ast.Identifier):
                    return None
                rest = p.argument
                continue
            value = _to_pattern(p.value)
            if value is None:
                return None
            props.append(
                ast.PatternProperty(
                    key=p.key,
                    value=value,
                    computed=p.computed,
                    shorthand=p.shorthand,
                    key_span=p.key_span,
                    span=p.span,
                )
            )
        return ast.ObjectPattern(properties=props, rest=rest, span=expr.span)
    if isinstance(expr, ast.ArrayLit):
        elems: list[Any] = []
        rest_p = None
        for i, e in enumerate(expr.elements):
            if e is None:
                elems.append(None)
                continue
            if isinstance(e, ast.Spread):
                if i != len(expr.elements) - 1:
                    return None
                rest_p = _to_pattern(e.argument)
                if rest_p is None:
                    return None
                continue
            value = _to_pattern(e)
            if value is None:
                return None
            elems.append(value)
        return ast.ArrayPattern(elements=elems, rest=rest_p, span=expr.span)
    return None


_GRAMMAR = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
_BUILDER = _Builder()


def _table_key() -> str:
    """What the stored parse table (`_parse_table.py`) was made from: the grammar and lark."""
    text = _GRAMMAR + "\0" + lark.__version__
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _build_lark() -> Lark:
    return Lark(
        _GRAMMAR,
        parser="lalr",
        lexer=_NoLexer,
        transformer=_BUILDER,  # type: ignore[arg-type]
        maybe_placeholders=True,
    )


def _to_json(value: Any) -> Any:
    """lark's serialised form as JSON: tuples and dicts with non-str keys are tagged."""
    if isinstance(value, dict):
        if all(type(k) is str for k in value):
            return {k: _to_json(v) for k, v in value.items()}
        return {"__d": [[_to_json(k), _to_json(v)] for k, v in value.items()]}
    if isinstance(value, list):
        return [_to_json(v) for v in value]
    if isinstance(value, tuple):
        return {"__t": [_to_json(v) for v in value]}
    if isinstance(value, str):
        return str(value)  # lark's names can be str subclasses
    assert value is None or isinstance(value, (int, float)), type(value)
    return value


def _from_json(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        if "__d" in obj:
            return {k: v for k, v in obj["__d"]}
        if "__t" in obj:
            return tuple(obj["__t"])
    return obj


_TABLE_PATH = Path(__file__).with_name("parse_table.json")


def write_parse_table() -> Path:
    """Regenerate parse_table.json after changing grammar.lark or upgrading lark:
    `python -m rhythm.core.parser`. (With a stale table the parser still works: it builds the
    table from the grammar at import, which takes a few hundred milliseconds.)"""
    data, memo = _build_lark().memo_serialize([TerminalDef, Rule])
    # The lexer class is put back by `_load_lark`; the transformer is given there.
    options = {k: v for k, v in data["options"].items() if k not in ("lexer", "transformer")}
    lexer_conf = {**data["parser"]["lexer_conf"], "lexer_type": None}
    data = {**data, "options": options, "parser": {**data["parser"], "lexer_conf": lexer_conf}}
    stored = {"key": _table_key(), "data": _to_json(data), "memo": _to_json(memo)}
    _TABLE_PATH.write_text(json.dumps(stored, separators=(",", ":")) + "\n", encoding="utf-8")
    return _TABLE_PATH


def _load_lark() -> tuple[Lark, bool]:
    """The Lark instance, from the stored table when it is current (fast), else built."""
    try:
        stored = json.loads(_TABLE_PATH.read_text(encoding="utf-8"), object_hook=_from_json)
    except (OSError, ValueError):  # pragma: no cover
        return _build_lark(), False
    if _table_key() != stored.get("key"):
        return _build_lark(), False
    data = stored["data"]
    data["options"]["lexer"] = _NoLexer
    data["parser"]["lexer_conf"]["lexer_type"] = _NoLexer
    return Lark._load_from_dict(data, stored["memo"], transformer=_BUILDER), True


_LARK, _FROM_STORED_TABLE = _load_lark()
_LOCK = threading.Lock()


def _fast_table(lark: Lark) -> list[dict[str, Any]]:
    """The LALR table indexed by state, for `_Parse.run`'s loop: a shift is the next state (an
    int), a reduce is (rule size, the rule's nonterminal, the rule's callback, the nesting levels
    the value adds (0 or 1), what a too-deep value is replaced by (`_REPLACE_*`)), where the
    callback is None for a one-symbol `?rule`, whose value is its child's."""
    parser = lark.parser.parser.parser  # type: ignore[attr-defined]
    table = parser.parse_table
    callbacks = parser.callbacks
    assert not any(isinstance(k, str) for k in callbacks)  # no terminal callbacks
    out: list[dict[str, Any]] = [{} for _ in range(max(table.states) + 1)]
    for state, row in table.states.items():
        fast = out[state]
        for sym, (action, arg) in row.items():
            # Plain str keys: lark's symbol names can be lark Tokens, whose __eq__ is slow.
            if action is Shift:
                fast[str(sym)] = arg
            else:
                assert arg != table.end_states["start"]
                size = len(arg.expansion)
                callback = callbacks[arg]
                if size == 1 and isinstance(callback, ExpandSingleChild):
                    callback = None  # it returns its one child unchanged
                origin = str(arg.origin.name)
                level = 0 if origin in _NO_LEVEL_ORIGINS or _is_repetition(origin) else 1
                if origin in _EXPR_ORIGINS:
                    replace = _REPLACE_EXPR
                elif origin == "stmt":
                    replace = _REPLACE_STMT
                elif origin == "block":
                    replace = _REPLACE_BLOCK
                else:
                    replace = _REPLACE_NONE
                fast[str(sym)] = (size, origin, callback, level, replace)
    return out


_TABLE = _fast_table(_LARK)


def _describe(tok: Token, nxt: Token | None) -> str:
    ty = tok.type
    if ty == "$END":
        return "end of file"
    if ty == "NLSEMI":
        return "end of line"
    if tok.value == "":
        return _describe(nxt, None) if nxt is not None else "end of file"
    if ty == "NAME":
        return f"name '{tok.value}'"
    if ty == "NUMBER":
        return f"number {tok.value}"
    if ty == "STRING":
        text = tok.value if len(tok.value) <= 24 else tok.value[:20] + "..."
        return f"string {text}"
    if ty.startswith("TEMPLATE") and ty not in ("TEMPLATE_MIDDLE", "TEMPLATE_TAIL"):
        return "template literal"
    if ty in ("TEMPLATE_MIDDLE", "TEMPLATE_TAIL"):
        return "'}'"
    return f"'{tok.value}'"


class _Parse:
    def __init__(self, source: str) -> None:
        self.source = source
        lex = tokenize(source)
        self.lex = lex
        self.toks = lex.tokens
        self.diagnostics: list[Diagnostic] = []
        self.reported = 0
        self._starts: list[int] | None = None
        self._levels: tuple[list[int], list[int]] | None = None
        self.lex_error_starts = sorted(d.span.start for d in lex.diagnostics)
        self.depth: list[int] = []  # parallel to lark's value stack: each value's nesting depth
        self.deep_span: Span | None = None  # the last subtree cut off by `too_deep`
        self.discarded: list[Any] = []  # cut-off subtrees, kept alive (the builder keys by id)

    # Only error recovery needs these: computed on the first syntax error.

    @property
    def starts(self) -> list[int]:
        if self._starts is None:
            self._starts = [t.start_pos for t in self.toks]
        return self._starts

    @property
    def level(self) -> list[int]:
        return self._bracket_levels()[0]

    @property
    def opener(self) -> list[int]:
        return self._bracket_levels()[1]

    def _bracket_levels(self) -> tuple[list[int], list[int]]:
        """Bracket level of each token (an opener and its closer share their level) and the
        innermost open bracket at each token."""
        if self._levels is not None:
            return self._levels
        level: list[int] = []
        opener: list[int] = []
        stack: list[int] = []
        for i, t in enumerate(self.toks):
            if t.type in _CLOSE_TYPES or t.type == "TEMPLATE_MIDDLE":
                if stack:
                    stack.pop()
                level.append(len(stack))
                opener.append(stack[-1] if stack else -1)
                if t.type == "TEMPLATE_MIDDLE":
                    stack.append(i)
                continue
            level.append(len(stack))
            opener.append(stack[-1] if stack else -1)
            if t.type in _CLOSERS:
                stack.append(i)
        self._levels = (level, opener)
        return self._levels

    def report(self, message: str, span: Span) -> None:
        self.reported += 1
        if self.reported <= _MAX_REPORTED:
            self.diagnostics.append(Diagnostic(Code.SYNTAX, Severity.ERROR, message, span))

    def message(self, i: int, tok: Token, expected: set[str]) -> str:
        toks = self.toks
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        found = _describe(tok, nxt)
        ty = tok.type
        if ty == "RESERVED":
            hint = RESERVED_HINTS.get(tok.value, "")
            return f"'{tok.value}' is not supported in .flow" + (f": {hint}" if hint else "")
        if ty in ("OROR", "ANDAND", "QQ"):
            return "cannot mix '??' with '||' or '&&' without parentheses: add ( ) to say which comes first"
        if ty == "STARSTAR":
            return "a unary operator before '**' needs parentheses: write (-x) ** y or -(x ** y)"
        if ty in ("ELSE", "CATCH", "FINALLY") and "IF" in expected:
            owner = "if" if ty == "ELSE" else "try"
            return f"'{tok.value}' without a matching '{owner}'"
        if ty in ("INC", "DEC") and "SEMI" in expected:
            return (
                f"unexpected '{tok.value}': '{tok.value}' must follow its operand on the same line"
            )
        o = self.opener[i] if i < len(self.opener) else -1
        if o >= 0:
            want = _CLOSERS[toks[o].type]
            if want in expected and ty != want and not ({"NAME", "NUMBER"} <= expected):
                op = toks[o]
                close = "}" if want in ("RBRACE", "TEMPLATE_TAIL") else _TOKEN_TEXT[want][1]
                open_text = "${" if op.type.startswith("TEMPLATE") else op.value
                return (
                    f"expected '{close}' to close '{open_text}' at {op.line}:{op.column}, "
                    f"found {found}"
                )
        if {"NAME", "NUMBER"} <= expected:
            return f"unexpected {found}, expected an expression"
        if ty in ("TEMPLATE_FULL", "TEMPLATE_HEAD") and "SEMI" in expected:
            return (
                f"unexpected {found}: a template right after an expression (even on the next "
                "line) is a tagged template, which .flow does not support: end the statement "
                "before it with ';'"
            )
        if "SEMI" in expected and "NLSEMI" in expected:
            return f"unexpected {found}: end the statement before it with ';' or a line break"
        names = sorted({_TOKEN_TEXT[e] for e in expected if e in _TOKEN_TEXT})
        if names and len(names) <= 4:
            return f"unexpected {found}, expected {' or '.join(names)}"
        return f"unexpected {found}"

    def suppressed(self, i: int, tok: Token) -> bool:
        if tok.value == "" and tok.type in ("RPAR", "RSQB", "RBRACE", "TEMPLATE_TAIL"):
            return True  # the lexer reported the missing bracket
        if tok.type == "RESERVED" and not tok.value[:1].isalpha():
            return True  # unsupported operator: reported by the lexer
        lo = 0
        for j in range(i - 1, -1, -1):
            if self.toks[j].value != "":
                lo = self.toks[j].start_pos
                break
        hi = tok.end_pos if tok.value else tok.start_pos
        k = bisect.bisect_left(self.lex_error_starts, lo)
        return k < len(self.lex_error_starts) and self.lex_error_starts[k] <= hi

    def tok_span(self, i: int) -> Span:
        tok = self.toks[i]
        return Span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)

    def run(self) -> ast.Program:
        toks = self.toks
        ip = _LARK.parse_interactive(None)
        state = ip.parser_state
        states = state.parse_conf.states
        n = len(toks)
        i = 0
        last_error = -1
        state_stack = state.state_stack
        value_stack = state.value_stack
        depth = self.depth
        table = _TABLE
        while i < n:
            # The fast path: lark's `feed_token` inlined, over a table made for this loop (shift
            # -> the next state; reduce -> rule size, goto row name, callback). On a token the
            # table has no action for, the stacks are left exactly as `feed_token` leaves them.
            tok = toks[i]
            ty = tok.type
            while True:
                act = table[state_stack[-1]].get(ty)
                if act is None:
                    break
                if act.__class__ is int:
                    state_stack.append(act)
                    value_stack.append(tok)
                    depth.append(0)
                    break
                size, origin, callback, d, replace = act
                if callback is None:  # `?rule: x`, one child: the value stays, the state moves
                    state_stack[-1] = table[state_stack[-2]][origin]
                    continue
                if size:
                    c = value_stack[-size:]
                    d += max(depth[-size:])
                    del state_stack[-size:]
                    del value_stack[-size:]
                    del depth[-size:]
                else:
                    c = []
                value = callback(c)
                if d > MAX_DEPTH and replace:
                    value, d = self.too_deep(value, replace)
                state_stack.append(table[state_stack[-1]][origin])
                value_stack.append(value)
                depth.append(d)
            if act is not None:
                i += 1
                continue
            expected = {s for s in states[state_stack[-1]] if s.isupper()}
            if i != last_error and not self.suppressed(i, tok):
                self.report(self.message(i, tok, expected), self.tok_span(i))
            forced = i == last_error
            last_error = i
            i = self.recover(state, states, i, forced)
        end = len(self.source)
        line, col = (toks[-1].end_line, toks[-1].end_column) if toks else (1, 1)
        eof = Token("$END", "", end, line, col, line, col, end)
        for _ in range(4):
            if self.feed(state, eof, True):
                result = value_stack[-1]
                break
            if last_error != n:
                expected = {s for s in states[state_stack[-1]] if s.isupper()}
                self.report(self.message(n, eof, expected), self.eof_span())
            last_error = n
            self.recover(state, states, n, True)
        else:  # pragma: no cover - the start state always accepts an error statement
            return ast.Program(span=self.eof_span())
        program: ast.Program = result
        program.span = Span(1, 1, line, col, 0, end) if toks else ast.NO_SPAN
        return program

    def feed(self, state: Any, tok: Token, is_end: bool = False) -> bool:
        """lark's `feed_token` over `_TABLE`, keeping `self.depth` in step with the value stack.
        True when the token was shifted (at the end: when the program was accepted); False when
        the table has no action for it (the stacks are left as lark leaves them)."""
        state_stack = state.state_stack
        value_stack = state.value_stack
        depth = self.depth
        end_state = state.parse_conf.end_state
        ty = tok.type
        while True:
            act = _TABLE[state_stack[-1]].get(ty)
            if act is None:
                return False
            if act.__class__ is int:
                assert not is_end
                state_stack.append(act)
                value_stack.append(tok)
                depth.append(0)
                return True
            size, origin, callback, d, replace = act
            if callback is None:  # `?rule: x`: the value (and its depth) stays, the state moves
                state_stack[-1] = _TABLE[state_stack[-2]][origin]
                if is_end and state_stack[-1] == end_state:
                    return True
                continue
            if size:
                c = value_stack[-size:]
                d += max(depth[-size:])
                del state_stack[-size:]
                del value_stack[-size:]
                del depth[-size:]
            else:
                c = []
            value = callback(c)
            if d > MAX_DEPTH and replace:
                value, d = self.too_deep(value, replace)
            state_stack.append(_TABLE[state_stack[-1]][origin])
            value_stack.append(value)
            depth.append(d)
            if is_end and state_stack[-1] == end_state:
                return True

    def too_deep(self, value: Any, replace: int) -> tuple[Any, int]:
        """`value` nests more than MAX_DEPTH levels deep: report it (once for nested cut-offs)
        and put an error node of the same role in its place, so later passes never see it."""
        span = _BUILDER.parens.get(id(value), value.span)
        self.discarded.append(value)
        last = self.deep_span
        if last is None or not (span.start <= last.start and last.end <= span.end):
            self.report(_DEEP_MESSAGE, span)
        self.deep_span = span
        if replace == _REPLACE_EXPR:
            return ast.UndefinedLit(span=span), 1
        if replace == _REPLACE_STMT:
            return ast.ErrorStmt(span=span), 1
        return ast.Block(body=[ast.ErrorStmt(span=span)], span=span), 2

    def eof_span(self) -> Span:
        toks = self.toks
        if not toks:
            return ast.NO_SPAN
        t = toks[-1]
        return Span(t.end_line, t.end_column, t.end_line, t.end_column, t.end_pos, t.end_pos)

    def recover(self, state: Any, states: Any, i: int, forced: bool) -> int:
        """Pop to the innermost statement list, skip to a statement boundary, shift an error
        statement. Returns the index of the next token to feed."""
        toks = self.toks
        n = len(toks)
        first: int | None = None
        while len(state.state_stack) > 1 and "ERROR_STMT" not in states[state.state_stack[-1]]:
            state.state_stack.pop()
            value = state.value_stack.pop()
            self.depth.pop()
            b = _bounds(value, _BUILDER.parens)
            if b is not None:
                first = b[0].start
        k = bisect.bisect_left(self.starts, first) if first is not None else i
        k = min(k, i)
        d = self.level[k] if k < n else 0
        j = i
        while j < n:
            t = toks[j]
            lv = self.level[j]
            if lv < d:
                break
            if lv == d:
                if t.type in ("SEMI", "NLSEMI"):
                    j += 1
                    break
                if j > i and t.nl_before and t.type in _STATEMENT_STARTERS:
                    break
                if j > i and toks[j - 1].type == "RBRACE" and toks[j - 1].kind == "b":
                    break
            j += 1
        if forced and j == i and i < n:
            j = i + 1
        start_tok = toks[k] if k < n else None
        last = None
        for m in range(j - 1, k - 1, -1):
            if toks[m].value != "":
                last = toks[m]
                break
        if start_tok is not None and start_tok.value != "" and last is not None:
            s1 = Span(
                last.line, last.column, last.end_line, last.end_column, last.start_pos, last.end_pos
            )
            span = _join(self.tok_span(k), s1)
        else:
            span = self.tok_span(i) if i < n else self.eof_span()
        err = make_tok("ERROR_STMT", "<error>", span)
        for _ in range(len(state.state_stack) + 1):
            if self.feed(state, err):
                break
            if len(state.state_stack) <= 1:
                break
            state.state_stack.pop()
            state.value_stack.pop()
            self.depth.pop()
        return j


def _post_pass(program: ast.Program, builder: _Builder) -> None:
    """Report what is only known once the whole tree exists (holes, cover initialisers)."""
    if not builder.holes and not builder.cover:
        return  # nothing to report: skip the walk
    for node in ast.walk(program):
        if isinstance(node, ast.ArrayLit):
            for idx, e in enumerate(node.elements):
                if e is None:
                    builder.error(
                        "empty array element (a hole) is not supported in .flow: write undefined",
                        node.span,
                    )
                    node.elements[idx] = ast.UndefinedLit(span=node.span)
        elif isinstance(node, ast.ObjectLit):
            for p in node.properties:
                if id(p) in builder.cover:
                    builder.error(
                        "'=' in an object literal is only allowed in a destructuring pattern: "
                        "write 'key: value'",
                        p.span,
                    )


def parse(source: str) -> ParseResult:
    """Parse .flow source text. Never raises: syntax errors become diagnostics."""
    with _LOCK:
        _BUILDER.reset()
        try:
            job = _Parse(source)
            program = job.run()
            _post_pass(program, _BUILDER)
            diagnostics = job.lex.diagnostics + job.diagnostics + _BUILDER.diagnostics
            tokens = job.toks
            comments = job.lex.comments
        except RecursionError:
            program = ast.Program()
            diagnostics = [
                Diagnostic(
                    Code.SYNTAX,
                    Severity.ERROR,
                    "the program is nested too deeply to read",
                    ast.NO_SPAN,
                )
            ]
            tokens = []
            comments = []
        finally:
            parens = _BUILDER.parens
            _BUILDER.reset()
            del parens
    diagnostics.sort(key=lambda d: (d.span.start, d.span.end))
    program.comments = comments
    return ParseResult(program=program, diagnostics=diagnostics, tokens=tokens)


if __name__ == "__main__":
    print(f"wrote {write_parse_table()}")
