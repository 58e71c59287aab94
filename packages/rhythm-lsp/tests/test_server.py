"""End to end: the real `rhythm-lsp` process over stdio, driven by pytest-lsp's client, on a
workspace with a Python tasks file and several .flow files."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

if TYPE_CHECKING:
    from conftest import Session

pytestmark = pytest.mark.asyncio(loop_scope="module")


def at(text: str, needle: str, delta: int = 0, nth: int = 0) -> types.Position:
    """The position of the `nth` occurrence of `needle` in `text`, plus `delta` columns."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    offset += delta
    line = text.count("\n", 0, offset)
    return types.Position(line=line, character=offset - (text.rfind("\n", 0, offset) + 1))


def labels(items: list[types.CompletionItem] | types.CompletionList | None) -> set[str]:
    if items is None:
        return set()
    if isinstance(items, types.CompletionList):
        items = items.items
    return {i.label for i in items}


async def complete(session: Session, uri: str, position: types.Position) -> set[str]:
    result = await session.client.text_document_completion_async(
        types.CompletionParams(text_document=session.doc(uri), position=position)
    )
    return labels(result)


async def hover_text(session: Session, uri: str, position: types.Position) -> str:
    result = await session.client.text_document_hover_async(
        types.HoverParams(text_document=session.doc(uri), position=position)
    )
    assert result is not None
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


# ---------------------------------------------------------------- diagnostics


async def test_clean_document_has_no_diagnostics(session: Session) -> None:
    uri = session.open("checkout.flow", session.checkout)
    assert await session.diagnostics(uri) == []


async def test_syntax_and_checker_diagnostics_with_codes(session: Session) -> None:
    text = "const a = 1;\na = 2;\nlet b = (1 + ;\nreturn undefinedName;\n"
    uri = session.open("bad.flow", text)
    found = await session.diagnostics(uri)
    codes = {d.code for d in found}
    assert "RY001" in codes  # the syntax error
    assert "RY102" in codes  # assignment to a const
    assert "RY101" in codes  # an undefined name
    syntax = next(d for d in found if d.code == "RY001")
    assert syntax.range.start.line == 2
    assert all(d.source == "rhythm" for d in found)


async def test_diagnostics_follow_edits(session: Session) -> None:
    uri = session.open("edits.flow", "const x = 1;\nreturn x;\n")
    assert await session.diagnostics(uri) == []
    session.edit(uri, types.Position(line=1, character=7), types.Position(line=1, character=8), "y")
    found = await session.diagnostics(uri, lambda ds: bool(ds))
    assert any(d.code == "RY101" and d.range.start.line == 1 for d in found)
    session.replace(uri, "const x = 1;\nreturn x;\n")
    assert await session.diagnostics(uri) == []


async def test_unknown_task_and_workflow(session: Session) -> None:
    text = (
        'const a = await Task.run("charge_crad", {});\n'
        'const b = await Workflow.run("refnud", {});\n'
        'const c = await Task.run("ship_order", {});\n'
        "return [a, b, c];\n"
    )
    uri = session.open("unknown.flow", text)
    found = await session.diagnostics(uri, lambda ds: len(ds) >= 2)
    task = next(d for d in found if d.code == "RY301")
    assert task.severity == types.DiagnosticSeverity.Warning
    assert '"charge_card"' in task.message
    assert task.range == types.Range(
        start=at(text, '"charge_crad"'), end=at(text, '"charge_crad"', 13)
    )
    workflow = next(d for d in found if d.code == "RY302")
    assert "refnud" in workflow.message and '"refund"' in workflow.message
    assert not any(d.code == "RY301" and "ship_order" in d.message for d in found)

    # Quick fixes from the suggestions.
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=session.doc(uri),
            range=task.range,
            context=types.CodeActionContext(diagnostics=[task]),
        )
    )
    assert actions
    fix = actions[0]
    assert isinstance(fix, types.CodeAction) and fix.edit and fix.edit.changes
    assert fix.edit.changes[uri][0].new_text == '"charge_card"'


