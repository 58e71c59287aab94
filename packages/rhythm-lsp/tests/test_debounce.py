"""Typing-aware debouncing: the policy as a plain object, then the server publishing once per
lone edit (the burst case is test_server.py::test_rapid_edits_are_debounced)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest
from lsprotocol import types

from rhythm.lsp.debounce import TypingDebounce

if TYPE_CHECKING:
    from conftest import Session


def test_an_edit_after_a_pause_waits_briefly_and_a_burst_waits_for_quiet() -> None:
    debounce = TypingDebounce(quiet=0.05, first=0.015)
    assert debounce.delay("a", 10.0) == 0.015  # the first edit
    assert debounce.delay("a", 10.002) == 0.05  # a second keystroke 2 ms later: typing
    assert debounce.delay("a", 10.040) == 0.05  # still typing (38 ms since the last one)
    assert debounce.delay("b", 10.041) == 0.015  # another document has its own clock
    assert debounce.delay("a", 10.100) == 0.015  # after 60 ms of quiet: a pause again
    debounce.forget("a")
    assert debounce.delay("a", 10.101) == 0.015  # closed and reopened: no burst


def test_no_debounce_checks_every_edit_at_once() -> None:
    debounce = TypingDebounce(quiet=0.0, first=0.0)
    assert debounce.delay("a", 1.0) == 0.0
    assert debounce.delay("a", 1.0) == 0.0


@pytest.mark.asyncio(loop_scope="module")
async def test_each_edit_after_a_pause_is_published(session: Session) -> None:
    uri = session.open("pauses.flow", "let n = 1;\nreturn n;\n")
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
        for i in range(3):  # one keystroke, then a pause longer than the quiet period
            position = types.Position(line=1, character=8 + i)
            session.edit(uri, position, position, str(i))
            await session.diagnostics(uri)
            await asyncio.sleep(0.1)
    finally:
        features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = original
    assert published == [2, 3, 4]
