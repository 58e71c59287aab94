"""Random edits (insertions and deletions at random offsets, sent as incremental didChange) never
kill the server, and every request keeps getting an answer."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

SEED_TEXT = """\
const order = Inputs.order;
let total = 0;
for (const item of order.items) {
  total += item.price * 2;
}
const r = await Task.run("charge_card", { amount: total, note: `sum ${total}` });
try {
  await Signal.when("ok", { timeout: "1h" });
} catch (e) {
  return { error: e.message };
}
return [r, "😀", Math.max(1, 2)];
"""

FRAGMENTS = [
    "{", "}", "(", ")", "[", "]", '"', "'", "`", "${", "/*", "//", "\n", ";", ",", ".",
    "=>", "await ", "const ", "let x = ", "Task.run(", "Inputs.", "if (", "else ", "😀", "é",
    "\r\n", "\t", "...", "?.", "??", "for (const a of ", "return ", "0x", "1e", "\\",
]  # fmt: skip

Loop = tuple[asyncio.AbstractEventLoop, LanguageClient, str]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "tasks.py").write_text("@task\ndef charge_card(amount):\n    pass\n")
    uri = from_fs_path(str(root / "fuzz.flow")) or ""
    loop = asyncio.new_event_loop()
    client = make_test_lsp_client()
    loop.run_until_complete(client.start_io(sys.executable, "-m", "rhythm.lsp"))
    loop.run_until_complete(
        client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("neovim"),
                root_uri=from_fs_path(str(root)),
                # Check after every edit (no debounce), so diagnostics run on every text too.
                initialization_options={"diagnosticsDelay": 0},
            )
        )
    )
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="rhythm", version=0, text=SEED_TEXT
            )
        )
    )
    try:
        yield loop, client, uri
    finally:
        loop.run_until_complete(client.shutdown_session())
        loop.run_until_complete(client.stop())
        loop.close()


def _position(text: str, offset: int) -> types.Position:
    """LSP (UTF-16) position of a code point offset."""
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    units = len(before.encode("utf-16-le")) // 2
    return types.Position(line=text.count("\n", 0, offset), character=units)


edit_strategy = st.lists(
    st.tuples(
        st.floats(min_value=0, max_value=1),  # where, as a fraction of the text
        st.integers(min_value=0, max_value=12),  # how many characters to delete
        st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),  # what to insert
    ),
    min_size=1,
    max_size=6,
)

_state = {"text": SEED_TEXT, "version": 0}


async def _exercise(client: LanguageClient, uri: str, edits: list) -> None:
    for where, delete, insert in edits:
        text = _state["text"]
        start = int(where * len(text))
        end = min(len(text), start + delete)
        # Never split a \r\n pair: an editor's offsets cannot land inside a line break.
        if 0 < start < len(text) and text[start - 1 : start + 1] == "\r\n":
            start -= 1
        if 0 < end < len(text) and text[end - 1 : end + 1] == "\r\n":
            end += 1
        _state["version"] += 1
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=uri, version=_state["version"]
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=_position(text, start), end=_position(text, end)),
                        text=insert,
                    )
                ],
            )
        )
        _state["text"] = text[:start] + insert + text[end:]
    text = _state["text"]
    doc = types.TextDocumentIdentifier(uri=uri)
    cursor = _position(text, len(text) // 2)
    await asyncio.wait_for(
        asyncio.gather(
            client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=cursor)
            ),
            client.text_document_hover_async(types.HoverParams(text_document=doc, position=cursor)),
            client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=doc)
            ),
            client.text_document_formatting_async(
                types.DocumentFormattingParams(
                    text_document=doc,
                    options=types.FormattingOptions(tab_size=2, insert_spaces=True),
                )
            ),
            client.text_document_semantic_tokens_full_async(
                types.SemanticTokensParams(text_document=doc)
            ),
            client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc)),
            client.text_document_signature_help_async(
                types.SignatureHelpParams(text_document=doc, position=cursor)
            ),
        ),
        timeout=10,
    )


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=edit_strategy)
def test_random_edits_never_kill_the_server(server: Loop, edits: list) -> None:
    loop, client, uri = server
    loop.run_until_complete(_exercise(client, uri, edits))
    assert client.error is None
    # Every handler answered without hitting its safety net (which logs an error to the client).
    errors = [m.message for m in client.log_messages if m.type == types.MessageType.Error]
    assert errors == [], f"{errors} after editing into:\n{_state['text']}"


def test_server_still_answers_after_fuzzing(server: Loop) -> None:
    loop, client, uri = server
    result = loop.run_until_complete(
        client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    )
    assert isinstance(result, list)
