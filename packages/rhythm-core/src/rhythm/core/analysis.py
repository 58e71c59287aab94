"""One entry point for tools: parse + check + symbols for a .flow source text.

The language server and `rhythm check` call `analyze`; it never raises."""

from __future__ import annotations

from dataclasses import dataclass, field

from rhythm.core import ast
from rhythm.core.checker import check
from rhythm.core.diagnostics import Diagnostic, has_errors
from rhythm.core.lexer import Tok
from rhythm.core.parser import parse
from rhythm.core.symbols import SymbolTable, build_symbols


@dataclass
class Analysis:
    source: str
    program: ast.Program
    diagnostics: list[Diagnostic]  # syntax and semantic, sorted by position
    symbols: SymbolTable
    tokens: list[Tok] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)

    @property
    def syntax_ok(self) -> bool:
        return not any(d.code.value == "RY001" for d in self.diagnostics)


def analyze(source: str) -> Analysis:
    parsed = parse(source)
    symbols = build_symbols(parsed.program)
    semantic = check(parsed.program, symbols)
    if parsed.diagnostics:
        # A name used only inside an unreadable statement would look unused.
        semantic = [d for d in semantic if d.code.value != "RY202"]
    diagnostics = sorted(
        parsed.diagnostics + semantic, key=lambda d: (d.span.start, d.span.end, d.code.value)
    )
    return Analysis(source, parsed.program, diagnostics, symbols, parsed.tokens)
