"""Semantic tokens (full document): the tokens rhythm.core's lexer cut for the parser; names are classified with
the document's scopes (variable / parameter, declaration, readonly for const) and the stdlib table
(namespace / function with defaultLibrary)."""

from __future__ import annotations

from rhythm.core.lexer import KEYWORDS, Tok
from rhythm.core.stdlib import StdObject, lookup_global
from rhythm.lsp.document import Document
from rhythm.lsp.positions import LineIndex
from rhythm.lsp.scopes import BindingIndex, binding_index

TOKEN_TYPES = [
    "keyword",
    "variable",
    "parameter",
    "property",
    "method",
    "function",
    "namespace",
    "string",
    "number",
    "comment",
    "regexp",
]
TOKEN_MODIFIERS = ["declaration", "readonly", "defaultLibrary"]

_TYPE = {name: i for i, name in enumerate(TOKEN_TYPES)}
_DECLARATION, _READONLY, _DEFAULT_LIBRARY = 1, 2, 4
_KEYWORD_TYPES = {*KEYWORDS.values(), "OF"}  # `of` is contextual: the lexer types it OF
_STRING_TYPES = {"STRING", "TEMPLATE_FULL", "TEMPLATE_HEAD", "TEMPLATE_MIDDLE", "TEMPLATE_TAIL"}


def _name_token(tokens: list[Tok], i: int, bindings: BindingIndex) -> tuple[str, int]:
    tok = tokens[i]
    previous = tokens[i - 1].type if i > 0 else ""
    following = tokens[i + 1].type if i + 1 < len(tokens) else ""  # `tokens` has no virtual ones
    if previous in ("DOT", "QDOT"):
        return ("method" if following == "LPAR" else "property"), 0
    binding, is_declaration = bindings.get(tok.start_pos, (None, False))
    if binding is not None:
        modifiers = _DECLARATION if is_declaration else 0
        if binding.kind == "const":
            modifiers |= _READONLY
        return ("parameter" if binding.kind == "param" else "variable"), modifiers
    if following == "COLON" and previous in ("LBRACE", "LBRACE_OBJ", "COMMA"):
        return "property", 0  # an object literal's key
    entry = lookup_global(tok.value)
    if entry is not None:
        return ("namespace" if isinstance(entry, StdObject) else "function"), _DEFAULT_LIBRARY
    return "variable", 0


def _emit(
    out: list[tuple[int, int, int, int]],
    lines: LineIndex,
    start: int,
    end: int,
    kind: str,
    mods: int,
) -> None:
    """One token per line for tokens spanning lines (template literals, block comments)."""
    while start < end:
        position = lines.position(start)
        content_end = lines.line_end(position.line)
        piece_end = min(end, content_end)
        if piece_end > start:
            length = lines.position(piece_end).character - position.character
            out.append((position.line, position.character, length, _TYPE[kind] << 8 | mods))
        if end <= content_end or position.line + 1 >= len(lines.line_starts):
            return
        start = lines.line_starts[position.line + 1]


def semantic_tokens(document: Document) -> list[int]:
    """The encoded tokens of the current text. Over an older analysis, its tokens are moved by
    the edits since, and those the edits touched are left out until the next analysis."""
    lines = document.lines
    bindings = binding_index(document)
    found: list[tuple[int, int, int, int]] = []
    edits = document.edits

    def emit(start: int, end: int, kind: str, mods: int) -> None:
        if edits is not None:
            if edits.touches(start, end):
                return
            start, end = edits.to_new(start), edits.to_new(end, end=True)
        _emit(found, lines, start, end, kind, mods)

    real = [t for t in document.analysis.tokens if t.value != ""]
    for i, tok in enumerate(real):
        kind: str | None = None
        mods = 0
        if tok.type in _KEYWORD_TYPES:
            kind = "keyword"
        elif tok.type in _STRING_TYPES:
            kind = "string"
        elif tok.type == "NUMBER":
            kind = "number"
        elif tok.type == "REGEX":
            kind = "regexp"
        elif tok.type == "NAME":
            kind, mods = _name_token(real, i, bindings)
        if kind is not None:
            emit(tok.start_pos, tok.end_pos, kind, mods)
    for span, _text in document.program.comments:
        emit(span.start, span.end, "comment", 0)
    found.sort()
    data: list[int] = []
    last_line = last_char = 0
    for line, char, length, packed in found:
        delta_line = line - last_line
        delta_char = char - last_char if delta_line == 0 else char
        data += [delta_line, delta_char, length, packed >> 8, packed & 0xFF]
        last_line, last_char = line, char
    return data
