"""Answers from the newest ready analysis, seen through the edits made since (no re-analysis),
and the shape of completion items every client inserts right."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

import rhythm.lsp.document as document_module
from rhythm.lsp.completion import completions
from rhythm.lsp.document import DocumentStore, EditMap
from rhythm.lsp.hover import hover
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.outline import document_symbols
from rhythm.lsp.signature import signature_help
from rhythm.lsp.tokens import semantic_tokens

URI = "file:///w/view.flow"
TEXT = """\
const greeting = "hello";
let total = 0;
for (const item of Inputs.items) {
  total += item.price;
}
const receipt = await Task.run("charge-card", { amount: total });
return greeting;
"""


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> DocumentStore:
    store = DocumentStore()
    store.get(URI, TEXT)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a view must not analyse")

    monkeypatch.setattr(document_module, "analyse", refuse)
    return store


def test_edit_map_moves_offsets_both_ways() -> None:
    edits = EditMap.between("abcdef", "abXYZdef")  # "c" became "XYZ"
    assert (edits.start, edits.old_end, edits.new_end) == (2, 3, 5)
    assert [edits.to_old(o) for o in (0, 2, 3, 5, 8)] == [0, 2, 2, 3, 6]
    assert [edits.to_new(o) for o in (0, 2, 3, 6)] == [0, 2, 5, 8]
    inserted = EditMap.between("ab", "aXb")  # text inserted at 1: before what starts there
    assert (inserted.to_new(1), inserted.to_new(1, end=True)) == (2, 1)
    assert edits.touches(2, 3) and not edits.touches(3, 4) and not edits.touches(0, 2)


def test_completion_right_after_typing_a_dot_uses_the_new_text(store: DocumentStore) -> None:
    typed = TEXT.replace("return greeting;", "return greeting.")
    view = store.view(URI, typed)
    assert view.stale and view.analysis is store.ready(URI).analysis
    labels = {i.label for i in completions(view, len(typed) - 1, WorkspaceIndex())}
    assert {"toUpperCase", "split"} <= labels  # a string's methods: `greeting` is a string
    assert "total" not in labels


def test_identifiers_in_scope_after_an_edit_above(store: DocumentStore) -> None:
    edited = "// a new first line\n" + TEXT
    view = store.view(URI, edited)
    offset = edited.index("total += ") + len("to")
    items = completions(view, offset, WorkspaceIndex())
    labels = {i.label for i in items}
    assert {"item", "total", "greeting"} <= labels
    replace = next(i for i in items if i.label == "total").text_edit
    assert isinstance(replace, types.TextEdit)
    assert replace.range.start == types.Position(line=4, character=2)  # in the new text


def test_hover_and_symbols_ranges_are_in_the_new_text(store: DocumentStore) -> None:
    edited = TEXT.replace("let total = 0;", "let total = 0; // running sum\n")
    view = store.view(URI, edited)
    found = hover(view, edited.index("greeting;") + 2, WorkspaceIndex())
    assert found is not None and found.range is not None
    assert found.range.start == types.Position(line=7, character=7)
    assert "(const) greeting" in found.contents.value  # type: ignore[union-attr]
    symbols = {s.name: s for s in document_symbols(view.program, view.span_lines())}
    assert symbols["receipt"].selection_range.start == types.Position(line=6, character=6)


def test_signature_help_sees_a_parenthesis_just_typed(store: DocumentStore) -> None:
    typed = TEXT.replace("return greeting;", "return parseInt(greeting, ")
    view = store.view(URI, typed)
    help_ = signature_help(view, len(typed) - 1)
    assert help_ is not None and help_.active_parameter == 1
    assert help_.signatures[0].label.startswith("parseInt")


def test_semantic_tokens_skip_only_what_the_edit_touched(store: DocumentStore) -> None:
    fresh = semantic_tokens(store.ready(URI))
    edited = TEXT.replace("let total", "let  total")  # one space more on line 2
    view = store.view(URI, edited)
    moved = semantic_tokens(view)

    # Decode to absolute (line, column, length); the edit left `let` and moved `total` by one.
    def decode(data: list[int]) -> list[tuple[int, int, int]]:
        out, line, col = [], 0, 0
        for k in range(0, len(data), 5):
            line += data[k]
            col = data[k + 1] if data[k] else col + data[k + 1]
            out.append((line, col, data[k + 2]))
        return out

    before, after = decode(fresh), decode(moved)
    assert (1, 4, 5) in before and (1, 5, 5) in after  # `total`
    assert [t for t in before if t[0] != 1] == [t for t in after if t[0] != 1]


def test_completion_items_have_one_replace_range_and_no_filter_text() -> None:
    """Neovim 0.7 uses an item's textEdit range only when no item has a filterText and all of
    them start at the same column; otherwise it inserts at the start of the keyword under the
    cursor, and `"charge-c` became `"charge-charge-card`."""
    index = WorkspaceIndex()
    index.update_file(Path("/w/tasks.py"), '@task("charge-card")\ndef charge(amount):\n    pass\n')
    store = DocumentStore()
    text = 'await Task.run("charge-c'
    document = store.get(URI, text)
    items = completions(document, len(text), index)
    assert [i.label for i in items] == ["charge-card"]
    for cases in (items, completions(document, len("await Ta"), index)):
        ranges = {repr(i.text_edit.range) for i in cases if isinstance(i.text_edit, types.TextEdit)}
        assert len(ranges) == 1 and all(isinstance(i.text_edit, types.TextEdit) for i in cases)
        assert all(i.filter_text is None and i.insert_text is None for i in cases)
    edit = items[0].text_edit
    assert isinstance(edit, types.TextEdit)
    inserted = text[: edit.range.start.character] + edit.new_text + text[edit.range.end.character :]
    assert inserted == 'await Task.run("charge-card'
