"""Regressions found in QA: text sync with characters Python (but not LSP) takes for line breaks,
file names that need percent-encoding, unopened documents, deep nesting and very large files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from lsprotocol import types

from rhythm.lsp.document import MAX_ANALYSED_CHARS, analyse
from rhythm.lsp.positions import LineIndex, split_lines
from rhythm.lsp.textsync import LspTextDocument
from rhythm.lsp.tokens import semantic_tokens

if TYPE_CHECKING:
    from conftest import Session

asyncio = pytest.mark.asyncio(loop_scope="module")

# Python's str.splitlines breaks at all of these; LSP only at \n, \r\n and \r.
NOT_LINE_BREAKS = "\u2028\u2029\x0b\x0c\x1c\x1d\x1e\x85"


def pos(line: int, character: int) -> types.Position:
    return types.Position(line=line, character=character)


def edit(document: LspTextDocument, start: types.Position, end: types.Position, text: str) -> None:
    document.apply_change(
        types.TextDocumentContentChangePartial(range=types.Range(start=start, end=end), text=text)
    )


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_incremental_edits_count_only_lsp_line_breaks(newline: str) -> None:
    text = newline.join([f'const a = "{NOT_LINE_BREAKS}";', "// \u2028 \x85 \x0c", "return c;", ""])
    document = LspTextDocument("file:///t.flow", text)
    assert len(document.lines) == 3
    edit(document, pos(2, 7), pos(2, 8), "zz")  # `c` -> `zz`
    assert document.source == text.replace("return c;", "return zz;")
    edit(document, pos(1, 3), pos(1, 9), "")  # the comment's text, line breaks kept
    assert document.source.split(newline)[1] == "// "
    edit(document, pos(0, 0), pos(2, 0), "")  # whole lines
    assert document.source == f"return zz;{newline}"
    edit(document, pos(9, 0), pos(9, 0), "x")  # past the end: appended
    assert document.source == f"return zz;{newline}x"
    assert split_lines(document.source) == [f"return zz;{newline}", "x"]


def test_incremental_edit_in_utf16_units_after_astral_characters() -> None:
    document = LspTextDocument("file:///t.flow", 'const s = "😀\u2028";\nreturn s;\n')
    edit(document, pos(0, 13), pos(0, 14), "!")  # UTF-16: 😀 is two units; \u2028 is one
    assert document.source == 'const s = "😀!";\nreturn s;\n'
    index = LineIndex(document.source)
    assert index.offset(pos(1, 7)) == document.source.index("s;\n")


@asyncio
async def test_server_text_follows_edits_after_line_separator(session: Session) -> None:
    text = 'const a = "x\u2028y"; // \x85\x0c\r\nconst b = a;\r\nreturn c;\r\n'
    uri = session.open("separators.flow", text)
    await session.diagnostics(uri, lambda ds: any(d.code == "RY101" for d in ds))
    session.edit(uri, pos(2, 7), pos(2, 8), "bb")  # `c` -> `bb`
    found = await session.diagnostics(uri, lambda ds: any(d.code == "RY101" for d in ds))
    undefined = next(d for d in found if d.code == "RY101")
    assert "'bb'" in undefined.message
    assert undefined.range == types.Range(start=pos(2, 7), end=pos(2, 9))
    unused = next(d for d in found if d.code == "RY202")  # `b` is unused now
    assert unused.range == types.Range(start=pos(1, 6), end=pos(1, 7))
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=session.doc(uri), position=pos(1, 10))
    )
    assert hover is not None and "(const) a" in hover.contents.value


@asyncio
async def test_file_name_needing_percent_encoding(session: Session, workspace: Path) -> None:
    uri = session.open("my flow ü.flow", 'return await Workflow.run("later", {});\n')
    assert "%20" in uri
    found = await session.diagnostics(uri, lambda ds: any(d.code == "RY302" for d in ds))
    assert found
    # A watched-file event re-publishes for the open document under the client's own URI.
    (workspace / "later.flow").write_text("return 1;\n")
    session.client.diagnostics.pop(uri, None)
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=session.uri("later.flow"), type=types.FileChangeType.Created)
            ]
        )
    )
    assert await session.diagnostics(uri) == []
    (workspace / "later.flow").unlink()
    session.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=session.uri("later.flow"), type=types.FileChangeType.Deleted)
            ]
        )
    )
    assert any(d.code == "RY302" for d in await session.diagnostics(uri, bool))
    session.close(uri)


@asyncio
async def test_request_for_a_document_never_opened(session: Session) -> None:
    errors_before = len(session.client.log_messages)
    missing = session.uri("no-such-file.flow")
    hover = await session.client.text_document_hover_async(
        types.HoverParams(text_document=session.doc(missing), position=pos(0, 0))
    )
    symbols = await session.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=session.doc(missing))
    )
    assert hover is None and symbols == []
    assert len(session.client.log_messages) == errors_before  # not reported as a server failure


@asyncio
async def test_deep_nesting_becomes_a_diagnostic(session: Session) -> None:
    uri = session.open("deep.flow", "let a = " + "[" * 5000)
    found = await session.diagnostics(uri, bool)
    assert any(d.code == "RY001" and "nested too deeply" in d.message for d in found)
    tokens = await session.client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=session.doc(uri))
    )
    assert tokens is not None
    session.close(uri)


@asyncio
async def test_too_large_document_degrades_gracefully(session: Session) -> None:
    text = "let total = 0;\n" * (MAX_ANALYSED_CHARS // 15 + 1)
    started = time.monotonic()
    uri = session.open("huge.flow", text)
    found = await session.diagnostics(uri, bool)
    assert found[0].severity == types.DiagnosticSeverity.Warning
    assert "too large" in found[0].message
    edits = await session.client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=session.doc(uri),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not edits
    assert time.monotonic() - started < 5
    session.close(uri)


def test_semantic_tokens_take_linear_time() -> None:
    # A ratio of two sizes, in CPU time, so a loaded machine cannot fail it: 4x the text takes
    # ~4x the time when linear, ~16x when quadratic (as it once was).
    def cost(copies: int) -> tuple[float, int]:
        text = "const xs = [1, 2];\nlet total = xs.length + Math.max(1, 2);\n" * copies
        document = analyse("file:///big.flow", text)
        best = float("inf")
        for _ in range(3):
            started = time.process_time()
            data = semantic_tokens(document)
            best = min(best, time.process_time() - started)
        return best, len(data)

    small, small_count = cost(500)
    large, large_count = cost(2000)  # ~120 kB
    assert (small_count, large_count) == (5 * 12 * 500, 5 * 12 * 2000)
    assert large < 8 * max(small, 0.002), (small, large)
