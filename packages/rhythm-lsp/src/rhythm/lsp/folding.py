"""Folding ranges: blocks, multi-line object/array literals and calls, comment runs."""

from __future__ import annotations

from lsprotocol import types

from rhythm.core import ast
from rhythm.lsp.positions import LineIndex

_FOLDABLE = (ast.Block, ast.ObjectLit, ast.ArrayLit, ast.Call, ast.TemplateLit, ast.ObjectPattern)


def folding_ranges(program: ast.Program, lines: LineIndex) -> list[types.FoldingRange]:
    seen: set[tuple[int, int]] = set()
    ranges: list[types.FoldingRange] = []

    def add(start_line: int, end_line: int, kind: str | None = None) -> None:
        if end_line > start_line and (start_line, end_line) not in seen:
            seen.add((start_line, end_line))
            ranges.append(types.FoldingRange(start_line=start_line, end_line=end_line, kind=kind))

    for node in ast.walk(program):
        if isinstance(node, _FOLDABLE):
            start = lines.position(node.span.start).line
            end = lines.position(node.span.end).line
            # Keep the closing `}` / `]` / `)` line visible when it is on its own.
            add(start, end - 1 if end - 1 > start else end)

    # Block comments, and runs of consecutive line comments.
    run_start: int | None = None
    run_end = -1
    for span, text in sorted(program.comments, key=lambda c: c[0].start):
        start = lines.position(span.start).line
        end = lines.position(span.end).line
        if text.startswith("/*"):
            add(start, end, types.FoldingRangeKind.Comment)
            continue
        if run_start is not None and start == run_end + 1:
            run_end = start
            continue
        if run_start is not None:
            add(run_start, run_end, types.FoldingRangeKind.Comment)
        run_start, run_end = start, end
    if run_start is not None:
        add(run_start, run_end, types.FoldingRangeKind.Comment)
    ranges.sort(key=lambda r: (r.start_line, r.end_line))
    return ranges
