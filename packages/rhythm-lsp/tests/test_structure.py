"""Outline, folding, named calls and workspace diagnostics, without LSP."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from rhythm.core.diagnostics import Code
from rhythm.core.parser import parse
from rhythm.lsp.folding import folding_ranges
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.named_calls import find_named_calls
from rhythm.lsp.outline import document_symbols
from rhythm.lsp.positions import LineIndex
from rhythm.lsp.workspace_checks import workspace_diagnostics

SOURCE = """\
// Header comment
// continues here
const { a, b: [c, d = 1], ...rest } = Inputs;
let total = 0;
const double = (x) => {
  const twice = x * 2;
  return twice;
};
for (const item of [1, 2]) {
  total += item;
}
const obj = {
  k: 1,
  j: Task.run('one'),
};
/* a
   block */
await Workflow.run("child");
await Signal.when("go");
"""


def test_outline() -> None:
    program = parse(SOURCE).program
    symbols = document_symbols(program, LineIndex(SOURCE))
    names = [s.name for s in symbols]
    assert names == ["a", "c", "d", "rest", "total", "double", "item", "obj"]
    double = symbols[names.index("double")]
    assert double.kind == types.SymbolKind.Function
    assert [c.name for c in double.children or []] == ["twice"]
    assert symbols[names.index("total")].kind == types.SymbolKind.Variable
    assert symbols[names.index("obj")].kind == types.SymbolKind.Constant
    assert symbols[0].selection_range.start == types.Position(line=2, character=8)


def test_folding() -> None:
    program = parse(SOURCE).program
    folds = {(f.start_line, f.end_line, f.kind) for f in folding_ranges(program, LineIndex(SOURCE))}
    assert (0, 1, types.FoldingRangeKind.Comment) in folds
    assert (15, 16, types.FoldingRangeKind.Comment) in folds
    assert (4, 6, None) in folds  # the arrow's body
    assert (8, 9, None) in folds  # the loop body
    assert (11, 13, None) in folds  # the object literal


def test_named_calls_and_workspace_checks(tmp_path: Path) -> None:
    program = parse(SOURCE).program
    calls = find_named_calls(program)
    assert [(c.kind, c.name) for c in calls] == [
        ("task", "one"),
        ("workflow", "child"),
        ("signal", "go"),
    ]
    index = WorkspaceIndex()
    # A lone file (no workspace folder): nothing to compare against, no warnings.
    assert workspace_diagnostics(SOURCE, calls, index) == []
    (tmp_path / "tasks.py").write_text("@task\ndef onw():\n    pass\n")
    (tmp_path / "children.flow").write_text("return 1\n")
    index.add_root(tmp_path)
    found = workspace_diagnostics(SOURCE, calls, index)
    assert [d.code for d in found] == [Code.UNKNOWN_TASK, Code.UNKNOWN_WORKFLOW]
    task, workflow = found
    assert task.replacement == "'onw'"  # keeps the literal's quotes
    assert 'did you mean "onw"' in task.message
    assert SOURCE[task.span.start : task.span.end] == "'one'"
    assert workflow.replacement == '"children"'