async def test_index_follows_watched_files(session: Session, workspace: Path) -> None:
    text = 'return await Task.run("new_task", {});\n'
    uri = session.open("watch.flow", text)
    assert any(d.code == "RY301" for d in await session.diagnostics(uri, bool))
    extra = workspace / "more_tasks.py"
    extra.write_text("from rhythm.worker import task\n\n@task\ndef new_task():\n    pass\n")
    session.client.diagnostics.pop(uri, None)
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=session.uri("more_tasks.py"), type=types.FileChangeType.Created)
            ]
        )
    )
    assert await session.diagnostics(uri) == []
    extra.unlink()
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=session.uri("more_tasks.py"), type=types.FileChangeType.Deleted)
            ]
        )
    )
    assert any(d.code == "RY301" for d in await session.diagnostics(uri, bool))


# ---------------------------------------------------------------- completion


async def test_completion_of_names_in_strings(session: Session) -> None:
    text = 'await Task.run("ch");\nawait Workflow.run("");\nawait Signal.next("");\n'
    uri = session.open("names.flow", text)
    tasks = await complete(session, uri, at(text, '"ch"', 3))
    assert tasks == {"send-email", "charge_card", "ship_order"}
    assert "hidden_task" not in tasks and "never" not in tasks
    workflows = await complete(session, uri, at(text, 'run("")', 5))
    assert {"checkout", "refund", "daily_report"} <= workflows
    assert "hidden" not in workflows
    signals = await complete(session, uri, at(text, 'next("")', 6))
    assert {"approved", "refund-approved"} <= signals


async def test_completion_of_members_and_scope(session: Session) -> None:
    text = (
        'const name = "Ada";\n'
        "const items = [1, 2];\n"
        "const total = Inputs.amount + Inputs.tax;\n"
        "Math.\n"
        "name.\n"
        "items.\n"
        "Inputs.\n"
        "na\n"
    )
    uri = session.open("members.flow", text)
    math = await complete(session, uri, at(text, "Math.", 5))
    assert {"max", "min", "floor"} <= math
    strings = await complete(session, uri, at(text, "name.\n", 5))
    assert {"toUpperCase", "split", "trim"} <= strings
    arrays = await complete(session, uri, at(text, "items.\n", 6))
    assert {"map", "filter", "push"} <= arrays
    inputs = await complete(session, uri, at(text, "Inputs.\n", 7))
    assert {"amount", "tax"} <= inputs
    names = await complete(session, uri, at(text, "na\n", 2))
    assert {"name", "items", "total", "Task", "Math", "const", "await"} <= names


async def test_completion_item_has_docs(session: Session) -> None:
    text = "Task.\n"
    uri = session.open("docs.flow", text)
    result = await session.client.text_document_completion_async(
        types.CompletionParams(text_document=session.doc(uri), position=at(text, ".", 1))
    )
    items = result if isinstance(result, list) else result.items if result else []
    run = next(i for i in items if i.label == "run")
    assert run.detail and run.detail.startswith("Task.run(")
    assert isinstance(run.documentation, types.MarkupContent)
    assert "TaskHandle" in run.documentation.value


# ---------------------------------------------------------------- hover and signature help


async def test_hover(session: Session) -> None:
    uri = session.open("checkout.flow", session.checkout)
    member = await hover_text(session, uri, at(session.checkout, "Task.run", 6))
    assert "Task.run(name: string" in member
    obj = await hover_text(session, uri, at(session.checkout, "Task.run", 1))
    assert "Starts tasks" in obj
    task = await hover_text(session, uri, at(session.checkout, '"charge_card"', 3))
    assert "async def charge(amount: int" in task
    assert "Charge a card" in task and "tasks.py" in task
    variable = await hover_text(session, uri, at(session.checkout, "total +=", 1))
    assert "(let) total" in variable and "line 3" in variable
    workflow = await hover_text(session, uri, at(session.checkout, '"refund"', 2))
    assert "refund.flow" in workflow


async def test_signature_help(session: Session) -> None:
    text = 'const m = Math.max(1, 2, );\nconst t = Task.run("x", {a: 1}, );\n'
    uri = session.open("sig.flow", text)
    help_ = await session.client.text_document_signature_help_async(
        types.SignatureHelpParams(text_document=session.doc(uri), position=at(text, "2, )", 3))
    )
    assert help_ is not None
    assert help_.signatures[0].label.startswith("Math.max(")
    help_ = await session.client.text_document_signature_help_async(
        types.SignatureHelpParams(text_document=session.doc(uri), position=at(text, "1}, )", 4))
    )
    assert help_ is not None and help_.active_parameter == 2
    assert help_.signatures[0].label.startswith("Task.run(")


