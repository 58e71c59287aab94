"""Semantic checks on a parsed .flow program, each with a stable code from diagnostics.py.

`check(program)` never raises on any tree the parser can produce (including ErrorStmt and
invalid assignment targets left for this module to report)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from rhythm.core import ast, regex, stdlib
from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity
from rhythm.core.symbols import Binding, Reference, SymbolTable, build_symbols

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
        self.labels = []
        # Members written or deleted (`s.x = 1`, `delete s.x`): not checked as reads of a member
        # (writing a property of a string throws a TypeError at run time, as in JavaScript).
        self.not_read: set[int] = set()

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
    # Labels around the statement being checked (within the current function): (name, whether
    # the labelled statement is a loop, which `continue name` needs).
    labels: list[tuple[str, bool]]

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
            if stmt.label is not None:
                self.jump_label(stmt.label, stmt.label_span, "break")
            elif not loop and not self.switches:
                self.add(Code.BREAK_OUTSIDE_LOOP, "'break' outside a loop", stmt.span)
        elif isinstance(stmt, ast.Continue):
            if stmt.label is not None:
                self.jump_label(stmt.label, stmt.label_span, "continue")
            elif not loop:
                self.add(Code.CONTINUE_OUTSIDE_LOOP, "'continue' outside a loop", stmt.span)
        elif isinstance(stmt, ast.Labeled):
            self.labeled(stmt, loop, arrow)
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

    def labeled(self, stmt: ast.Labeled, loop: bool, arrow: bool) -> None:
        """`name: statement`, with JavaScript's early errors for labels."""
        names: list[ast.Labeled] = [stmt]
        body = stmt.body
        while isinstance(body, ast.Labeled):
            names.append(body)
            body = body.body
        is_loop = isinstance(body, _LOOPS)
        pushed = 0
        for node in names:
            if any(name == node.label for name, _ in self.labels):
                self.add(
                    Code.INVALID_LABEL,
                    f"label '{node.label}' is already declared around this statement",
                    node.label_span,
                )
            self.labels.append((node.label, is_loop))
            pushed += 1
        if isinstance(body, ast.FunctionDecl | ast.VarDecl):
            what = (
                "a function declaration" if isinstance(body, ast.FunctionDecl) else "a declaration"
            )
            self.add(
                Code.INVALID_LABEL,
                f"a label cannot be put on {what}: wrap it in a block `{{ ... }}`",
                stmt.label_span,
            )
        try:
            self.stmt(body, loop, arrow)
        finally:
            del self.labels[len(self.labels) - pushed :]

    def jump_label(self, label: str, span: Span, keyword: str) -> None:
        """`break label` / `continue label`: the label must be around it (in this function)."""
        for name, is_loop in reversed(self.labels):
            if name != label:
                continue
            if keyword == "continue" and not is_loop:
                self.add(
                    Code.CONTINUE_OUTSIDE_LOOP,
                    f"'continue {label}': '{label}' does not label a loop",
                    span,
                )
            return
        known = [name for name, _ in self.labels]
        guess = did_you_mean(label, known)
        message = f"undefined label '{label}'"
        if guess is not None:
            message += f": did you mean '{guess}'?"
        elif not known:
            message += f": '{keyword} {label}' must be inside a statement labelled '{label}:'"
        self.add(Code.UNDEFINED_LABEL, message, span, replacement=guess)

    def expr(self, node: object, arrow: bool) -> None:
        if not isinstance(node, ast.Node):
            return
        if isinstance(node, ast.Arrow):
            # `arrow` means "await is not allowed here": inside a plain arrow, not an async one.
            inner = not node.is_async
            for p in [*node.params, node.rest]:
                self.expr(p, True)
            outer_labels, self.labels = self.labels, []  # labels do not reach into a function
            outer_switches, self.switches = self.switches, 0
            try:
                if isinstance(node.body, ast.Block):
                    self.stmts(node.body.body, False, inner)
                else:
                    self.expr(node.body, inner)
            finally:
                self.labels, self.switches = outer_labels, outer_switches
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
            self.not_read.add(id(node.operand))
            if not isinstance(node.operand, (ast.Member, ast.Index)):
                self.add(
                    Code.INVALID_ASSIGNMENT_TARGET,
                    "'delete' takes a property (`delete obj.key`, `delete obj[key]`); "
                    "variables cannot be deleted",
                    node.span,
                )
        elif isinstance(node, ast.Assign):
            self.target(node.target, node.op == "=")
            self.not_read.add(id(node.target))
        elif isinstance(node, ast.Update):
            self.target(node.target, False)
            self.not_read.add(id(node.target))
        elif isinstance(node, ast.Member):
            self.member(node)
        elif isinstance(node, ast.Call):
            self.call(node)
            self.regexp_call(node)
        elif isinstance(node, ast.RegExpLit):
            self.regexp(node.pattern, node.flags, node.span, literal=True)
        elif isinstance(node, ast.New):
            self.new(node)
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
        """(what `obj` is, its members) when the checker knows: a stdlib global (`Math`), or a
        value whose kind it can tell (see `kind_of`) and whose kind has a table of members."""
        g = self.global_of(obj)
        if g is not None:
            members = stdlib.static_members(g.name)
            return (g.name, members) if members else None
        kind = self.kind_of(obj, 0)
        members = stdlib.value_members(kind) if kind is not None else None
        return (kind, members) if kind is not None and members else None

    def kind_of(self, node: object, depth: int) -> str | None:
        """The kind of value ("string", "array", "number", "date", ...) `node` evaluates to, when
        that is plain from the text: a literal, an operator whose result kind is fixed, a builtin
        whose table entry names its result's kind, `new Date(...)`, or a constant declared with
        one inside a function or block. Top-level variables are not followed: each top-level
        statement is checked on its own by the language server (incremental.py)."""
        if depth > 20:
            return None
        if isinstance(node, (ast.StringLit, ast.TemplateLit)):
            return "string"
        if isinstance(node, ast.NumberLit):
            return "number"
        if isinstance(node, ast.BoolLit):
            return "boolean"
        if isinstance(node, ast.ArrayLit):
            return "array"
        if isinstance(node, ast.RegExpLit):
            return "regexp"
        if isinstance(node, ast.Unary):
            return UNARY_KINDS.get(node.op)
        if isinstance(node, ast.Binary):
            if node.op != "+":
                return BINARY_KINDS.get(node.op)
            left, right = self.kind_of(node.left, depth + 1), self.kind_of(node.right, depth + 1)
            if "string" in (left, right):
                return "string"
            return "number" if left == right == "number" else None
        if isinstance(node, ast.Conditional):
            kind = self.kind_of(node.consequent, depth + 1)
            return kind if kind == self.kind_of(node.alternate, depth + 1) else None
        if isinstance(node, ast.Call):
            if not isinstance(node.callee, ast.Member):
                g = self.global_of(node.callee)
                return stdlib.call_kind(g.name) if g is not None else None
            builtin = self.callee_builtin(node.callee)
            return stdlib.kind_of_returns(builtin.returns) if builtin is not None else None
        if isinstance(node, ast.Member):
            found = self.member_table(node.object)
            member = found[1].get(node.name) if found is not None else None
            if member is not None and member.kind == "property":
                return stdlib.kind_of_returns(member.returns)
            return None
        if isinstance(node, ast.Identifier):
            return self.variable_kind(node, depth)
        if isinstance(node, ast.New):
            g = self.global_of(node.callee)
            return stdlib.INSTANCE_KINDS.get(g.name) if g is not None else None
        return None

    def variable_kind(self, node: ast.Identifier, depth: int) -> str | None:
        """The kind of a constant (or a `let` never assigned again) declared in a function or
        block with an initial value whose kind is plain."""
        ref = self.ref_by_node.get(id(node))
        b = ref.binding if ref is not None else None
        if b is None or b.kind not in ("const", "let") or b.written:
            return None
        if b.scope.kind in ("program", "global") or not isinstance(b.declaration, ast.VarDecl):
            return None
        for d in b.declaration.declarations:
            target = d.target
            if isinstance(target, ast.Identifier) and target.span == b.span:
                return self.kind_of(d.init, depth + 1) if d.init is not None else None
        return None

    def callee_builtin(self, callee: object) -> stdlib.Builtin | None:
        """The stdlib function or method a call's callee names, when the checker knows it."""
        if isinstance(callee, ast.Member):
            found = self.member_table(callee.object)
            return found[1].get(callee.name) if found is not None else None
        g = self.global_of(callee)
        if g is not None and isinstance(g.value, stdlib.Builtin):
            return g.value
        return None

    def member(self, node: ast.Member) -> None:
        if id(node) in self.not_read:
            return
        found = self.member_table(node.object)
        if found is None:
            return
        owner, members = found
        if node.name in members:
            return
        guess = did_you_mean(node.name, members)
        message = f"'{node.name}' is not a member of {owner}"
        if guess is not None:
            message += f": did you mean '{guess}'?"
        self.add(Code.UNKNOWN_MEMBER, message, node.name_span, replacement=guess)

    def call(self, node: ast.Call) -> None:
        callee = node.callee
        g = None if isinstance(callee, ast.Member) else self.global_of(callee)
        if g is not None and isinstance(g.value, stdlib.StdObject):
            builtin = g.value.constructor  # `Error("x")`, `Date()`: a call of the constructor
            if g.name in ("Map", "Set"):
                self.add(
                    Code.NOT_A_CONSTRUCTOR,
                    f"{g.name} must be called with 'new': `new {g.name}(...)`",
                    node.span,
                )
                return
        else:
            builtin = self.callee_builtin(callee)
        self.arity(node, builtin)

    def new(self, node: ast.New) -> None:
        """`new C(...)` constructs only the builtin classes; anything else knowable here is an
        error (the VM throws JavaScript's TypeError "C is not a constructor" for the rest)."""
        callee = node.callee
        g = self.global_of(callee)
        text = ast.callee_text(callee)
        known = ", ".join(stdlib.CONSTRUCTORS)
        if g is not None:
            if isinstance(g.value, stdlib.StdObject) and g.value.constructor is not None:
                self.arity(node, g.value.constructor)
                return
            if isinstance(g.value, stdlib.Builtin) and g.name in stdlib.CONSTRUCTORS:
                self.arity(node, g.value)  # `new RegExp(...)`, like `RegExp(...)`
                self.regexp_call(node)
                return
            self.add(
                Code.NOT_A_CONSTRUCTOR,
                f"{text} is not a constructor: `new` works with {known}",
                callee.span,
            )
            return
        if isinstance(callee, ast.Member) and self.global_of(callee.object) is not None:
            self.add(
                Code.NOT_A_CONSTRUCTOR,
                f"{text} is not a constructor: `new` works with {known}",
                callee.span,
            )
            return
        ref = self.ref_by_node.get(id(callee)) if isinstance(callee, ast.Identifier) else None
        if ref is not None:
            self.new_of_variable(ref, node, text)

    def new_of_variable(self, ref: Reference, node: ast.New, text: str) -> None:
        """`new f()` where `f` is a function declaration or a const arrow: an error."""
        if ref.binding is not None and is_function_binding(ref.binding):
            self.add(*new_of_function(node, text))

    def arity(self, node: ast.Call | ast.New, builtin: stdlib.Builtin | None) -> None:
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
        # Legal JavaScript either way: missing arguments are undefined, extra ones are ignored.
        effect = "the missing ones are undefined" if got < lo else "the extra ones are ignored"
        self.add(
            Code.ARGUMENT_COUNT,
            f"{builtin.qualified_name} expects {want}, got {got} ({effect}): {builtin.signature}",
            node.span,
            Severity.WARNING,
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

    def regexp_call(self, node: ast.Call | ast.New) -> None:
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


# Operators whose result is always of one kind.
UNARY_KINDS = {"!": "boolean", "typeof": "string", "-": "number", "+": "number", "~": "number"}
BINARY_KINDS = {
    **dict.fromkeys(("-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>"), "number"),
    **dict.fromkeys(("<", "<=", ">", ">=", "==", "!=", "===", "!==", "in"), "boolean"),
}


def new_of_function(node: ast.New, text: str) -> tuple[Code, str, Span]:
    known = ", ".join(stdlib.CONSTRUCTORS)
    return (
        Code.NOT_A_CONSTRUCTOR,
        f"'{text}' is a function, not a class: .flow has no `new` for its own functions "
        f"(only for {known}); call {text}(...) and return an object instead",
        node.span,
    )


def is_function_binding(b: Binding) -> bool:
    """Whether `b` is a function declaration or a constant holding an arrow function."""
    if b.kind == "function":
        return True
    decl = b.declaration
    if b.kind != "const" or not isinstance(decl, ast.VarDecl):
        return False
    return any(
        isinstance(d.target, ast.Identifier)
        and d.target.name == b.name
        and isinstance(d.init, ast.Arrow)
        for d in decl.declarations
    )


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
