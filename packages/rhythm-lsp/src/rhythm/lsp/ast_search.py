"""Finding nodes in rhythm.core's AST by offset."""

from __future__ import annotations

from rhythm.core import ast


def nodes_at(program: ast.Program, offset: int) -> list[ast.Node]:
    """The chain of nodes whose span holds `offset`, outermost first (the Program excluded)."""
    chain: list[ast.Node] = []
    current: ast.Node = program
    while True:
        inner = None
        for child in ast.iter_children(current):
            if child.span.start <= offset <= child.span.end and child.span is not ast.NO_SPAN:
                inner = child
                # Prefer a child that strictly contains the offset over one that merely ends at it.
                if offset < child.span.end:
                    break
        if inner is None:
            return chain
        chain.append(inner)
        current = inner


def in_string_or_comment(program: ast.Program, offset: int) -> bool:
    """True inside a string literal's quotes, a template literal's text, or a comment."""
    for span, text in program.comments:
        # A line comment also holds the end of its line; a block comment ends at its `*/`.
        end = span.end if text.startswith("/*") else span.end + 1
        if span.start < offset < end:
            return True
    for node in reversed(nodes_at(program, offset)):
        if isinstance(node, ast.StringLit):
            return node.span.start < offset < node.span.end
        if isinstance(node, ast.TemplateLit):
            inside_expr = any(e.span.start <= offset <= e.span.end for e in node.exprs)
            return not inside_expr and node.span.start < offset < node.span.end
    return False
