"""Scope resolution for .flow programs, shared by the checker and the language server.

`build_symbols(program)` returns a `SymbolTable`: every binding (name, kind, declaration span, scope,
references, whether it is written after its declaration) and every identifier reference resolved to
its binding, with JavaScript's let/const block scoping: a block, a for-loop head, a catch clause and
an arrow function each open a scope; declarations are hoisted to the top of their scope (using one
before its declaration is the temporal dead zone, an error only at run time, so it still resolves).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rhythm.core import ast, stdlib
from rhythm.core.ast import Span

BindingKind = Literal["let", "const", "param", "catch", "global", "function"]
ScopeKind = Literal["global", "program", "block", "for", "catch", "arrow"]

# Used only when the stdlib table is not available.
_FALLBACK_GLOBALS = [
    "Task",
    "Timer",
    "Signal",
    "Workflow",
    "Promise",
    "Math",
    "JSON",
    "Object",
    "Array",
    "Inputs",
    "Context",
    "Number",
    "String",
    "Boolean",
    "parseInt",
    "parseFloat",
    "isNaN",
]


def global_names() -> dict[str, object]:
    table = getattr(stdlib, "GLOBALS", None)
    if table:
        return dict(table)
    return {name: None for name in _FALLBACK_GLOBALS}


@dataclass(eq=False)
class Reference:
    name: str
    span: Span
    scope: Scope
    binding: Binding | None = None
    read: bool = True
    write: bool = False
    node: ast.Identifier | None = None


@dataclass(eq=False)
class Binding:
    name: str
    kind: BindingKind
    span: Span  # the declaring identifier (NO_SPAN for globals)
    scope: Scope
    references: list[Reference] = field(default_factory=list)
    written: bool = False  # assigned after its declaration
    value: object = None  # for globals: the stdlib entry (StdObject / Builtin)
    declaration: ast.Node | None = None  # the VarDecl / Arrow / Try / For... that declares it

    @property
    def reads(self) -> int:
        return sum(1 for r in self.references if r.read)


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    span: Span
    parent: Scope | None = None
    bindings: dict[str, Binding] = field(default_factory=dict)
    children: list[Scope] = field(default_factory=list)
    node: ast.Node | None = None

    def lookup(self, name: str) -> Binding | None:
        scope: Scope | None = self
        while scope is not None:
            b = scope.bindings.get(name)
            if b is not None:
                return b
            scope = scope.parent
        return None


@dataclass
class Duplicate:
    """A second declaration of a name already declared in the same scope."""

    name: str
    span: Span
    first: Binding


@dataclass
class SymbolTable:
    global_scope: Scope
    root: Scope  # the program's top-level scope
    bindings: list[Binding] = field(default_factory=list)  # declared ones, in source order
    references: list[Reference] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    def scope_at(self, offset: int) -> Scope:
        """The innermost scope whose range holds `offset`."""
        scope = self.root
        while True:
            for child in scope.children:
                if child.span.start <= offset <= child.span.end and child.span is not ast.NO_SPAN:
                    scope = child
                    break
            else:
                return scope

    def reference_at(self, offset: int) -> Reference | None:
        for ref in self.references:
            if ref.span.start <= offset <= ref.span.end:
                return ref
        return None

    def binding_at(self, offset: int) -> Binding | None:
        """The binding declared or referenced at `offset` (for hover, definition, rename)."""
        for b in self.bindings:
            if b.span.start <= offset <= b.span.end:
                return b
        ref = self.reference_at(offset)
        return ref.binding if ref is not None else None

    def visible_at(self, offset: int, *, declared_before: bool = True) -> dict[str, Binding]:
        """Every name visible at `offset`, innermost first (inner ones shadow outer ones).
        With `declared_before`, let/const declared later in their scope are left out."""
        out: dict[str, Binding] = {}
        scope: Scope | None = self.scope_at(offset)
        while scope is not None:
            for name, b in scope.bindings.items():
                if name in out:
                    continue
                if declared_before and b.kind in ("let", "const") and b.span.start > offset:
                    continue
                out[name] = b
            scope = scope.parent
        return out


def pattern_names(pattern: object) -> list[ast.Identifier]:
    """The identifiers a binding pattern declares, in source order."""
    out: list[ast.Identifier] = []
    stack: list[object] = [pattern]
    while stack:
        p = stack.pop()
        if isinstance(p, ast.Identifier):
            out.append(p)
        elif isinstance(p, ast.AssignPattern):
            stack.append(p.target)
        elif isinstance(p, ast.ObjectPattern):
            if p.rest is not None:
                stack.append(p.rest)
            stack.extend(reversed([prop.value for prop in p.properties]))
        elif isinstance(p, ast.ArrayPattern):
            if p.rest is not None:
                stack.append(p.rest)
            stack.extend(reversed([e for e in p.elements if e is not None]))
    return out


class _Resolver:
    def __init__(self, program: ast.Program) -> None:
        self.global_scope = Scope("global", program.span)
        for name, value in global_names().items():
            self.global_scope.bindings[name] = Binding(
                name, "global", ast.NO_SPAN, self.global_scope, value=value
            )
        self.root = self.new_scope("program", program.span, self.global_scope, program)
        self.table = SymbolTable(self.global_scope, self.root)

    def new_scope(self, kind: ScopeKind, span: Span, parent: Scope, node: ast.Node | None) -> Scope:
        scope = Scope(kind, span, parent, node=node)
        parent.children.append(scope)
        return scope

    def declare(
        self, ident: ast.Identifier, kind: BindingKind, scope: Scope, node: ast.Node
    ) -> None:
        existing = scope.bindings.get(ident.name)
        if existing is None and scope.kind == "block" and scope.parent is not None:
            # `catch (e) { let e }` and `(a) => { let a }` redeclare in JavaScript's eyes.
            parent = scope.parent
            if parent.kind == "catch" and ident.name in parent.bindings:
                existing = parent.bindings[ident.name]
        if existing is not None:
            self.table.duplicates.append(Duplicate(ident.name, ident.span, existing))
            return
        b = Binding(ident.name, kind, ident.span, scope, declaration=node)
        scope.bindings[ident.name] = b
        self.table.bindings.append(b)

    def declare_pattern(
        self, pattern: object, kind: BindingKind, scope: Scope, node: ast.Node
    ) -> None:
        for ident in pattern_names(pattern):
            self.declare(ident, kind, scope, node)

    def reference(self, ident: ast.Identifier, scope: Scope, *, read: bool, write: bool) -> None:
        b = scope.lookup(ident.name)
        ref = Reference(ident.name, ident.span, scope, b, read=read, write=write, node=ident)
        self.table.references.append(ref)
        if b is not None:
            b.references.append(ref)
            if write:
                b.written = True

    # ------------------------------------------------------------ statements

    def statements(self, body: list[ast.Stmt], scope: Scope) -> None:
        for stmt in body:  # hoist: let/const are visible (in their dead zone) from the top
            if isinstance(stmt, ast.VarDecl):
                for d in stmt.declarations:
                    self.declare_pattern(d.target, stmt.kind, scope, stmt)
            elif isinstance(stmt, ast.FunctionDecl):
                self.declare(stmt.name, "function", scope, stmt)
        for stmt in body:
            self.stmt(stmt, scope)

    def nested(self, stmt: object, scope: Scope) -> None:
        """A statement in a single-statement position (if/loop body)."""
        if isinstance(stmt, ast.VarDecl):
            inner = self.new_scope("block", stmt.span, scope, stmt)
            self.statements([stmt], inner)
        else:
            self.stmt(stmt, scope)

    def stmt(self, stmt: object, scope: Scope) -> None:
        if isinstance(stmt, ast.VarDecl):
            for d in stmt.declarations:
                self.pattern_exprs(d.target, scope)
                self.expr(d.init, scope)
        elif isinstance(stmt, ast.ExprStmt):
            self.expr(stmt.expr, scope)
        elif isinstance(stmt, ast.FunctionDecl):
            self.expr(stmt.func, scope)
        elif isinstance(stmt, ast.Switch):
            self.expr(stmt.discriminant, scope)
            inner = self.new_scope("block", stmt.span, scope, stmt)
            body = [s for case in stmt.cases for s in case.body]
            for s in body:  # hoisted over every case: the cases share one scope
                if isinstance(s, ast.VarDecl):
                    for d in s.declarations:
                        self.declare_pattern(d.target, s.kind, inner, s)
                elif isinstance(s, ast.FunctionDecl):
                    self.declare(s.name, "function", inner, s)
            for case in stmt.cases:
                self.expr(case.test, inner)
                for s in case.body:
                    self.stmt(s, inner)
        elif isinstance(stmt, ast.Block):
            self.statements(stmt.body, self.new_scope("block", stmt.span, scope, stmt))
        elif isinstance(stmt, ast.If):
            self.expr(stmt.test, scope)
            self.nested(stmt.consequent, scope)
            self.nested(stmt.alternate, scope)
        elif isinstance(stmt, (ast.ForOf, ast.ForIn)):
            head = self.new_scope("for", stmt.span, scope, stmt)
            source = stmt.iterable if isinstance(stmt, ast.ForOf) else stmt.object
            if stmt.kind is not None:
                self.declare_pattern(stmt.target, stmt.kind, head, stmt)
                self.pattern_exprs(stmt.target, head)
            else:
                self.assign_target(stmt.target, head, read=False)
            self.expr(source, head)
            self.nested(stmt.body, head)
        elif isinstance(stmt, ast.For):
            head = self.new_scope("for", stmt.span, scope, stmt)
            if isinstance(stmt.init, ast.VarDecl):
                self.statements([stmt.init], head)
            else:
                self.expr(stmt.init, head)
            self.expr(stmt.test, head)
            self.expr(stmt.update, head)
            self.nested(stmt.body, head)
        elif isinstance(stmt, ast.While):
            self.expr(stmt.test, scope)
            self.nested(stmt.body, scope)
        elif isinstance(stmt, ast.DoWhile):
            self.nested(stmt.body, scope)
            self.expr(stmt.test, scope)
        elif isinstance(stmt, (ast.Return, ast.Throw)):
            self.expr(stmt.argument, scope)
        elif isinstance(stmt, ast.Labeled):
            self.nested(stmt.body, scope)
        elif isinstance(stmt, ast.Try):
            self.stmt(stmt.block, scope)
            if stmt.handler is not None:
                start = stmt.param.span if stmt.param is not None else stmt.handler.span
                span = Span(
                    start.line,
                    start.column,
                    stmt.handler.span.end_line,
                    stmt.handler.span.end_column,
                    start.start,
                    stmt.handler.span.end,
                )
                catch = self.new_scope("catch", span, scope, stmt)
                if stmt.param is not None:
                    self.declare_pattern(stmt.param, "catch", catch, stmt)
                    self.pattern_exprs(stmt.param, catch)
                self.stmt(stmt.handler, catch)
            if stmt.finalizer is not None:
                self.stmt(stmt.finalizer, scope)

    # ------------------------------------------------------------ expressions

    def pattern_exprs(self, pattern: object, scope: Scope) -> None:
        """Defaults and computed keys inside a binding pattern are expressions."""
        if isinstance(pattern, ast.AssignPattern):
            self.pattern_exprs(pattern.target, scope)
            self.expr(pattern.default, scope)
        elif isinstance(pattern, ast.ObjectPattern):
            for prop in pattern.properties:
                if prop.computed and isinstance(prop.key, ast.Node):
                    self.expr(prop.key, scope)
                self.pattern_exprs(prop.value, scope)
        elif isinstance(pattern, ast.ArrayPattern):
            for e in pattern.elements:
                self.pattern_exprs(e, scope)
            self.pattern_exprs(pattern.rest, scope)

    def assign_target(self, target: object, scope: Scope, *, read: bool) -> None:
        if isinstance(target, ast.Identifier):
            self.reference(target, scope, read=read, write=True)
        elif isinstance(target, (ast.ObjectPattern, ast.ArrayPattern, ast.AssignPattern)):
            for ident in pattern_names(target):
                self.reference(ident, scope, read=False, write=True)
            self.pattern_exprs(target, scope)
        else:
            self.expr(target, scope)

    def expr(self, node: object, scope: Scope) -> None:
        if node is None:
            return
        if isinstance(node, ast.Identifier):
            self.reference(node, scope, read=True, write=False)
        elif isinstance(node, ast.Assign):
            self.assign_target(node.target, scope, read=node.op != "=")
            self.expr(node.value, scope)
        elif isinstance(node, ast.Update):
            self.assign_target(node.target, scope, read=True)
        elif isinstance(node, ast.Member):
            self.expr(node.object, scope)
        elif isinstance(node, ast.Property):
            if node.computed:
                self.expr(node.key, scope)
            self.expr(node.value, scope)
        elif isinstance(node, ast.Arrow):
            inner = self.new_scope("arrow", node.span, scope, node)
            params = [*node.params, *([node.rest] if node.rest is not None else [])]
            for p in params:
                self.declare_pattern(p, "param", inner, node)
            for p in params:
                self.pattern_exprs(p, inner)
            if isinstance(node.body, ast.Block):
                self.statements(node.body.body, inner)  # the body shares the parameters' scope
            else:
                self.expr(node.body, inner)
        elif isinstance(node, ast.Node):
            for child in ast.iter_children(node):
                self.expr(child, scope)


def build_symbols(program: ast.Program) -> SymbolTable:
    resolver = _Resolver(program)
    resolver.statements(program.body, resolver.root)
    table = resolver.table
    table.references.sort(key=lambda r: r.span.start)
    table.bindings.sort(key=lambda b: b.span.start)
    return table


__all__ = [
    "Binding",
    "BindingKind",
    "Duplicate",
    "Reference",
    "Scope",
    "SymbolTable",
    "build_symbols",
    "global_names",
    "pattern_names",
]
