"""A client that asks for UTF-32 positions gets code point columns; the default is UTF-16."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, make_test_lsp_client

TEXT = 'const s = "😀😀"; const x = y;\n'


async def first_diagnostics(encodings: list[types.PositionEncodingKind] | None, tmp: str) -> tuple:
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "rhythm.lsp")
    try:
        result = await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(
                    general=types.GeneralClientCapabilities(position_encodings=encodings)
                ),
                root_uri=from_fs_path(tmp),
            )
        )
        uri = from_fs_path(f"{tmp}/enc.flow") or ""
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=uri, language_id="rhythm", version=1, text=TEXT
                )
            )
        )
        for _ in range(500):
            if uri in client.diagnostics:
                break
            await asyncio.sleep(0.01)
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                # `x` in code points (UTF-32) or in UTF-16 units: the server must read it right.
                position=types.Position(
                    line=0,
                    character=TEXT.index("x =")
                    + (0 if encodings == [types.PositionEncodingKind.Utf32] else 2),
                ),
            )
        )
        await client.shutdown_session()
        return result.capabilities.position_encoding, list(client.diagnostics[uri]), hover
    finally:
        await client.stop()


@pytest.mark.parametrize(
    ("encodings", "expected", "shift"),
    [
        ([types.PositionEncodingKind.Utf32], types.PositionEncodingKind.Utf32, 0),
        (None, types.PositionEncodingKind.Utf16, 2),
    ],
)
async def test_position_encodings(
    encodings: list[types.PositionEncodingKind] | None,
    expected: types.PositionEncodingKind,
    shift: int,
    tmp_path: Path,
) -> None:
    negotiated, diagnostics, hover = await first_diagnostics(encodings, str(tmp_path))
    assert negotiated == expected
    undefined = next(d for d in diagnostics if d.code == "RY101")
    assert undefined.range.start.character == TEXT.index("y;") + shift
    assert hover is not None and "(const) x" in hover.contents.value
