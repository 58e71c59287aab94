"""Incremental analysis: after an edit, re-read only the top-level statements the edit touched.

`analyze_units(source)` is `analysis.analyze` done statement by statement: the text is parsed once,
then every top-level statement is resolved and checked on its own (its scopes, its references to
names it does not declare, the diagnostics that depend on nothing else), and a cheap pass over all
statements joins them: top-level declarations, what each free name means, unused top-level names,
unreachable top-level code, and the stdlib diagnostics a top-level declaration would shadow.

`reanalyze(previous, source)` then finds the edited range (the text that differs), cuts a window of
whole top-level statements around it at *clean boundaries* (see `_clean_start` / `_clean_end`: the
lexer and the parser are in their top-level state there, so what lies outside the window reads the
same whatever the window holds), lexes and parses only the window, shifts the statements after it
in place, and joins again. The result equals `analyze(source)` diagnostic for diagnostic (a
hypothesis test in the language server's suite checks it against random edits). The previous
analysis is consumed: the statements it shares with the new one have their spans moved.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate

from rhythm.core import ast
from rhythm.core.analysis import Analysis
from rhythm.core.ast import NO_SPAN, Span
from rhythm.core.checker import (
    _Checker,
    _terminates,
    did_you_mean,
    is_function_binding,
    new_of_function,
)
from rhythm.core.checker import _join as _join_spans
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.lexer import _BLOCK_BEFORE, _BLOCK_WORDS, Tok, make_tok
from rhythm.core.parser import parse
from rhythm.core.symbols import (
    Binding,
    Duplicate,
    Reference,
    Scope,
    SymbolTable,
    _Resolver,
    global_names,
    pattern_names,
)

# First tokens after which a cut is clean: they can only start a statement, never continue the
# previous one (unlike `else`, `catch`, `while` after `do`, or an operator).
_STARTERS = frozenset(
    {"LET", "CONST", "IF", "FOR", "DO", "RETURN", "THROW", "TRY", "BREAK", "CONTINUE", "NAME"}
)
# Tokens before a `{` after which the lexer takes it for a block, as typed once lexed.
_RAW_BLOCK_BEFORE = _BLOCK_BEFORE | {"LBRACE_OBJ"}
_CLOSER_TYPES = frozenset({"RPAR", "RSQB", "RBRACE", "TEMPLATE_TAIL"})
_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")  # the lexer's line breaks
# Statements never reported as unreachable (as in _Checker.stmts: a function declaration is
# hoisted).
_NOT_DEAD = (ast.Empty, ast.ErrorStmt, ast.FunctionDecl)
# Positions quoted in messages ("... '(' at 3:5", "(declared with const at 3:5)", "(at 3:5)").
_QUOTED_POSITION = re.compile(r"(' at |const at |\(at )(\d+):(\d+)")
# Past this many syntax errors the parser stops reporting; windows cannot know where that falls.
_MAX_SYNTAX = 100
# A window of more statements than this is not worth the bookkeeping: parse the whole text.
_MAX_WINDOW_GROWTH = 8


# ------------------------------------------------------------------ per-statement facts


_GLOBALS_SCOPE = Scope("global", NO_SPAN)
for _name, _value in global_names().items():
    _GLOBALS_SCOPE.bindings[_name] = Binding(_name, "global", NO_SPAN, _GLOBALS_SCOPE, value=_value)


@dataclass(eq=False)
class Unit:
    """One top-level statement and what it says on its own."""

    stmt: ast.Stmt
    root: Scope  # a stand-in for the program scope while the statement was resolved alone
    scopes: list[Scope]  # the statement's scopes directly under the program scope
    declared: list[tuple[ast.Identifier, str, ast.Node]]  # top-level names, hoisting order
    free: list[Reference]  # references to names the statement does not declare itself
    refs: list[Reference]  # every reference, in source order
    bindings: list[Binding]  # the statement's own (inner) bindings
    local: list[Diagnostic]  # diagnostics that depend on this statement alone
    stdlib: list[tuple[str, Diagnostic]]  # valid while the name means the stdlib global
    # `new f()` of a name declared elsewhere: an error when that name is a function
    new_of: list[tuple[str, Diagnostic]]
    member_objects: set[int]  # ids of nodes used as `x` in `x.y`
    terminates: bool
    spans: list[Span] = field(default_factory=list)  # every span object the unit holds
    # Whether the lexer has no bracket open where the statement starts (see `_mark_level`).
    level: bool = False


class _UnitChecker(_Checker):
    """The checker over one statement: a name the statement does not declare is taken to be the
    stdlib global of that name, and diagnostics that rest on that are set apart."""

    def __init__(self, program: ast.Program, symbols: SymbolTable) -> None:
        super().__init__(program, symbols)
        self.depends: str | None = None
        self.stdlib_out: list[tuple[str, Diagnostic]] = []
        self.new_out: list[tuple[str, Diagnostic]] = []

    def new_of_variable(self, ref: Reference, node: ast.New, text: str) -> None:
        if ref.binding is None:  # declared by another statement: the join decides
            code, message, span = new_of_function(node, text)
            self.new_out.append((ref.name, Diagnostic(code, Severity.ERROR, message, span)))
        else:
            super().new_of_variable(ref, node, text)

    def global_of(self, node: object) -> Binding | None:
        if not isinstance(node, ast.Identifier):
            return None
        ref = self.ref_by_node.get(id(node))
        if ref is None:
            return None
        if ref.binding is None:
            found = _GLOBALS_SCOPE.bindings.get(ref.name)
            if found is not None:
                self.depends = ref.name
            return found
        return None  # the statement's own variable

    def add(
        self,
        code: Code,
        message: str,
        span: Span,
        severity: Severity = Severity.ERROR,
        replacement: str | None = None,
    ) -> None:
        diagnostic = Diagnostic(code, severity, message, span, replacement)
        if self.depends is not None:
            self.stdlib_out.append((self.depends, diagnostic))
        else:
            self.out.append(diagnostic)

    def member(self, node: ast.Member) -> None:
        self.depends = None
        try:
            super().member(node)
        finally:
            self.depends = None

    def call(self, node: ast.Call) -> None:
        self.depends = None
        try:
            super().call(node)
        finally:
            self.depends = None

    def new(self, node: ast.New) -> None:
        self.depends = None
        try:
            super().new(node)
        finally:
            self.depends = None


def _make_unit(stmt: ast.Stmt) -> Unit:
    root = Scope("program", stmt.span)
    resolver = _Resolver.__new__(_Resolver)
    resolver.root = root
    resolver.global_scope = root
    resolver.table = table = SymbolTable(root, root)
    resolver.stmt(stmt, root)  # top-level declarations are hoisted by the join, not here
    declared: list[tuple[ast.Identifier, str, ast.Node]] = []
    if isinstance(stmt, ast.VarDecl):  # what symbols._Resolver.statements hoists
        for declarator in stmt.declarations:
            for ident in pattern_names(declarator.target):
                declared.append((ident, stmt.kind, stmt))
    elif isinstance(stmt, ast.FunctionDecl):
        declared.append((stmt.name, "function", stmt))
    program = ast.Program(body=[stmt], span=stmt.span)
    checker = _UnitChecker(program, table)
    checker.stmt(stmt, False, False)
    member_objects = {id(n.object) for n in ast.walk(stmt) if isinstance(n, ast.Member)}
    free: list[Reference] = []
    for ref in table.references:
        b = ref.binding
        if b is None:
            free.append(ref)
        elif ref.write and b.kind == "const":
            checker.add(
                Code.CONST_ASSIGN,
                f"cannot assign to '{b.name}': it is a constant "
                f"(declared with const at {b.span.line}:{b.span.column}); use let",
                ref.span,
            )
    for dup in table.duplicates:
        first = dup.first
        checker.add(
            Code.DUPLICATE_DECLARATION,
            f"'{dup.name}' is already declared in this scope "
            f"(at {first.span.line}:{first.span.column})",
            dup.span,
        )
    table.bindings.sort(key=lambda b: b.span.start)
    table.references.sort(key=lambda r: r.span.start)
    checker.symbols = table
    checker.unused()
    unit = Unit(
        stmt=stmt,
        root=root,
        scopes=list(root.children),
        declared=declared,
        free=free,
        refs=table.references,
        bindings=table.bindings,
        local=checker.out,
        stdlib=checker.stdlib_out,
        new_of=checker.new_out,
        member_objects=member_objects,
        terminates=_terminates(stmt),
    )
    unit.spans = _unit_spans(unit)
    return unit


# ------------------------------------------------------------------ spans


_LAYOUT: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {}


def _layout(cls: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found = _LAYOUT.get(cls)
    if found is None:
        names = [f.name for f in dataclasses.fields(cls)]
        spans = tuple(n for n in names if n == "span" or n.endswith("_span"))
        children = tuple(n for n in names if n not in spans and n != "comments")
        found = _LAYOUT[cls] = (spans, children)
    return found


def _tree_spans(node: ast.Node, out: dict[int, Span]) -> None:
    stack: list[object] = [node]
    pop = stack.pop
    push = stack.append
    while stack:
        current = pop()
        spans, children = _layout(current.__class__)
        for name in spans:
            span = getattr(current, name)
            out[id(span)] = span
        for name in children:
            value = getattr(current, name)
            if isinstance(value, ast.Node):
                push(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.Node):
                        push(item)


def _unit_spans(unit: Unit) -> list[Span]:
    found: dict[int, Span] = {}
    _tree_spans(unit.stmt, found)
    pending = list(unit.scopes)
    while pending:
        scope = pending.pop()
        found[id(scope.span)] = scope.span
        pending.extend(scope.children)
    for d in unit.local:
        found[id(d.span)] = d.span
    for _name, d in [*unit.stdlib, *unit.new_of]:
        found[id(d.span)] = d.span
    found.pop(id(NO_SPAN), None)
    return list(found.values())


_set = object.__setattr__


class _Shift:
    """Moves positions: offsets by `delta`; lines by `lines`; columns by `columns` on `line`
    (the line the moved text starts on).

    The parser gives a node whose last child has no source text (an empty statement made of an
    inserted `;`) an end at offset 0, line 1, column 1, wherever the node is. Such an end means
    "nowhere" and is never moved; with `fixed_origin` (text after an edit, which cannot really
    start at offset 0) neither is such a start."""

    def __init__(
        self, delta: int, lines: int, line: int, columns: int, fixed_origin: bool = False
    ) -> None:
        self.delta = delta
        self.lines = lines
        self.line = line
        self.columns = columns
        self.fixed_origin = fixed_origin

    @property
    def identity(self) -> bool:
        return not (self.delta or self.lines or self.columns)

    def position(self, line: int, column: int) -> tuple[int, int]:
        if line == self.line:
            column += self.columns
        return line + self.lines, column

    def span(self, span: Span) -> None:
        """Move `span` in place (spans are shared between nodes, symbols and diagnostics)."""
        if span.start or not self.fixed_origin:
            if span.line == self.line:
                _set(span, "column", span.column + self.columns)
            _set(span, "line", span.line + self.lines)
            _set(span, "start", span.start + self.delta)
        if span.end:
            if span.end_line == self.line:
                _set(span, "end_column", span.end_column + self.columns)
            _set(span, "end_line", span.end_line + self.lines)
            _set(span, "end", span.end + self.delta)

    def spans(self, spans: Iterable[Span], seen: set[int]) -> None:
        """Move each of `spans` once (`seen` holds the ids of those already moved)."""
        for span in spans:
            key = id(span)
            if key not in seen and span is not NO_SPAN:
                seen.add(key)
                self.span(span)

    def distinct_spans(self, spans: list[Span]) -> None:
        """Move `spans`, all distinct and none of them NO_SPAN (a unit's own): the hot loop."""
        delta, lines, line = self.delta, self.lines, self.line
        if not lines and not self.columns and self.fixed_origin:
            for span in spans:
                if span.start and span.end:
                    _set(span, "start", span.start + delta)
                    _set(span, "end", span.end + delta)
                else:
                    self.span(span)
            return
        for span in spans:
            if span.line == line or span.end_line == line or not span.start or not span.end:
                self.span(span)
                continue
            _set(span, "line", span.line + lines)
            _set(span, "end_line", span.end_line + lines)
            _set(span, "start", span.start + delta)
            _set(span, "end", span.end + delta)

    def tokens(self, tokens: list[Tok]) -> None:
        """Move `tokens`, which start on `line` or after it (the hot loop)."""
        delta, lines, line, columns = self.delta, self.lines, self.line, self.columns
        if columns:  # the first tokens are on the line where the moved text starts
            for tok in tokens:
                if tok.line != line:
                    break
                tok.column += columns
                if tok.end_line == line:
                    tok.end_column += columns
        if lines:
            for tok in tokens:
                tok.line += lines
                tok.end_line += lines
                tok.start_pos += delta
                tok.end_pos += delta
        else:
            for tok in tokens:
                tok.start_pos += delta
                tok.end_pos += delta

    def copy(self, span: Span) -> Span:
        """A moved copy of `span` (for spans other objects may share)."""
        moved = Span(span.line, span.column, span.end_line, span.end_column, span.start, span.end)
        self.span(moved)
        return moved

    def token(self, tok: Tok) -> None:
        if tok.line == self.line:
            tok.column += self.columns
        if tok.end_line == self.line:
            tok.end_column += self.columns
        tok.line += self.lines
        tok.end_line += self.lines
        tok.start_pos += self.delta
        tok.end_pos += self.delta

    def message(self, diagnostic: Diagnostic) -> Diagnostic:
        """`diagnostic` with the positions its message quotes moved too."""
        if (not self.lines and not self.columns) or " at " not in diagnostic.message:
            return diagnostic

        def moved(m: re.Match[str]) -> str:
            line, column = self.position(int(m[2]), int(m[3]))
            return f"{m[1]}{line}:{column}"

        message = _QUOTED_POSITION.sub(moved, diagnostic.message)
        if message == diagnostic.message:
            return diagnostic
        return dataclasses.replace(diagnostic, message=message)


# ------------------------------------------------------------------ the analysis


@dataclass
class IncrementalAnalysis(Analysis):
    """An `Analysis` that also keeps its statement-by-statement facts, for `reanalyze`."""

    units: list[Unit] = field(default_factory=list)
    syntax: list[Diagnostic] = field(default_factory=list)  # parse diagnostics, by position
    first_repair: int = -1  # offset of the first bracket the lexer had to close itself
    consumed: bool = False  # `reanalyze` moved its shared statements: do not read it any more


def _first_repair(tokens: list[Tok], start: int = 0) -> int:
    for k in range(start, len(tokens)):
        t = tokens[k]
        if t.value == "" and t.type in _CLOSER_TYPES:
            return t.start_pos
    return -1


# What each token does to the bracket counts of `_mark_level`: (shaper depth, raw parentheses,
# raw braces, the scanner's brace stack), counting inserted tokens only in the first.
_OPEN_PAREN = (1, 1, 0, 0)
_OPEN_BRACE = (1, 0, 1, 1)
_LEVEL_STEPS: dict[str, tuple[int, int, int, int]] = {
    "LPAR": _OPEN_PAREN,
    "FOREACH_LPAR": _OPEN_PAREN,
    "ARROW_LPAR": _OPEN_PAREN,
    "RPAR": (-1, -1, 0, 0),
    "LSQB": (1, 0, 0, 0),
    "RSQB": (-1, 0, 0, 0),
    "LBRACE": _OPEN_BRACE,
    "LBRACE_OBJ": _OPEN_BRACE,
    "RBRACE": (-1, 0, -1, -1),
    "TEMPLATE_HEAD": (1, 0, 0, 1),
    "TEMPLATE_TAIL": (-1, 0, 0, -1),
    "CASE": (0, 0, 0, 0),
    "DEFAULT": (0, 0, 0, 0),
    "COLON": (0, 0, 0, 0),
}


def _mark_level(tokens: list[Tok], units: list[Unit]) -> None:
    """Set `level` on each of `units` (the statements of `tokens`, in order, read from a state
    with no bracket open): whether the lexer's state where the statement starts is that of the
    start of a text. The lexer's second pass counts every bracket, inserted closers too; its
    first pass, which tells a regular expression from a division by the bracket a `)` or `}`
    closes, and a template's `}` from a block's, counts only the real ones, and a closer with
    nothing open is dropped by both. A `case` waits for its `:` at its own depth (which then
    opens a block with `{`), however far away."""
    steps = _LEVEL_STEPS
    depth = paren = brace = scan = 0
    case_heads: list[int] = []
    k = 0
    n = len(tokens)
    for unit in units:
        start = unit.stmt.span.start
        while k < n and (tokens[k].start_pos < start or tokens[k].value == ""):
            tok = tokens[k]
            k += 1
            step = steps.get(tok.type)
            if step is None:
                continue
            ty = tok.type
            if ty == "COLON":
                if case_heads and case_heads[-1] == depth:
                    case_heads.pop()
                continue
            if ty == "CASE" or ty == "DEFAULT":
                case_heads.append(depth)
                continue
            depth += step[0]
            if tok.value:
                paren = max(0, paren + step[1])
                brace = max(0, brace + step[2])
                scan = max(0, scan + step[3])
        unit.level = not (depth or paren or brace or scan or case_heads)


def analyze_units(
    source: str, should_stop: Callable[[], bool] | None = None
) -> IncrementalAnalysis:
    """`analysis.analyze(source)`, computed statement by statement so `reanalyze` can reuse it.
    `should_stop` is asked between statements; when it says yes the work is abandoned and
    `Abandoned` raised."""
    parsed = parse(source)
    units = []
    for k, stmt in enumerate(parsed.program.body):
        if should_stop is not None and k % 64 == 0 and should_stop():
            raise Abandoned
        units.append(_make_unit(stmt))
    _mark_level(parsed.tokens, units)
    return _assemble(source, units, parsed.tokens, parsed.program.comments, parsed.diagnostics)


class Abandoned(Exception):
    """A newer text arrived: the analysis in progress was dropped."""


def _assemble(
    source: str,
    units: list[Unit],
    tokens: list[Tok],
    comments: list[tuple[Span, str]],
    syntax: list[Diagnostic],
    first_repair: int | None = None,
) -> IncrementalAnalysis:
    """The whole-program part of the analysis, from the statements' own facts."""
    if tokens:
        last = tokens[-1]
        span = Span(1, 1, last.end_line, last.end_column, 0, len(source))
    else:
        span = NO_SPAN
    program = ast.Program(body=[u.stmt for u in units], span=span, comments=comments)
    global_scope = Scope("global", span)
    for name, value in global_names().items():
        global_scope.bindings[name] = Binding(name, "global", NO_SPAN, global_scope, value=value)
    root = Scope("program", span, global_scope, node=program)
    global_scope.children.append(root)
    table = SymbolTable(global_scope, root)
    env = root.bindings
    top: list[Binding] = []
    for unit in units:
        for ident, kind, node in unit.declared:
            existing = env.get(ident.name)
            if existing is not None:
                table.duplicates.append(Duplicate(ident.name, ident.span, existing))
                continue
            b = Binding(ident.name, kind, ident.span, root, declaration=node)  # type: ignore[arg-type]
            env[ident.name] = b
            top.append(b)
    globals_ = global_scope.bindings
    semantic: list[Diagnostic] = []
    add = semantic.append
    previous: Unit | None = None
    read: set[int] = set()  # ids of the bindings some reference reads
    for unit in units:
        for scope in unit.scopes:
            scope.parent = root
        root.children.extend(unit.scopes)
        unit_root = unit.root
        for ref in unit.free:
            if ref.scope is unit_root:
                ref.scope = root
            b = env.get(ref.name)
            if b is None:
                b = globals_.get(ref.name)
            ref.binding = b
            if b is not None:
                b.references.append(ref)
                if ref.read:
                    read.add(id(b))
                if ref.write:
                    b.written = True
                    if b.kind == "global":
                        add(
                            Diagnostic(
                                Code.CONST_ASSIGN,
                                Severity.ERROR,
                                f"cannot assign to '{b.name}': it is part of the stdlib",
                                ref.span,
                            )
                        )
                    elif b.kind == "const":
                        add(
                            Diagnostic(
                                Code.CONST_ASSIGN,
                                Severity.ERROR,
                                f"cannot assign to '{b.name}': it is a constant (declared with "
                                f"const at {b.span.line}:{b.span.column}); use let",
                                ref.span,
                            )
                        )
            else:
                add(_undefined(ref, unit, previous, root, globals_))
        for name, diagnostic in unit.stdlib:
            if name not in env:
                add(diagnostic)
        for name, diagnostic in unit.new_of:
            b = env.get(name)
            if b is not None and is_function_binding(b):
                add(diagnostic)
        semantic.extend(unit.local)
        previous = unit
    for dup in table.duplicates:
        first = dup.first
        add(
            Diagnostic(
                Code.DUPLICATE_DECLARATION,
                Severity.ERROR,
                f"'{dup.name}' is already declared in this scope "
                f"(at {first.span.line}:{first.span.column})",
                dup.span,
            )
        )
    for b in top:
        if id(b) not in read and not b.name.startswith("_"):
            what = "function" if b.kind == "function" else "variable"  # as _Checker.unused
            add(
                Diagnostic(
                    Code.UNUSED_VARIABLE,
                    Severity.WARNING,
                    f"{what} '{b.name}' is never used (prefix it with '_' to keep it)",
                    b.span,
                )
            )
    for i, unit in enumerate(units):
        if unit.terminates and i + 1 < len(units):
            rest = [u.stmt for u in units[i + 1 :] if not isinstance(u.stmt, _NOT_DEAD)]
            if rest:
                add(
                    Diagnostic(
                        Code.UNREACHABLE_CODE,
                        Severity.WARNING,
                        "unreachable code",
                        _join_spans(rest[0].span, rest[-1].span),
                    )
                )
            break
    if syntax:
        semantic = [d for d in semantic if d.code is not Code.UNUSED_VARIABLE]
    diagnostics = sorted(syntax + semantic, key=lambda d: (d.span.start, d.span.end, d.code.value))
    bindings = [*top, *(b for u in units for b in u.bindings)]
    bindings.sort(key=lambda b: b.span.start)
    table.bindings = bindings
    table.references = [r for u in units for r in u.refs]
    result = IncrementalAnalysis(source, program, diagnostics, table, tokens)
    result.units = units
    result.syntax = syntax
    result.first_repair = _first_repair(tokens) if first_repair is None else first_repair
    return result


def _undefined(
    ref: Reference, unit: Unit, previous: Unit | None, root: Scope, globals_: dict[str, Binding]
) -> Diagnostic:
    """RY101 / RY104 for a name nothing declares, as the checker words it."""
    name = ref.name
    if ref.node is not None and id(ref.node) in unit.member_objects and name[:1].isupper():
        std = did_you_mean(name, [g for g in globals_ if g[:1].isupper()])
        if std is not None:
            return Diagnostic(
                Code.UNKNOWN_GLOBAL,
                Severity.ERROR,
                f"unknown stdlib object '{name}': did you mean '{std}'?",
                ref.span,
                std,
            )
    offset = ref.span.start
    scope = root
    candidates = [*(previous.scopes if previous is not None else ()), *unit.scopes]
    while True:
        for child in candidates:
            if child.span.start <= offset <= child.span.end and child.span is not NO_SPAN:
                scope = child
                break
        else:
            break
        candidates = scope.children
    visible: dict[str, Binding] = {}
    current: Scope | None = scope
    while current is not None:
        for key, b in current.bindings.items():
            if key not in visible:
                visible[key] = b
        current = current.parent
    guess = did_you_mean(name, visible)
    message = f"'{name}' is not defined"
    if guess is not None:
        message += f": did you mean '{guess}'?"
    return Diagnostic(Code.UNDEFINED_NAME, Severity.ERROR, message, ref.span, guess)


# ------------------------------------------------------------------ after an edit


def edited_range(old: str, new: str) -> tuple[int, int, int]:
    """(start, old end, new end) of the one range where `old` and `new` differ."""
    limit = min(len(old), len(new))
    lo, hi = 0, limit
    while lo < hi:  # the longest common prefix, by halving (slice comparisons run in C)
        mid = (lo + hi + 1) // 2
        if old[lo:mid] == new[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    prefix = lo
    lo, hi = 0, limit - prefix
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[len(old) - mid : len(old) - lo] == new[len(new) - mid : len(new) - lo]:
            lo = mid
        else:
            hi = mid - 1
    return prefix, len(old) - lo, len(new) - lo


def _first_token(tokens: list[Tok], offset: int) -> int:
    """Index of the first real token starting at or after `offset`."""
    k = bisect.bisect_left(tokens, offset, key=lambda t: t.start_pos)
    while k < len(tokens) and tokens[k].value == "":
        k += 1
    return k


def _count_syntax(syntax: list[Diagnostic], start: int, end: int) -> int:
    """How many of `syntax` (sorted by position) lie outside [start, end)."""
    lo = bisect.bisect_left(syntax, start, key=lambda d: d.span.start)
    hi = bisect.bisect_left(syntax, end, key=lambda d: d.span.start)
    return len(syntax) - (hi - lo)


def _has_error_stmt(node: ast.Node) -> bool:
    return any(isinstance(n, ast.ErrorStmt) for n in ast.walk(node))


def _reads_alone(tokens: list[Tok], i: int) -> bool:
    """Whether the lexer reads tokens[i], the first token of a top-level statement, and what
    follows it as it would at the start of a text: the token before it ends a statement (so a
    keyword stays a keyword, a `{` opens a block, no `;` is inserted), and a block statement's
    `}` allows a regular expression after it on both readings (the lexer looks at the real token
    before that block's `{` to tell a block from an object)."""
    if i == 0:
        return True
    prev = tokens[i - 1]
    if prev.type not in ("SEMI", "NLSEMI") and not (
        prev.type == "RBRACE" and prev.kind == "b" and prev.value
    ):
        return False
    if tokens[i].type == "LBRACE":
        j = i - 1
        while j >= 0 and tokens[j].value == "":
            j -= 1
        if j >= 0:
            before = tokens[j]
            return before.type in _RAW_BLOCK_BEFORE or before.value in _BLOCK_WORDS
    return True


def _stmt_token(previous: IncrementalAnalysis, stmt: ast.Stmt) -> int:
    """Index of the statement's first token, or -1 when the statement does not start with a
    real token (an inserted empty statement, placed nowhere, or an error)."""
    if isinstance(stmt, ast.ErrorStmt) or not stmt.span.start:
        return -1
    i = _first_token(previous.tokens, stmt.span.start)
    if i >= len(previous.tokens) or previous.tokens[i].start_pos != stmt.span.start:
        return -1
    return i


def _clean_start(previous: IncrementalAnalysis, k: int) -> bool:
    """Whether the parse of the text from statement k on cannot depend on the text before it
    (that text unchanged): no bracket left open before it, and its first token read normally."""
    if k == 0:
        return True
    stmt = previous.units[k].stmt
    repair = previous.first_repair
    if 0 <= repair <= stmt.span.start or not previous.units[k].level:
        return False
    i = _stmt_token(previous, stmt)
    return i >= 0 and _reads_alone(previous.tokens, i)


def _clean_end(previous: IncrementalAnalysis, k: int) -> bool:
    """Whether statement k of the previous text can follow any complete statement unchanged: it
    starts on a new line with a token that can only start a statement, read as at the start of a
    text."""
    unit = previous.units[k]
    i = _stmt_token(previous, unit.stmt)
    if i < 0 or not unit.level:
        return False
    tok = previous.tokens[i]
    return tok.nl_before and tok.type in _STARTERS and _reads_alone(previous.tokens, i)


def reanalyze(
    previous: IncrementalAnalysis,
    source: str,
    should_stop: Callable[[], bool] | None = None,
    *,
    fallback: bool = True,
) -> IncrementalAnalysis | None:
    """The analysis of `source`, an edit of `previous.source`, equal to `analyze(source)`. Reads
    again only the top-level statements around the edit; `previous` is consumed. When no small
    window of statements can be cut around the edit, the whole text is analysed, or, with
    `fallback=False`, None is returned and `previous` is left as it was."""
    if previous.consumed:
        raise ValueError("this analysis was already consumed by reanalyze")
    old = previous.source
    units = previous.units
    if not units or old == source:
        if old == source and units:
            return previous
        return analyze_units(source, should_stop) if fallback else None
    start, old_end, new_end = edited_range(old, source)
    delta = new_end - old_end
    # (An inserted empty statement is placed nowhere, at offset 0: it starts where the one
    # before it does, so the starts stay sorted.)
    starts = list(accumulate((u.stmt.span.start for u in units), max))
    # The first statement of the window: the one holding the edit, unless the edit reaches its
    # first token; then earlier ones until the cut is clean.
    k0 = max(0, bisect.bisect_right(starts, start) - 1)
    while k0 > 0:
        i = _first_token(previous.tokens, starts[k0])
        if (
            i < len(previous.tokens)
            and previous.tokens[i].end_pos < start
            and _clean_start(previous, k0)
        ):
            break
        k0 -= 1
    # The first statement after the window: the first one starting after the edit whose cut is
    # clean; the window's own last statement must also end cleanly (checked after parsing).
    k1 = bisect.bisect_right(starts, old_end)
    while k1 < len(units) and not _clean_end(previous, k1):
        k1 += 1
    for _attempt in range(_MAX_WINDOW_GROWTH):
        try:
            result = _try_window(previous, source, k0, k1, start, old_end, delta)
        except _GaveUp:
            break
        if result is not None:
            return result
        if should_stop is not None and should_stop():
            raise Abandoned
        k1 += 1
        while k1 < len(units) and not _clean_end(previous, k1):
            k1 += 1
    return analyze_units(source, should_stop) if fallback else None


class _GaveUp(Exception):
    """The parser gave up on a window that runs to the end of the text."""


def _try_window(
    previous: IncrementalAnalysis,
    source: str,
    k0: int,
    k1: int,
    start: int,
    old_end: int,
    delta: int,
) -> IncrementalAnalysis | None:
    units = previous.units
    tokens = previous.tokens
    w0 = units[k0].stmt.span.start if k0 > 0 else 0
    at_end = k1 >= len(units)
    q_old = units[k1].stmt.span.start if not at_end else len(previous.source)
    q_new = q_old + delta
    text = source[w0:q_new]
    parsed = parse(text)
    body = parsed.program.body
    window_tokens = parsed.tokens
    if not at_end:
        # The window's last statement must be complete and read without error, so that the
        # statement after the window starts exactly as it did.
        if not body or not window_tokens:
            return None
        last_start = body[-1].span.start
        if any(d.span.end >= last_start for d in parsed.diagnostics):
            return None
        if isinstance(body[-1], ast.ErrorStmt) or _has_error_stmt(body[-1]):
            return None
        if _first_repair(window_tokens) >= 0:
            return None
        real = [t for t in window_tokens if t.value != ""]
        gap = text[real[-1].end_pos :] if real else text
        if "\n" not in gap and "\r" not in gap:
            return None
    elif (
        k0 > 0
        and not body
        and (parsed.program.span.start or (not window_tokens and parsed.diagnostics))
    ):
        # The parser gave up on the window (its program is then empty, placed at the end of
        # the text, or it was nested too deeply to read): what is then left of the statements
        # before the window only the whole text tells.
        raise _GaveUp
    if _count_syntax(previous.syntax, w0, q_old) + len(parsed.diagnostics) >= _MAX_SYNTAX:
        return None  # where the parser stops reporting depends on the whole text
    # Where the window starts, in the lexer's lines and columns.
    if k0 > 0:
        first = units[k0].stmt.span
        base = _Shift(w0, first.line - 1, 1, first.column - 1)
    else:
        base = _Shift(0, 0, 0, 0)
    if not base.identity:
        seen: set[int] = set()
        for stmt in body:
            found: dict[int, Span] = {}
            _tree_spans(stmt, found)
            base.spans(found.values(), seen)
        base.spans((span for span, _text in parsed.program.comments), seen)
        base.spans((d.span for d in parsed.diagnostics), seen)
        for tok in window_tokens:
            base.token(tok)
    window_syntax = [base.message(d) for d in parsed.diagnostics]
    if not at_end:
        # The parse of the window alone ended with a virtual ';' at its end where the whole
        # text has a line-break ';' right after the last real token; and the next statement's
        # first token does follow a line break.
        last = window_tokens[-1]
        if last.value == "" and last.type == "SEMI":
            real_last = next(t for t in reversed(window_tokens) if t.value != "")
            window_tokens[-1] = make_tok(
                "NLSEMI",
                "",
                Span(
                    real_last.end_line,
                    real_last.end_column,
                    real_last.end_line,
                    real_last.end_column,
                    real_last.end_pos,
                    real_last.end_pos,
                ),
            )
    if window_tokens and k0 > 0:
        i = _first_token(window_tokens, w0)
        if i < len(window_tokens):
            window_tokens[i].nl_before = tokens[_first_token(tokens, w0)].nl_before
    new_units = [_make_unit(stmt) for stmt in body]
    _mark_level(window_tokens, new_units)  # the window starts with no bracket open
    # What follows the window moves by the edit's size (and lines, and columns on its line).
    if at_end:
        suffix_units: list[Unit] = []
        tail_repair = -1
        tail_tokens: list[Tok] = []
        tail_comments: list[tuple[Span, str]] = []
        tail_syntax: list[Diagnostic] = []
    else:
        breaks = list(_LINE_BREAK.finditer(text))
        first_line = units[k0].stmt.span.line if k0 > 0 else 1
        first_column = units[k0].stmt.span.column if k0 > 0 else 1
        if breaks:
            new_line = first_line + len(breaks)
            new_column = len(text) - breaks[-1].end() + 1
        else:
            new_line = first_line
            new_column = first_column + len(text)
        q_span = units[k1].stmt.span
        shift = _Shift(delta, new_line - q_span.line, q_span.line, new_column - q_span.column, True)
        suffix_units = units[k1:]
        q_tok = _first_token(tokens, q_old)
        tail_tokens = tokens[q_tok:]
        c = bisect.bisect_left(previous.program.comments, q_old, key=lambda c: c[0].start)
        tail_comments = previous.program.comments[c:]
        s = bisect.bisect_left(previous.syntax, q_old, key=lambda d: d.span.start)
        tail_syntax = previous.syntax[s:]
        tail_repair = -1
        if not shift.identity:
            # Syntax diagnostics may share spans with the tree: they get moved copies, taken
            # before the tree's spans move.
            tail_syntax = [
                shift.message(dataclasses.replace(d, span=shift.copy(d.span))) for d in tail_syntax
            ]
            tail_comments = [(shift.copy(span), body) for span, body in tail_comments]
            for unit in suffix_units:
                shift.distinct_spans(unit.spans)
                if shift.lines or shift.columns:
                    unit.local = [shift.message(d) for d in unit.local]
            shift.tokens(tail_tokens)
        if previous.first_repair >= q_old:
            tail_repair = previous.first_repair + delta
        elif previous.first_repair >= w0:  # the first one was in the window: look further
            tail_repair = _first_repair(tail_tokens)
    previous.consumed = True
    head_tokens = tokens[: _first_token(tokens, w0)] if k0 > 0 else []
    if k0 > 0:
        c = bisect.bisect_left(previous.program.comments, w0, key=lambda c: c[0].start)
        head_comments = previous.program.comments[:c]
        s = bisect.bisect_left(previous.syntax, w0, key=lambda d: d.span.start)
        head_syntax = previous.syntax[:s]
    else:
        head_comments, head_syntax = [], []
    syntax = head_syntax + window_syntax + tail_syntax
    repairs = [r for r in (_first_repair(window_tokens), tail_repair) if r >= 0]
    if 0 <= previous.first_repair < w0:
        repairs = [previous.first_repair]
    return _assemble(
        source,
        units[:k0] + new_units + suffix_units,
        head_tokens + window_tokens + tail_tokens,
        head_comments + parsed.program.comments + tail_comments,
        syntax,
        min(repairs, default=-1),
    )
