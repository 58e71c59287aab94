"""Document symbols: every `let`/`const` binding (destructured ones too) and loop variable; a
binding initialised with an arrow function is a Function whose body's bindings are its children."""

from __future__ import annotations

from collections.abc import Iterator

from lsprotocol import types

from rhythm.core import ast
from rhythm.lsp.positions import LineIndex


def pattern_identifiers(pattern: ast.Node | None) -> Iterator[ast.Identifier]:
    """The identifiers a destructuring pattern binds, in source order."""
    if pattern is None:
        return
    if isinstance(pattern, ast.Identifier):
        yield pattern
    elif isinstance(pattern, ast.AssignPattern):
        yield from pattern_identifiers(pattern.target)
    elif isinstance(pattern, ast.ObjectPattern):
        for prop in pattern.properties:
            yield from pattern_identifiers(prop.value)
        if pattern.rest is not None:
            yield pattern.rest
    elif isinstance(pattern, ast.ArrayPattern):
        for element in pattern.elements:
            yield from pattern_identifiers(element)
        yield from pattern_identifiers(pattern.rest)


class _Outline:
    def __init__(self, lines: LineIndex) -> None:
        self.lines = lines

    def symbol(
        self,
        ident: ast.Identifier,
        whole: ast.Span,
        kind: types.SymbolKind,
        detail: str,
        children: list[types.DocumentSymbol] | None = None,
    ) -> types.DocumentSymbol:
        selection = self.lines.span_range(ident.span)
        full = self.lines.range(min(whole.start, ident.span.start), max(whole.end, ident.span.end))
        return types.DocumentSymbol(
            name=ident.name or "?",
            kind=kind,
            range=full,
            selection_range=selection,
            detail=detail,
            children=children or None,
        )

    def statements(self, body: list[ast.Stmt]) -> list[types.DocumentSymbol]:
        found: list[types.DocumentSymbol] = []
        for stmt in body:
            found.extend(self.statement(stmt))
        return found

    def statement(self, stmt: ast.Node | None) -> list[types.DocumentSymbol]:
        if stmt is None:
            return []
        if isinstance(stmt, ast.VarDecl):
            found = []
            for decl in stmt.declarations:
                found.extend(self.declarator(stmt.kind, decl))
            return found
        if isinstance(stmt, ast.Block):
            return self.statements(stmt.body)
        if isinstance(stmt, ast.If):
            return self.statement(stmt.consequent) + self.statement(stmt.alternate)
        if isinstance(stmt, ast.ForOf | ast.ForIn):
            loop_vars = []
            if stmt.kind is not None:
                loop_vars = [
                    self.symbol(i, i.span, types.SymbolKind.Variable, f"{stmt.kind} (loop)")
                    for i in pattern_identifiers(stmt.target)
                ]
            return loop_vars + self.statement(stmt.body)
        if isinstance(stmt, ast.For):
            init = self.statement(stmt.init) if isinstance(stmt.init, ast.VarDecl) else []
            return init + self.statement(stmt.body)
        if isinstance(stmt, ast.While | ast.DoWhile):
            return self.statement(stmt.body)
        if isinstance(stmt, ast.Try):
            return (
                self.statement(stmt.block)
                + self.statement(stmt.handler)
                + self.statement(stmt.finalizer)
            )
        return []

    def declarator(self, kind: str, decl: ast.Declarator) -> list[types.DocumentSymbol]:
        if isinstance(decl.target, ast.Identifier) and isinstance(decl.init, ast.Arrow):
            body = decl.init.body
            children = self.statements(body.body) if isinstance(body, ast.Block) else []
            params = ", ".join(i.name for p in decl.init.params for i in pattern_identifiers(p))
            return [
                self.symbol(
                    decl.target,
                    decl.span,
                    types.SymbolKind.Function,
                    f"{kind} ({params}) =>",
                    children,
                )
            ]
        symbol_kind = types.SymbolKind.Constant if kind == "const" else types.SymbolKind.Variable
        return [
            self.symbol(ident, decl.span, symbol_kind, kind)
            for ident in pattern_identifiers(decl.target)
        ]


def document_symbols(program: ast.Program, lines: LineIndex) -> list[types.DocumentSymbol]:
    return _Outline(lines).statements(program.body)
