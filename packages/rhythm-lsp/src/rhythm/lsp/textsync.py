"""Document text kept in step with the editor by LSP's own rules.

pygls splits a document into lines with `str.splitlines`, which also breaks at \\v, \\f, \\x1c-\\x1e,
\\x85, \\u2028 and \\u2029; LSP counts only \\n, \\r\\n and \\r. With any of those characters in a
document (in a string or a comment, say) pygls applied incremental edits to the wrong place and
the server's text drifted from the editor's. Here every edit goes through `LineIndex`, the same
line and column arithmetic that converts every other position, so the two can never disagree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace

from rhythm.lsp.positions import LineIndex, split_lines


def encoding_name(encoding: Any) -> str:
    """The name ("utf-8", "utf-16" or "utf-32") of a negotiated `PositionEncodingKind`."""
    encoding = encoding or types.PositionEncodingKind.Utf16
    return str(getattr(encoding, "value", encoding))


class LspTextDocument(TextDocument):
    """A pygls text document whose lines and incremental edits follow LSP's line breaks."""

    @property
    def lines(self) -> Sequence[str]:
        return tuple(split_lines(self.source))

    def _apply_incremental_change(self, change: types.TextDocumentContentChangePartial) -> None:
        source = self.source
        lines = LineIndex(source, encoding_name(self.position_codec.encoding))
        start = lines.offset(change.range.start)
        end = lines.offset(change.range.end)
        if end < start:  # a reversed range: take it as the text between the two positions
            start, end = end, start
        self._source = source[:start] + change.text + source[end:]


class LspWorkspace(Workspace):
    """A pygls workspace that keeps its open documents as `LspTextDocument`s."""

    def _create_text_document(
        self,
        doc_uri: str,
        source: str | None = None,
        version: int | None = None,
        language_id: str | None = None,
    ) -> TextDocument:
        return LspTextDocument(
            doc_uri,
            source=source,
            version=version,
            language_id=language_id,
            sync_kind=self._sync_kind,
            position_codec=self.position_codec,
        )