# ---------------------------------------------------------------- navigation


async def test_definition(session: Session, workspace: Path) -> None:
    uri = session.open("checkout.flow", session.checkout)

    async def definition(position: types.Position) -> list[types.Location]:
        result = await session.client.text_document_definition_async(
            types.DefinitionParams(text_document=session.doc(uri), position=position)
        )
        assert isinstance(result, list)
        return result

    [task] = await definition(at(session.checkout, '"charge_card"', 2))
    assert task.uri == session.uri("tasks.py")
    lines = (workspace / "tasks.py").read_text().splitlines()
    assert lines[task.range.start.line].startswith("async def charge(")
    assert task.range.start.character == len("async def ")
    [workflow] = await definition(at(session.checkout, '"refund"', 2))
    assert workflow.uri == session.uri("refund.flow")
    [variable] = await definition(at(session.checkout, "total +=", 1))
    assert variable.uri == uri
    assert variable.range.start == at(session.checkout, "total = 0")


async def test_references_and_rename(session: Session) -> None:
    uri = session.open("checkout.flow", session.checkout)
    refs = await session.client.text_document_references_async(
        types.ReferenceParams(
            text_document=session.doc(uri),
            position=at(session.checkout, "total", 1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert [r.range.start for r in refs] == [at(session.checkout, "total", nth=n) for n in range(3)]
    edit = await session.client.text_document_rename_async(
        types.RenameParams(
            text_document=session.doc(uri),
            position=at(session.checkout, "receipt", 1),
            new_name="payment",
        )
    )
    assert edit is not None and edit.changes
    texts = sorted(e.new_text for e in edit.changes[uri])
    # The shorthand `{ receipt, ... }` keeps its key.
    assert texts == ["payment", "payment", "receipt: payment"]

    for bad, reason in [
        ("2x", "not a valid identifier"),
        ("const", "keyword"),
        ("Task", "built-in"),
    ]:
        with pytest.raises(JsonRpcException, match=reason):
            await session.client.text_document_rename_async(
                types.RenameParams(
                    text_document=session.doc(uri),
                    position=at(session.checkout, "receipt", 1),
                    new_name=bad,
                )
            )
    with pytest.raises(JsonRpcException, match="only variables"):
        await session.client.text_document_prepare_rename_async(
            types.PrepareRenameParams(
                text_document=session.doc(uri), position=at(session.checkout, "Task", 1)
            )
        )


# ---------------------------------------------------------------- structure


async def test_symbols_folding_tokens(session: Session) -> None:
    uri = session.open("checkout.flow", session.checkout)
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=session.doc(uri))
    )
    assert symbols is not None
    names = [s.name for s in symbols]
    assert names[:3] == ["order", "customer", "total"]
    assert "item" in names and "receipt" in names
    folds = await session.client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=session.doc(uri))
    )
    assert folds is not None
    assert any(f.start_line == 3 and f.end_line == 4 for f in folds)  # the for loop's body
    tokens = await session.client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=session.doc(uri))
    )
    assert tokens is not None and len(tokens.data) % 5 == 0 and tokens.data
    # The first token is `const` at 0:0, a keyword (type 0).
    assert list(tokens.data[:5]) == [0, 0, 5, 0, 0]


async def test_formatting(session: Session) -> None:
    uri = session.open("fmt.flow", "const   x=1\nreturn x\n")
    edits = await session.client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=session.doc(uri),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits and "const x = 1" in edits[0].new_text
    broken = session.open("fmt_broken.flow", "const x = (;\n")
    edits = await session.client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=session.doc(broken),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not edits


async def test_broken_document_still_served(session: Session) -> None:
    text = "const a = ;\nconst name = 'x';\nname.\nif (\n"
    uri = session.open("broken.flow", text)
    assert any(d.code == "RY001" for d in await session.diagnostics(uri, bool))
    members = await complete(session, uri, at(text, "name.", 5))
    assert "toUpperCase" in members
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=session.doc(uri))
    )
    assert symbols is not None
    hover = await session.client.text_document_hover_async(
        types.HoverParams(
            text_document=session.doc(uri), position=types.Position(line=99, character=99)
        )
    )
    assert hover is None


