"""Semantic checks on a parsed .flow program, each with a stable code from diagnostics.py.

`check(program)` never raises on any tree the parser can produce (including ErrorStmt and
invalid assignment targets left for this module to report)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rhythm.core import ast, regex, stdlib
from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.symbols import Binding, SymbolTable, build_symbols

_LOOPS = (ast.For, ast.ForOf, ast.ForIn, ast.While, ast.DoWhile)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.7)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in candidates}
    return lowered.get(name.lower())


def _join(a: Span, b: Span) -> Span:
    return Span(a.line, a.column, b.end_line, b.end_column, a.start, b.end)


def _plural(n: int) -> str:
    return "argument" if n == 1 else "arguments"


class _Checker:
    def __init__(self, program: ast.Program, symbols: SymbolTable) -> None:
        self.program = program
        self.symbols = symbols
        self.out: list[Diagnostic] = []
        self.ref_by_node = {id(r.node): r for r in symbols.references if r.node is not None}

    def add(
        self,
        code: Code,
        message: str,
        span: Span,
        severity: Severity = Severity.ERROR,
        replacement: str | None = None,
    ) -> None:
        self.out.append(Diagnostic(code, severity, message, span, replacement))

    def global_of(self, node: object) -> Binding | None:
        """The stdlib global an identifier refers to (None when shadowed or not an identifier)."""
        if not isinstance(node, ast.Identifier):
            return None
        ref = self.ref_by_node.get(id(node))
        if ref is None or ref.binding is None or ref.binding.kind != "global":
            return None
        return ref.binding

    # ------------------------------------------------------------ names

    def names(self) -> None:
        globals_ = self.symbols.global_scope.bindings
        member_objects = {id(n.object) for n in ast.walk(self.program) if isinstance(n, ast.Member)}
        for ref in self.symbols.references:
            if ref.binding is None:
                name = ref.name
                as_object = ref.node is not None and id(ref.node) in member_objects
                std = did_you_mean(name, [g for g in globals_ if g[:1].isupper()])
                if as_object and name[:1].isupper() and std is not None:
                    self.add(
                        Code.UNKNOWN_GLOBAL,
                        f"unknown stdlib object '{name}': did you mean '{std}'?",
                        ref.span,
                        replacement=std,
                    )
                    continue
                visible = self.symbols.visible_at(ref.span.start, declared_before=False)
                guess = did_you_mean(name, visible)
                message = f"'{name}' is not defined"
                if guess is not None:
                    message += f": did you mean '{guess}'?"
                self.add(Code.UNDEFINED_NAME, message, ref.span, replacement=guess)
            elif ref.write and ref.binding.kind in ("const", "global"):
                b = ref.binding
                if b.kind == "global":
                    message = f"cannot assign to '{b.name}': it is part of the stdlib"
                else:
                    message = (
                        f"cannot assign to '{b.name}': it is a constant "
                        f"(declared with const at {b.span.line}:{b.span.column}); use let"
                    )
                self.add(Code.CONST_ASSIGN, message, ref.span)
        for dup in self.symbols.duplicates:
            first = dup.first
            self.add(
                Code.DUPLICATE_DECLARATION,
                f"'{dup.name}' is already declared in this scope "
                f"(at {first.span.line}:{first.span.column})",
                dup.span,
            )

    def unused(self) -> None:
        for b in self.symbols.bindings:
            if b.kind == "catch" or b.name.startswith("_") or b.reads:
                continue
            if (
                b.kind == "param"
                and isinstance(b.declaration, ast.Arrow)
                and self.later_param_used(b)
            ):
                continue
            what = {"param": "parameter", "function": "function"}.get(b.kind, "variable")
            self.add(
                Code.UNUSED_VARIABLE,
                f"{what} '{b.name}' is never used (prefix it with '_' to keep it)",
                b.span,
                Severity.WARNING,
            )

    def later_param_used(self, b: Binding) -> bool:
        for other in b.scope.bindings.values():
            if other.kind == "param" and other.span.start > b.span.start and other.reads:
                return True
        return False

    # ------------------------------------------------------------ structure

    switches = 0  # switch statements around the statement being checked

    def stmts(self, body: list[object], loop: bool, arrow: bool) -> None:
        dead_from: object | None = None
        for i, stmt in enumerate(body):
            self.stmt(stmt, loop, arrow)
            if dead_from is None and i + 1 < len(body) and _terminates(stmt):
                # A function declaration after a return is hoisted: it is not dead.
                skip = (ast.Empty, ast.ErrorStmt, ast.FunctionDecl)
                rest = [s for s in body[i + 1 :] if not isinstance(s, skip)]
                if rest:
                    dead_from = rest[0]
                    self.add(
                        Code.UNREACHABLE_CODE,
                        "unreachable code",
                        _join(rest[0].span, rest[-1].span),  # type: ignore[attr-defined]
                        Severity.WARNING,
                    )

    def stmt(self, stmt: object, loop: bool, arrow: bool) -> None:
        if isinstance(stmt, ast.Block):
            self.stmts(stmt.body, loop, arrow)
        elif isinstance(stmt, ast.Switch):
            self.expr(stmt.discriminant, arrow)
            self.switches += 1  # `break` leaves the switch; `continue` still needs a loop
            for case in stmt.cases:
                self.expr(case.test, arrow)
                self.stmts(case.body, loop, arrow)
            self.switches -= 1
        elif isinstance(stmt, ast.Break):
            if not loop and not self.switches:
                self.add(Code.BREAK_OUTSIDE_LOOP, "'break' outside a loop", stmt.span)
        elif isinstance(stmt, ast.Continue):
            if not loop:
                self.add(Code.CONTINUE_OUTSIDE_LOOP, "'continue' outside a loop", stmt.span)
        elif isinstance(stmt, _LOOPS):
            for child in ast.iter_children(stmt):
                if child is stmt.body:
                    self.stmt(child, True, arrow)
                else:
                    self.expr(child, arrow)
        elif isinstance(stmt, ast.If):
            self.expr(stmt.test, arrow)
            self.stmt(stmt.consequent, loop, arrow)
            if stmt.alternate is not None:
                self.stmt(stmt.alternate, loop, arrow)
        elif isinstance(stmt, ast.Try):
            self.stmt(stmt.block, loop, arrow)
            if stmt.param is not None:
                self.expr(stmt.param, arrow)
            if stmt.handler is not None:
                self.stmt(stmt.handler, loop, arrow)
            if stmt.finalizer is not None:
                self.stmt(stmt.finalizer, loop, arrow)
        elif isinstance(stmt, ast.Node):
            for child in ast.iter_children(stmt):
                self.expr(child, arrow)

    def expr(self, node: object, arrow: bool) -> None:
        if not isinstance(node, ast.Node):
            return
        if isinstance(node, ast.Arrow):
            # `arrow` means "await is not allowed here": inside a plain arrow, not an async one.
            inner = not node.is_async
            for p in [*node.params, node.rest]:
                self.expr(p, True)
            if isinstance(node.body, ast.Block):
                self.stmts(node.body.body, False, inner)
            else:
                self.expr(node.body, inner)
            return
        if isinstance(node, ast.Await) and arrow:
            self.add(
                Code.AWAIT_IN_ARROW,
                "'await' can only be used at the workflow's top level or inside an async "
                "function: mark the function async, e.g. "
                '`await Promise.all(items.map(async (x) => await Task.run("t", x)))`',
                node.span,
            )
        elif isinstance(node, ast.Unary) and node.op == "delete":
            if not isinstance(node.operand, (ast.Member, ast.Index)):
                self.add(
                    Code.INVALID_ASSIGNMENT_TARGET,
                    "'delete' takes a property (`delete obj.key`, `delete obj[key]`); "
                    "variables cannot be deleted",
                    node.span,
                )
        elif isinstance(node, ast.Assign):
            self.target(node.target, node.op == "=")
        elif isinstance(node, ast.Update):
            self.target(node.target, False)
        elif isinstance(node, ast.Member):
            self.member(node)
        elif isinstance(node, ast.Call):
            self.call(node)
            self.regexp_call(node)
        elif isinstance(node, ast.RegExpLit):
            self.regexp(node.pattern, node.flags, node.span, literal=True)
        for child in ast.iter_children(node):
            self.expr(child, arrow)

    def target(self, target: object, pattern_ok: bool) -> None:
        if isinstance(target, ast.Identifier):
            return
        if isinstance(target, (ast.Member, ast.Index)) and not target.optional:
            return
        if pattern_ok and isinstance(target, (ast.ObjectPattern, ast.ArrayPattern)):
            return
        span = target.span if isinstance(target, ast.Node) else self.program.span
        if isinstance(target, (ast.Member, ast.Index)):
            message = "invalid assignment target: an optional chain ('?.') cannot be assigned to"
        elif isinstance(target, (ast.ObjectLit, ast.ArrayLit)) and pattern_ok:
            message = "invalid assignment target: destructuring in .flow can only assign names"
        else:
            message = "invalid assignment target: only a name, a member (a.b, a[i]) or a pattern can be assigned"
        self.add(Code.INVALID_ASSIGNMENT_TARGET, message, span)

    # ------------------------------------------------------------ stdlib

    def member_table(self, obj: object) -> tuple[str, dict[str, stdlib.Builtin]] | None:
        g = self.global_of(obj)
        if g is not None and isinstance(g.value, stdlib.StdObject) and not g.value.open:
            return g.value.name, g.value.members
        if isinstance(obj, (ast.StringLit, ast.TemplateLit)):
            return "string", getattr(stdlib, "STRING_MEMBERS", {})
        if isinstance(obj, ast.ArrayLit):
            return "array", getattr(stdlib, "ARRAY_MEMBERS", {})
        if isinstance(obj, ast.RegExpLit):
            return "regexp", stdlib.REGEXP_MEMBERS
        return None

    def member(self, node: ast.Member) -> None:
        found = self.member_table(node.object)
        if found is None:
            return
        owner, members = found
        if not members or node.name in members:
            return
        guess = did_you_mean(node.name, members)
        message = f"'{node.name}' is not a member of {owner}"
        if guess is not None:
            message += f": did you mean '{guess}'?"
        self.add(Code.UNKNOWN_MEMBER, message, node.name_span, replacement=guess)

    def call(self, node: ast.Call) -> None:
        builtin: stdlib.Builtin | None = None
        callee = node.callee
        if isinstance(callee, ast.Member):
            found = self.member_table(callee.object)
            if found is not None:
                builtin = found[1].get(callee.name)
        else:
            g = self.global_of(callee)
            if g is not None and isinstance(g.value, stdlib.Builtin):
                builtin = g.value
        if builtin is None or builtin.kind == "property":
            return
        if any(isinstance(a, ast.Spread) for a in node.arguments):
            return
        got = len(node.arguments)
        lo, hi = builtin.min_args, builtin.max_args
        if got >= lo and (hi is None or got <= hi):
            return
        if hi is None:
            want = f"at least {lo} {_plural(lo)}"
        elif lo == hi:
            want = f"{lo} {_plural(lo)}"
        else:
            want = f"{lo} to {hi} arguments"
        self.add(
            Code.ARGUMENT_COUNT,
            f"{builtin.qualified_name} expects {want}, got {got}: {builtin.signature}",
            node.span,
        )

    # ------------------------------------------------------------ regular expressions

    def regexp(self, pattern: str, flags: str, span: Span, literal: bool) -> None:
        """Refuses, at compile time, a pattern JavaScript rejects or .flow cannot run exactly."""
        problem = regex.problem(pattern, flags)
        if problem is None:
            return
        error, in_flags = problem
        at = span
        if literal:  # point at the construct: the literal is on one line
            offset = len(pattern) + 2 if in_flags else error.offset + 1
            start = span.start + offset
            column = span.column + offset
            at = Span(span.line, column, span.line, column + 1, start, start + 1)
        shown = f"/{pattern}/{flags}" if literal else f"RegExp({pattern!r}, {flags!r})"
        if isinstance(error, regex.RegexUnsupported):
            self.add(
                Code.UNSUPPORTED_REGEX,
                f"regular expression {shown} is not supported in .flow: {error.message}",
                at,
            )
        else:
            self.add(Code.SYNTAX, f"invalid regular expression {shown}: {error.message}", at)

    def regexp_call(self, node: ast.Call) -> None:
        """`RegExp("...", "...")` with literal strings is checked like a regex literal."""
        g = self.global_of(node.callee)
        if g is None or g.name != "RegExp":
            return
        args = node.arguments
        if not args or not all(isinstance(a, ast.StringLit) for a in args[:2]):
            return
        flags = args[1].value if len(args) > 1 else ""  # type: ignore[union-attr]
        pattern = regex.escape_source(args[0].value)  # type: ignore[union-attr]
        self.regexp(pattern, flags, node.span, literal=False)

    def run(self) -> list[Diagnostic]:
        self.names()
        self.stmts(self.program.body, False, False)
        self.unused()
        return self.out


def _terminates(stmt: object) -> bool:
    """Whether control never falls through `stmt` to the next statement."""
    if isinstance(stmt, (ast.Return, ast.Throw, ast.Break, ast.Continue)):
        return True
    if isinstance(stmt, ast.Block):
        return any(_terminates(s) for s in stmt.body)
    if isinstance(stmt, ast.If):
        return (
            stmt.alternate is not None
            and _terminates(stmt.consequent)
            and _terminates(stmt.alternate)
        )
    if isinstance(stmt, ast.Try):
        if stmt.finalizer is not None and _terminates(stmt.finalizer):
            return True
        return _terminates(stmt.block) and (stmt.handler is None or _terminates(stmt.handler))
    return False


def check(program: ast.Program, symbols: SymbolTable | None = None) -> list[Diagnostic]:
    """Semantic diagnostics for `program`, sorted by position. Never raises."""
    try:
        table = symbols if symbols is not None else build_symbols(program)
        out = _Checker(program, table).run()
    except RecursionError:
        return []  # only for absurdly deep nesting, which the parser already rejects
    out.sort(key=lambda d: (d.span.start, d.span.end, d.code.value))
    return out
