"""The language features as plain functions over an analysed document (no LSP process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from rhythm.lsp.completion import completions, inputs_keys
from rhythm.lsp.document import Document, analyse
from rhythm.lsp.hover import hover
from rhythm.lsp.index import WorkspaceIndex
from rhythm.lsp.navigation import RenameError, definition, references, rename_edits
from rhythm.lsp.signature import signature_help
from rhythm.lsp.tokens import TOKEN_MODIFIERS, TOKEN_TYPES, semantic_tokens


def doc(text: str) -> Document:
    return analyse("file:///w/test.flow", text)


def labels_at(text: str, marker: str, index: WorkspaceIndex | None = None) -> set[str]:
    """Completion labels at the position of `|` in `marker` inside `text` (marker sans `|`)."""
    offset = text.index(marker.replace("|", "")) + marker.index("|")
    return {i.label for i in completions(doc(text), offset, index or WorkspaceIndex())}


@pytest.fixture
def index(tmp_path: Path) -> WorkspaceIndex:
    (tmp_path / "tasks.py").write_text(
        '@task("fetch")\ndef fetch(url: str) -> str:\n    """Fetch a URL."""\n'
    )
    (tmp_path / "child.flow").write_text('await Signal.next("go");\n')
    found = WorkspaceIndex()
    found.add_root(tmp_path)
    return found


def test_member_completion_follows_obvious_types() -> None:
    text = (
        'const a = "x";\nconst b = a.trim();\nconst c = [1];\nconst d = c.map(x => x);\n'
        "const e = `t`;\nconst f = Object.keys({});\nlet g = 1;\n"
        "a.\nb.\nc.\nd.\ne.\nf.\ng.\nJSON.\n[1, 2].\n'q'.\nx[0].\n"
    )
    assert "toUpperCase" in labels_at(text, "a.|\n")
    assert "toUpperCase" in labels_at(text, "b.|\n")  # trim() returns a string
    assert "push" in labels_at(text, "c.|\n")
    assert "push" in labels_at(text, "d.|\n")  # map() returns an array
    assert "split" in labels_at(text, "e.|\n")
    assert "join" in labels_at(text, "f.|\n")  # Object.keys returns an array
    assert "toFixed" in labels_at(text, "g.|\n")  # a number
    assert {"parse", "stringify"} <= labels_at(text, "JSON.|\n")
    assert "push" in labels_at(text, "[1, 2].|\n")
    assert "trim" in labels_at(text, "'q'.|\n")
    assert labels_at(text, "x[0].|\n") == set()  # an element of unknown type


# A receiver of each kind of value in the stdlib table, as typed before a `.` (boolean, function
# and object are left out: `true.`, `f.` and a plain object are not told apart by the text).
KIND_RECEIVERS = {
    "string": "'q'",
    "array": "[1, 2]",
    "number": "(1.5)",
    "error": 'new Error("x")',
    "date": "new Date(0)",
    "map": "new Map()",
    "set": "new Set()",
    "regexp": "re",
}


def test_member_completion_covers_every_kind_in_the_table() -> None:
    from rhythm.core.stdlib import VALUE_MEMBERS

    assert set(VALUE_MEMBERS) - set(KIND_RECEIVERS) <= {"boolean", "function", "object"}
    lines = ["const re = /a/g;"] + [f"{receiver}." for receiver in KIND_RECEIVERS.values()]
    text = "\n".join(lines) + "\n"
    for kind, receiver in KIND_RECEIVERS.items():
        assert labels_at(text, f"\n{receiver}.|\n") == set(VALUE_MEMBERS[kind]), kind


def test_member_completion_of_variables_and_globals_of_every_kind() -> None:
    text = (
        "const d = new Date(0);\nconst m = new Map();\nconst n = (255).toString(16);\n"
        "const k = Math.floor(1.5);\nconst t = d.getTime();\n"
        "d.\nm.\nn.\nk.\nt.\nNumber.\nString.\nMath.\n"
    )
    assert {"getTime", "toISOString"} <= labels_at(text, "\nd.|\n")
    assert {"get", "set", "size"} <= labels_at(text, "\nm.|\n")
    assert "padStart" in labels_at(text, "\nn.|\n")  # toString returns a string
    assert "toFixed" in labels_at(text, "\nk.|\n")  # Math.floor returns a number
    assert "toFixed" in labels_at(text, "\nt.|\n")  # getTime returns a number
    assert {"isInteger", "MAX_SAFE_INTEGER", "name"} <= labels_at(text, "\nNumber.|\n")
    assert "fromCharCode" in labels_at(text, "\nString.|\n")
    assert {"floor", "hypot", "PI"} <= labels_at(text, "\nMath.|\n")
    calls = 'String(1).\nNumber("2").\nError("x").\nparseInt("3").\nDate().\n'
    assert "padStart" in labels_at(calls, "String(1).|")
    assert "toFixed" in labels_at(calls, 'Number("2").|')
    assert {"message", "name"} <= labels_at(calls, 'Error("x").|')
    assert "toFixed" in labels_at(calls, 'parseInt("3").|')
    assert "padStart" in labels_at(calls, "Date().|")  # a string, as in JavaScript
    shadowed = "const String = (x) => [x];\nString(1).\n"
    assert "padStart" not in labels_at(shadowed, "String(1).|")


def test_hover_and_signature_on_members_of_every_kind() -> None:
    text = (
        "const d = new Date(0);\nconst a = (1.5).toFixed(1);\nconst b = d.getTime();\n"
        "const c = Number.isInteger(a);\nconst e = new Map().has(1);\nd.toISOString(\n"
    )
    document = doc(text)

    def hover_at(needle: str) -> str:
        result = hover(document, text.index(needle) + 1, WorkspaceIndex())
        assert result is not None, needle
        assert isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    assert "number.toFixed(" in hover_at("toFixed")
    assert "getTime(" in hover_at("getTime")
    assert "Number.isInteger(" in hover_at("isInteger")
    assert "has(" in hover_at("has(")
    help_ = signature_help(document, text.index("toISOString(") + len("toISOString("))
    assert help_ is not None and "toISOString(" in help_.signatures[0].label


def test_no_completion_in_comments_and_plain_strings() -> None:
    text = 'const a = "hello wor";\n// a comm\nconst b = 1;\n'
    assert labels_at(text, "wor|") == set()
    assert labels_at(text, "comm|") == set()
    assert "a" in labels_at(text, "const b = |1")


def test_scope_aware_identifiers() -> None:
    text = "const outer = 1;\nif (outer) {\n  const inner = 2;\n  \n}\n\nconst later = 3;\n"
    inside = labels_at(text, "  |\n}")
    assert {"outer", "inner"} <= inside and "later" not in inside
    after = labels_at(text, "}\n|\n")
    assert "outer" in after and "inner" not in after


def test_inputs_keys() -> None:
    text = 'const { user, cart = [] } = Inputs;\nconst t = Inputs.total + Inputs["tax"];\n'
    assert inputs_keys(doc(text).program) == ["cart", "tax", "total", "user"]


def test_names_from_the_index(index: WorkspaceIndex) -> None:
    text = "Task.run(\"f\");\nSignal.when('');\n"
    assert labels_at(text, 'run("f|', index) == {"fetch"}
    assert labels_at(text, "when('|", index) == {"go"}
    items = completions(doc(text), text.index('"f') + 2, index)
    fetch = items[0]
    assert fetch.text_edit is not None
    assert isinstance(fetch.text_edit, types.TextEdit)
    # Replaces the typed prefix up to the closing quote.
    assert fetch.text_edit.range.start.character == len('Task.run("')
    assert fetch.text_edit.range.end.character == len('Task.run("f')


def test_hover_variants(index: WorkspaceIndex) -> None:
    text = (
        'const { id } = Inputs;\nconst r = await Task.run("fetch", { id });\n'
        'const s = "abc".padStart(5);\nconst n = Math.PI;\nreturn parseInt(s);\n'
    )
    document = doc(text)

    def hover_at(needle: str, delta: int = 1) -> str | None:
        result = hover(document, text.index(needle) + delta, index)
        if result is None:
            return None
        assert isinstance(result.contents, types.MarkupContent)
        return result.contents.value

    declared = hover_at("id }")
    assert declared is not None and "(const) id" in declared and "line 1" in declared
    task = hover_at('"fetch"')
    assert task is not None and "def fetch(url: str) -> str" in task and "Fetch a URL." in task
    pad = hover_at("padStart", 2)
    assert pad is not None and "padStart(" in pad
    pi = hover_at("PI")
    assert pi is not None and "Math.PI" in pi
    assert "parseInt(" in (hover_at("parseInt") or "")
    assert hover_at("return", 2) is None  # a keyword: nothing to say
    unknown = hover(doc('Task.run("nope")'), 11, index)
    assert unknown is not None and "no `@task`" in str(unknown.contents)


def test_signature_help_paths() -> None:
    text = 'const s = "a";\ns.padStart(3, \nconst parseInt = (x) => x;\nparseInt(\n'
    document = doc(text)
    help_ = signature_help(document, text.index("3, ") + 3)
    assert help_ is not None and help_.active_parameter == 1
    assert help_.signatures[0].label.startswith("string.padStart(")
    # A local variable shadows the global of the same name.
    assert signature_help(document, text.index("parseInt(\n") + 9) is None
    assert signature_help(doc("Math.max(...[1, 2], 3, 4, "), 24) is not None


def test_definition_references_rename(index: WorkspaceIndex) -> None:
    text = (
        "let count = 0;\nconst { a } = Inputs;\ncount = count + a;\n"
        'const r = await Task.run("fetch");\nconst w = await Workflow.run("child");\n'
        "return { count, a };\n"
    )
    document = doc(text)
    [loc] = definition(document, text.index("count + a"), index)
    assert loc.range.start == types.Position(line=0, character=4)
    [task] = definition(document, text.index('"fetch"') + 1, index)
    assert task.uri.endswith("/tasks.py") and task.range.start.line == 1
    [flow] = definition(document, text.index('"child"') + 1, index)
    assert flow.uri.endswith("/child.flow")
    assert definition(document, text.index("Inputs") + 1, index) == []
    assert len(references(document, text.index("count"), include_declaration=True)) == 4
    assert len(references(document, text.index("count"), include_declaration=False)) == 3
    edits = rename_edits(document, text.index("a }"), "amount")
    assert sorted(e.new_text for e in edits) == ["a: amount", "a: amount", "amount"]
    with pytest.raises(RenameError, match="already declared where"):
        rename_edits(document, text.index("count"), "r")
    with pytest.raises(RenameError, match="reserved"):
        rename_edits(document, text.index("count"), "class")
    with pytest.raises(RenameError, match="only variables"):
        rename_edits(document, text.index("Inputs") + 1, "x")


def test_semantic_tokens_decode() -> None:
    text = 'const n = 1; // c\nfor (const x of [n]) { Math.max(x, "s"); }\n'
    data = semantic_tokens(doc(text))
    decoded = []
    line = char = 0
    for i in range(0, len(data), 5):
        delta_line, delta_char, length, kind, mods = data[i : i + 5]
        line += delta_line
        char = char + delta_char if delta_line == 0 else delta_char
        source = text.splitlines()[line][char : char + length]
        names = [m for bit, m in enumerate(TOKEN_MODIFIERS) if mods & (1 << bit)]
        decoded.append((source, TOKEN_TYPES[kind], names))
    assert decoded[:4] == [
        ("const", "keyword", []),
        ("n", "variable", ["declaration", "readonly"]),
        ("1", "number", []),
        ("// c", "comment", []),
    ]
    assert ("of", "keyword", []) in decoded
    assert ("Math", "namespace", ["defaultLibrary"]) in decoded
    assert ("max", "method", []) in decoded
    assert ('"s"', "string", []) in decoded


def test_core_failure_leaves_a_usable_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import rhythm.lsp.document as document_module

    def explode(source: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(document_module, "analyze", explode)
    broken = analyse("file:///w/x.flow", "const a = 1;\nMath.")
    assert "internal error" in broken.diagnostics[0].message
    assert "max" in {i.label for i in completions(broken, len(broken.text), WorkspaceIndex())}
    assert semantic_tokens(broken) == []


def test_every_keyword_of_the_language_is_offered() -> None:
    labels = labels_at("const total = 1\nsw\n", "sw|")
    for keyword in ("switch", "case", "default", "function", "async", "void", "delete", "of"):
        assert keyword in labels


def test_regular_expressions_complete_hover_and_are_semantic_tokens() -> None:
    text = (
        'const r = /^\\S+@\\S+$/i;\nconst s = RegExp("a", "g");\nr.\ns.\nconst ok = r.test("a");\n'
    )
    assert {"test", "exec", "lastIndex", "source", "flags"} <= labels_at(text, "r.|\n")
    assert "exec" in labels_at(text, "s.|\n")  # RegExp() returns a RegExp
    text = 'const r = /^\\S+@\\S+$/i;\nconst ok = r.test("a");\n'
    d = doc(text)
    shown = hover(d, text.index("test("), WorkspaceIndex())
    assert shown is not None and "regexp.test" in str(shown.contents)
    data = semantic_tokens(d)
    kinds = [TOKEN_TYPES[data[i + 3]] for i in range(0, len(data), 5)]
    assert "regexp" in kinds