async def test_utf16_positions(session: Session) -> None:
    text = 'const s = "😀😀"; const x = y;\n'
    uri = session.open("emoji.flow", text)
    found = await session.diagnostics(uri, bool)
    undefined = next(d for d in found if d.code == "RY101")
    # Each emoji is two UTF-16 code units: `y` sits 2 units right of its code point column.
    assert undefined.range.start.character == text.index("y") + 2


async def test_watchers_registered_and_open_python_buffers_indexed(session: Session) -> None:
    methods = [r.method for r in session.client.registrations]  # type: ignore[attr-defined]
    assert "workspace/didChangeWatchedFiles" in methods

    flow = 'return await Task.run("draft_task", {});\n'
    flow_uri = session.open("drafts.flow", flow)
    assert any(d.code == "RY301" for d in await session.diagnostics(flow_uri, bool))
    # An unsaved Python buffer declaring the task counts at once...
    py_uri = session.open("draft_tasks.py", "@task\ndef draft_task():\n    pass\n")
    session.client.diagnostics.pop(flow_uri, None)
    assert await session.diagnostics(flow_uri) == []
    # ...edits to it are followed...
    session.replace(py_uri, "@task\ndef other_task():\n    pass\n")
    session.client.diagnostics.pop(flow_uri, None)
    assert any(d.code == "RY301" for d in await session.diagnostics(flow_uri, bool))
    session.replace(py_uri, "@task\ndef draft_task():\n    pass\n")
    session.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=session.doc(py_uri))
    )
    session.client.diagnostics.pop(flow_uri, None)
    assert await session.diagnostics(flow_uri) == []
    # ...and closing it without saving to disk forgets it.
    session.client.diagnostics.pop(flow_uri, None)
    session.close(py_uri)
    assert any(d.code == "RY301" for d in await session.diagnostics(flow_uri, bool))


async def test_close_clears_diagnostics(session: Session) -> None:
    uri = session.open("closing.flow", "return nope;\n")
    assert await session.diagnostics(uri, bool)
    session.close(uri)
    assert await session.diagnostics(uri, lambda ds: ds == []) == []


async def test_quick_fixes_from_checker_suggestions(session: Session) -> None:
    text = "const a = Math.maxx(1, 2);\nTaks.run('x');\nreturn a;\n"
    uri = session.open("fixes.flow", text)
    found = await session.diagnostics(uri, lambda ds: len(ds) >= 2)
    assert {"RY104", "RY105"} <= {d.code for d in found}
    actions = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=session.doc(uri),
            range=types.Range(start=at(text, "Math"), end=at(text, "return")),
            context=types.CodeActionContext(diagnostics=found),
        )
    )
    assert actions is not None
    edits = {
        a.edit.changes[uri][0].new_text: a.edit.changes[uri][0].range
        for a in actions
        if isinstance(a, types.CodeAction) and a.edit and a.edit.changes
    }
    assert edits["max"] == types.Range(start=at(text, "maxx"), end=at(text, "maxx", 4))
    assert edits["Task"].start == at(text, "Taks")
    # Asking about a range without diagnostics gives no fixes.
    none = await session.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=session.doc(uri),
            range=types.Range(start=at(text, "return"), end=at(text, "return", 6)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not none


async def test_rapid_edits_are_debounced(session: Session) -> None:
    uri = session.open("typing.flow", "let n = 1;\nreturn n;\n")
    await session.diagnostics(uri)
    published: list[int | None] = []
    features = session.client.protocol.fm.features
    original = features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

    def record(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri:
            published.append(params.version)
        original(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
    try:
        for i in range(5):  # typing `n = 12345` quickly, one character at a time
            position = types.Position(line=1, character=8 + i)
            session.edit(uri, position, position, str(i))
        await asyncio.sleep(0.05)
        assert published == []  # still inside the quiet period
        found = await session.diagnostics(uri, bool)
        await asyncio.sleep(0.4)
    finally:
        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = original
    assert published == [session.versions[uri]]  # one check, for the last version
    assert any(d.code == "RY101" for d in found)  # `n01234` is undefined
