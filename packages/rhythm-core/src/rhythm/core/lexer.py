"""The .flow tokenizer: source text -> the token list the LALR grammar reads.

Two passes. The first cuts the text into raw tokens (numbers, strings with their escapes, template
literal pieces with nested `${ ... }`, comments, punctuators, words). The second decides what an LR(1)
grammar cannot see locally, using the bracket structure and lookahead:

- whether `{` opens a block (`LBRACE`) or an object literal / object pattern (`LBRACE_OBJ`);
- whether `(` opens arrow-function parameters (`ARROW_LPAR`) or a for-of/for-in head (`FOREACH_LPAR`);
- keywords used as property names (`a.default`, `{ if: 1 }`) become `NAME`;
- automatic semicolon insertion: a virtual `NLSEMI` where a newline ends a statement, and a virtual
  `SEMI` before a block's `}` and at the end of the file;
- unbalanced brackets are repaired (with one diagnostic each), so the parser always sees balanced
  brackets and can resynchronise on statement boundaries.

Virtual tokens have an empty value; every real token's value is its source text.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from lark import Token

from rhythm.core.ast import Span
from rhythm.core.diagnostics import Code, Diagnostic, Severity


class Tok(Token):
    """A lark token with the extra facts the grammar's lexer hack and the parser need."""

    cooked: object  # string/template: the cooked text; number: the value
    nl_before: bool  # a line terminator separates this token from the previous one
    kind: str  # for RBRACE: "b" block, "a" arrow body, "o" object; for INC/DEC: "post"/"pre"

    @property
    def virtual(self) -> bool:
        return self.value == ""


KEYWORDS = {
    "let": "LET",
    "const": "CONST",
    "if": "IF",
    "else": "ELSE",
    "for": "FOR",
    "in": "IN",
    "while": "WHILE",
    "do": "DO",
    "break": "BREAK",
    "continue": "CONTINUE",
    "return": "RETURN",
    "throw": "THROW",
    "try": "TRY",
    "catch": "CATCH",
    "finally": "FINALLY",
    "true": "TRUE",
    "false": "FALSE",
    "null": "NULL",
    "undefined": "UNDEFINED",
    "typeof": "TYPEOF",
    "await": "AWAIT",
    "async": "ASYNC",
    "function": "FUNCTION",
    "void": "VOID",
    "delete": "DELETE",
    "switch": "SWITCH",
    "case": "CASE",
    "default": "DEFAULT",
    "new": "NEW",
    "instanceof": "INSTANCEOF",
}

# Words JavaScript reserves (or gives meaning) that the .flow subset does not support.
RESERVED_HINTS = {
    "var": "use 'let' or 'const'",
    "class": "use object literals and arrow functions",
    "this": "functions and methods have no 'this': refer to the object by its variable name",
    "yield": "use await at the workflow's top level",
    "import": "call tasks with Task.run and other workflows with Workflow.run",
    "export": "a .flow file is one workflow; it returns its result with 'return'",
    "with": "",
    "enum": "use an object literal",
    "super": "there are no classes",
    "extends": "there are no classes",
    "static": "there are no classes",
    "debugger": "",
    "interface": "",
    "implements": "",
    "package": "",
    "private": "",
    "protected": "",
    "public": "",
}

PUNCTUATORS = {
    "...": "ELLIPSIS",
    "===": "SEQ",
    "!==": "SNE",
    "**=": "ASSIGN_OP",
    "??=": "ASSIGN_OP",
    "||=": "ASSIGN_OP",
    "&&=": "ASSIGN_OP",
    "=>": "ARROW",
    "==": "EQ",
    "!=": "NE",
    "<=": "LE",
    ">=": "GE",
    "&&": "ANDAND",
    "||": "OROR",
    "??": "QQ",
    "?.": "QDOT",
    "++": "INC",
    "--": "DEC",
    "**": "STARSTAR",
    "+=": "ASSIGN_OP",
    "-=": "ASSIGN_OP",
    "*=": "ASSIGN_OP",
    "/=": "ASSIGN_OP",
    "%=": "ASSIGN_OP",
    ">>>=": "ASSIGN_OP",
    "<<=": "ASSIGN_OP",
    ">>=": "ASSIGN_OP",
    "&=": "ASSIGN_OP",
    "|=": "ASSIGN_OP",
    "^=": "ASSIGN_OP",
    ">>>": "USHR",
    "<<": "SHL",
    ">>": "SHR",
    "&": "AMP",
    "|": "PIPE",
    "^": "CARET",
    "~": "TILDE",
    "(": "LPAR",
    ")": "RPAR",
    "[": "LSQB",
    "]": "RSQB",
    "{": "LBRACE",
    "}": "RBRACE",
    ";": "SEMI",
    ",": "COMMA",
    ".": "DOT",
    ":": "COLON",
    "?": "QMARK",
    "=": "ASSIGN",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "SLASH",
    "%": "PERCENT",
    "<": "LT",
    ">": "GT",
    "!": "BANG",
}
# Operators JavaScript has but .flow does not: reported clearly (none today).
UNSUPPORTED_OPERATORS: tuple[str, ...] = ()
_PUNCT_ORDER = sorted([*PUNCTUATORS, *UNSUPPORTED_OPERATORS], key=len, reverse=True)
_PUNCT_RE = re.compile(
    r"\?\.(?![0-9])|" + "|".join(re.escape(p) for p in _PUNCT_ORDER if p != "?.")
)

# Token types after which a newline may end a statement (automatic semicolon insertion).
_ENDERS = {
    "NAME",
    "NUMBER",
    "STRING",
    "REGEX",
    "TEMPLATE_FULL",
    "TEMPLATE_TAIL",
    "RPAR",
    "RSQB",
    "TRUE",
    "FALSE",
    "NULL",
    "UNDEFINED",
    "BREAK",
    "CONTINUE",
    "RETURN",
    "THROW",
    "RESERVED",
}
# Tokens that, starting the next line, continue the current expression instead.
_CONTINUERS = {
    "AMP",
    "PIPE",
    "CARET",
    "SHL",
    "SHR",
    "USHR",
    "DOT",
    "QDOT",
    "PLUS",
    "MINUS",
    "STAR",
    "SLASH",
    "PERCENT",
    "STARSTAR",
    "LT",
    "LE",
    "GT",
    "GE",
    "EQ",
    "NE",
    "SEQ",
    "SNE",
    "ANDAND",
    "OROR",
    "QQ",
    "IN",
    "INSTANCEOF",
    "QMARK",
    "COLON",
    "COMMA",
    "ASSIGN",
    "ASSIGN_OP",
    "ARROW",
    "RPAR",
    "RSQB",
    "RBRACE",
    "LPAR",
    "LSQB",
    "TEMPLATE_MIDDLE",
    "TEMPLATE_TAIL",
    # A template on the next line continues the expression as a tagged template (which .flow
    # rejects) rather than starting a statement.
    "TEMPLATE_FULL",
    "TEMPLATE_HEAD",
    "SEMI",
}
# A newline before these ends an arrow's `{ ... }` body (`() => {}(1)` is not JavaScript).
_ARROW_END_STARTERS = {"LPAR", "LSQB", "TEMPLATE_FULL", "TEMPLATE_HEAD"}
# After these, a newline always ends the statement (JavaScript's restricted productions).
_RESTRICTED = {"RETURN", "BREAK", "CONTINUE", "THROW"}
# After these, `{` opens a block rather than an object literal.
_BLOCK_PREV = {"SEMI", "NLSEMI", "LBRACE", "RPAR", "ELSE", "DO", "TRY", "FINALLY", "CATCH", "ARROW"}
# Keywords that can only start a statement: inside an open `(` / `[` / object they mean the
# bracket was never closed.
_STATEMENT_KEYWORDS = {
    "LET",
    "CONST",
    "IF",
    "FOR",
    "WHILE",
    "DO",
    "RETURN",
    "THROW",
    "TRY",
    "BREAK",
    "CONTINUE",
}
_OPENERS = {"LPAR": "(", "ARROW_LPAR": "(", "FOREACH_LPAR": "(", "LSQB": "[", "TEMPLATE_HEAD": "${"}
_CLOSER_FOR = {"(": "RPAR", "[": "RSQB", "{b": "RBRACE", "{a": "RBRACE", "{o": "RBRACE"}
_MAX_UNCLOSED_REPORTED = 3  # more brackets left open at one place: one summarising diagnostic
_CLOSER_TEXT = {"(": ")", "[": "]", "{b": "}", "{a": "}", "{o": "}", "${": "}"}
_OPENER_TEXT = {"(": "(", "[": "[", "{b": "{", "{a": "{", "{o": "{", "${": "${"}

_UNSUPPORTED = frozenset(UNSUPPORTED_OPERATORS)
_SPACE_CHARS = " \t\f\v\u00a0\ufeff"
# The scanner's fast path: a line break (n), spaces (s), spaces holding a U+2028/U+2029 (l), a word
# (w), a plain decimal integer (d), a string without escapes (q) or a punctuator (p) -- never `/`
# starting a comment, nor `.` starting a number. Anything else goes to the general scanner.
_FAST = re.compile(
    r"(?P<n>\r\n|[\n\r\u2028\u2029])"
    rf"|(?P<l>[{_SPACE_CHARS}]+[\u2028\u2029][{_SPACE_CHARS}\u2028\u2029]*)"
    rf"|(?P<s>[{_SPACE_CHARS}]+)"
    r"|(?P<w>[^\W\d][\w$]*|\$[\w$]*)"
    r"|(?P<d>(?:0|[1-9][0-9]*)(?![\w$.]))"
    r"|(?P<q>\"[^\"\\\n\r\u2028\u2029]*\"|'[^'\\\n\r\u2028\u2029]*')"
    r"|(?P<p>\?\.(?![0-9])|"
    + "|".join(
        r"/(?![/*])" if p == "/" else r"\.(?![0-9])" if p == "." else re.escape(p)
        for p in _PUNCT_ORDER
        if p != "?."
    )
    + ")"
)
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def _cooked(parts: list[str]) -> str:
    """The text of a string literal. Strings hold code points, so an escaped surrogate pair
    (`"\\ud83d\\ude00"`) becomes the one character it encodes, as JavaScript reads it."""
    text = "".join(parts)
    if _SURROGATE_PAIR.search(text):
        text = _SURROGATE_PAIR.sub(
            lambda m: chr(0x10000 + ((ord(m[0][0]) - 0xD800) << 10) + ord(m[0][1]) - 0xDC00), text
        )
    return text


_WS = re.compile(r"[ \t\f\v\u00a0\ufeff\u2028\u2029]+")
_WORD = re.compile(r"[^\W\d][\w$]*|\$[\w$]*", re.UNICODE)
_NUMBER = re.compile(
    r"0[xX][0-9a-fA-F_]*|0[oO][0-7_]*|0[bB][01_]*"
    r"|(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]*)?"
)
_HEX = re.compile(r"[0-9a-fA-F]+")
_DIGITS = "0123456789"


@dataclass
class LexResult:
    tokens: list[Tok]
    comments: list[tuple[Span, str]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


class _Lines:
    """Offset -> (line, column) for a source text."""

    def __init__(self, text: str) -> None:
        self.starts = [0]
        for m in re.finditer(r"\r\n|[\n\r\u2028\u2029]", text):
            self.starts.append(m.end())

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(end)
        return Span(line, col, end_line, end_col, start, end)


_str_new = str.__new__


def _new_tok(
    type_: str,
    value: str,
    start: int,
    line: int,
    column: int,
    end_line: int,
    end_column: int,
    end: int,
    cooked: object,
    nl: bool,
) -> Tok:
    """`Tok(type_, value, ...)` with the extra attributes set, without lark's `Token.__new__`
    argument handling (the same attributes, set directly: this runs once per token)."""
    tok = _str_new(Tok, value)
    tok.type = type_
    tok.start_pos = start
    tok.value = value
    tok.line = line
    tok.column = column
    tok.end_line = end_line
    tok.end_column = end_column
    tok.end_pos = end
    tok.cooked = cooked
    tok.nl_before = nl
    tok.kind = ""
    return tok


def make_tok(type_: str, value: str, span: Span, cooked: object = None, nl: bool = False) -> Tok:
    return _new_tok(
        type_,
        value,
        span.start,
        span.line,
        span.column,
        span.end_line,
        span.end_column,
        span.end,
        cooked,
        nl,
    )


def tok_span(tok: Token) -> Span:
    return Span(tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


class _Scanner:
    """Pass 1: text -> raw tokens."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = _Lines(text)
        self.pos = 0
        self.tokens: list[Tok] = []
        self.comments: list[tuple[Span, str]] = []
        self.diagnostics: list[Diagnostic] = []
        self.nl = False
        # Brace stack used only to tell a template's `}` from an ordinary one.
        self.braces: list[str] = []

    def error(self, message: str, start: int, end: int) -> None:
        self.diagnostics.append(
            Diagnostic(Code.SYNTAX, Severity.ERROR, message, self.lines.span(start, end))
        )

    def emit(self, type_: str, start: int, end: int, cooked: object = None) -> None:
        span = self.lines.span(start, end)
        self.tokens.append(make_tok(type_, self.text[start:end], span, cooked, self.nl))
        self.nl = False

    def run(self) -> None:
        """The common tokens (line breaks, spaces, words, punctuators) are cut by one regex in a
        tight loop that tracks the line itself; everything else goes to `step`, the general
        scanner, after which the line is found again from the offset."""
        text = self.text
        n = len(text)
        fast = _FAST.match
        starts = self.lines.starts
        tokens = self.tokens
        append = tokens.append
        braces = self.braces
        new_tok = _new_tok
        punctuators = PUNCTUATORS
        unsupported = _UNSUPPORTED
        regex_allowed = _regex_allowed
        pos = self.pos
        line = 1
        line_start = 0
        nl = self.nl
        while pos < n:
            m = fast(text, pos)
            if m is not None:
                kind = m.lastgroup
                end = m.end()
                if kind == "w":
                    value = text[pos:end]
                    append(
                        new_tok(
                            "WORD",
                            value,
                            pos,
                            line,
                            pos - line_start + 1,
                            line,
                            end - line_start + 1,
                            end,
                            None,
                            nl,
                        )
                    )
                    nl = False
                elif kind == "d" or kind == "q":
                    value = text[pos:end]
                    append(
                        new_tok(
                            "NUMBER" if kind == "d" else "STRING",
                            value,
                            pos,
                            line,
                            pos - line_start + 1,
                            line,
                            end - line_start + 1,
                            end,
                            int(value) if kind == "d" else value[1:-1],
                            nl,
                        )
                    )
                    nl = False
                elif kind == "p":
                    value = text[pos:end]
                    if value == "}" and braces and braces[-1] == "${":
                        m = None  # a template continues: the general scanner reads it
                    elif value[0] == "/" and regex_allowed(tokens):
                        m = None  # a regular expression literal: the general scanner reads it
                    else:
                        if value in unsupported:
                            self.pos = pos
                            self.nl = nl
                            self.error(f"operator '{value}' is not supported in .flow", pos, end)
                            ty = "RESERVED"
                        else:
                            if value == "{":
                                braces.append("{")
                            elif value == "}" and braces:
                                braces.pop()
                            ty = punctuators[value]
                        append(
                            new_tok(
                                ty,
                                value,
                                pos,
                                line,
                                pos - line_start + 1,
                                line,
                                end - line_start + 1,
                                end,
                                None,
                                nl,
                            )
                        )
                        nl = False
                elif kind == "n":
                    nl = True
                    line += 1
                    line_start = end
                elif kind == "s":
                    pass
                else:  # spaces with a U+2028/U+2029 among them: skipped, but they start lines
                    line = bisect.bisect_right(starts, end)
                    line_start = starts[line - 1]
                if m is not None:
                    pos = end
                    continue
            self.pos = pos
            self.nl = nl
            self.step()
            pos = self.pos
            nl = self.nl
            line = bisect.bisect_right(starts, pos)
            line_start = starts[line - 1]
        self.pos = pos
        self.nl = nl

    def step(self) -> None:
        """Read one token (or space, comment, error) at `self.pos`: the general scanner."""
        text = self.text
        n = len(text)
        if self.pos < n:
            c = text[self.pos]
            if c in "\n\r\u2028\u2029":
                self.nl = True
                self.pos += 1
                return
            m = _WS.match(text, self.pos)
            if m:
                self.pos = m.end()
                return
            if text.startswith("//", self.pos):
                end = self.pos
                while end < n and text[end] not in "\n\r\u2028\u2029":
                    end += 1
                self.comments.append((self.lines.span(self.pos, end), text[self.pos : end]))
                self.pos = end
                return
            if text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    self.error("unterminated comment: '/*' has no closing '*/'", self.pos, n)
                    end = n
                else:
                    end += 2
                body = text[self.pos : end]
                if any(ch in body for ch in "\n\r\u2028\u2029"):
                    self.nl = True
                self.comments.append((self.lines.span(self.pos, end), body))
                self.pos = end
                return
            if c in _DIGITS or (c == "." and self.pos + 1 < n and text[self.pos + 1] in _DIGITS):
                self.number()
                return
            m = _WORD.match(text, self.pos)
            if m:
                self.emit("WORD", m.start(), m.end())
                self.pos = m.end()
                return
            if c in "\"'":
                self.string(c)
                return
            if c == "`":
                self.template(self.pos, self.pos + 1, "TEMPLATE_FULL", "TEMPLATE_HEAD")
                return
            if c == "}" and self.braces and self.braces[-1] == "${":
                self.braces.pop()
                self.template(self.pos, self.pos + 1, "TEMPLATE_TAIL", "TEMPLATE_MIDDLE")
                return
            if c == "/" and _regex_allowed(self.tokens):
                self.regex()
                return
            m = _PUNCT_RE.match(text, self.pos)
            if m:
                p = m.group()
                if p in UNSUPPORTED_OPERATORS:
                    self.error(f"operator '{p}' is not supported in .flow", self.pos, m.end())
                    self.emit("RESERVED", self.pos, m.end())
                else:
                    if p == "{":
                        self.braces.append("{")
                    elif p == "}" and self.braces:
                        self.braces.pop()
                    self.emit(PUNCTUATORS[p], self.pos, m.end())
                self.pos = m.end()
                return
            if c == "#" and self.pos == 0 and text.startswith("#!"):
                self.error("'#!' lines are not supported in .flow", 0, 2)
            else:
                self.error(f"unexpected character {c!r}", self.pos, self.pos + 1)
            self.pos += 1

    def regex(self) -> None:
        """A regular expression literal `/body/flags` (the scanner has decided `/` starts one);
        its cooked value is (body, flags). The body is checked later, by the checker."""
        text = self.text
        n = len(text)
        start = self.pos
        i = start + 1
        in_class = False
        while True:
            if i >= n or text[i] in "\n\r\u2028\u2029":
                self.error("unterminated regular expression literal: add the closing /", start, i)
                self.pos = i
                self.emit("REGEX", start, i, (text[start + 1 : i], ""))
                return
            c = text[i]
            if c == "\\":
                if i + 1 < n and text[i + 1] in "\n\r\u2028\u2029":
                    i += 1
                    continue
                i += 2
                continue
            if c == "[":
                in_class = True
            elif c == "]":
                in_class = False
            elif c == "/" and not in_class:
                break
            i += 1
        body = text[start + 1 : i]
        m = _REGEX_FLAGS.match(text, i + 1)
        end = m.end() if m else i + 1
        self.pos = end
        self.emit("REGEX", start, end, (body, text[i + 1 : end]))

    def number(self) -> None:
        text = self.text
        start = self.pos
        m = _NUMBER.match(text, start)
        assert m is not None
        end = m.end()
        raw = text[start:end]
        self.pos = end
        value: float | int = 0
        digits = raw.replace("_", "")
        bad_sep = raw.endswith("_") or "__" in raw or "_." in raw or "._" in raw
        bad_sep = bad_sep or re.search(r"_[eE]|[eE][+-]?_|^0[xXoObB]_", raw) is not None
        if bad_sep:
            self.error(f"invalid numeric separator in {raw!r}", start, end)
        try:
            if raw[:2] in ("0x", "0X"):
                value = int(digits[2:], 16)
            elif raw[:2] in ("0o", "0O"):
                value = int(digits[2:], 8)
            elif raw[:2] in ("0b", "0B"):
                value = int(digits[2:], 2)
            elif "." in digits or "e" in digits or "E" in digits:
                value = float(digits)
            else:
                if len(digits) > 1 and digits[0] == "0":
                    self.error(
                        f"legacy octal-like number {raw!r} is not allowed: remove the leading zero",
                        start,
                        end,
                    )
                value = int(digits)
        except ValueError:
            self.error(f"invalid number {raw!r}", start, end)
        if end < len(text) and (text[end].isalnum() or text[end] in "_$"):
            wend = end
            while wend < len(text) and (text[wend].isalnum() or text[wend] in "_$"):
                wend += 1
            if text[end] == "n":
                self.error("BigInt literals are not supported in .flow", start, wend)
            else:
                self.error(f"invalid number {text[start:wend]!r}", start, wend)
            end = wend
            self.pos = end
        self.emit("NUMBER", start, end, value)

    def escape(self, i: int, out: list[str]) -> int:
        """Read the escape sequence whose backslash is at i; append its text; return the next index."""
        text = self.text
        n = len(text)
        if i + 1 >= n:
            return i + 1
        c = text[i + 1]
        simple = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}
        if c in simple:
            out.append(simple[c])
            return i + 2
        if c == "0" and not (i + 2 < n and text[i + 2] in _DIGITS):
            out.append("\0")
            return i + 2
        if c == "\r":
            return i + 3 if text.startswith("\r\n", i + 1) else i + 2
        if c in "\n\u2028\u2029":
            return i + 2
        if c == "x":
            h = text[i + 2 : i + 4]
            if len(h) == 2 and _HEX.fullmatch(h):
                out.append(chr(int(h, 16)))
                return i + 4
            self.error("invalid escape sequence: '\\x' needs two hex digits", i, min(n, i + 4))
            return i + 2
        if c == "u":
            if i + 2 < n and text[i + 2] == "{":
                close = text.find("}", i + 3)
                h = text[i + 3 : close] if close > 0 else ""
                if close > 0 and _HEX.fullmatch(h) and int(h, 16) <= 0x10FFFF:
                    out.append(chr(int(h, 16)))
                    return close + 1
                self.error(
                    "invalid escape sequence: '\\u{...}' needs a hex code point up to 10FFFF",
                    i,
                    close + 1 if close > 0 else i + 3,
                )
                return close + 1 if close > 0 else i + 3
            h = text[i + 2 : i + 6]
            if len(h) == 4 and _HEX.fullmatch(h):
                out.append(chr(int(h, 16)))
                return i + 6
            self.error("invalid escape sequence: '\\u' needs four hex digits", i, min(n, i + 6))
            return i + 2
        if c in _DIGITS:
            self.error(f"octal escape '\\{c}' is not allowed", i, i + 2)
            return i + 2
        out.append(c)
        return i + 2

    def string(self, quote: str) -> None:
        text = self.text
        n = len(text)
        start = self.pos
        i = start + 1
        out: list[str] = []
        while True:
            if i >= n or text[i] in "\n\r":
                self.error("unterminated string: add the closing " + quote, start, i)
                break
            c = text[i]
            if c == quote:
                i += 1
                break
            if c == "\\":
                i = self.escape(i, out)
                continue
            out.append(c)
            i += 1
        self.pos = i
        self.emit("STRING", start, i, _cooked(out))

    def template(self, start: int, i: int, full: str, head: str) -> None:
        text = self.text
        n = len(text)
        out: list[str] = []
        while True:
            if i >= n:
                self.error("unterminated template literal: add the closing `", start, n)
                self.pos = n
                self.emit(full, start, n, _cooked(out))
                return
            c = text[i]
            if c == "`":
                self.pos = i + 1
                self.emit(full, start, i + 1, _cooked(out))
                return
            if c == "$" and text.startswith("${", i):
                self.pos = i + 2
                self.braces.append("${")
                self.emit(head, start, i + 2, _cooked(out))
                return
            if c == "\\":
                i = self.escape(i, out)
                continue
            if c == "\r":
                out.append("\n")  # template literals normalise line ends
                i += 2 if text.startswith("\r\n", i) else 1
                continue
            out.append(c)
            i += 1


_REGEX_FLAGS = re.compile(r"[\w$]+")
# Words after which `/` starts a regular expression (an expression is expected), as in JavaScript;
# after any other word (a name, `this`, `true`, ...) it divides.
_REGEX_AFTER_WORDS = frozenset(
    {"return", "typeof", "instanceof", "in", "new", "delete", "void", "throw", "case", "do",
     "else", "await", "yield"}
)  # fmt: skip
# Tokens before a `{` that make it a block, whose `}` may be followed by a regex.
_BLOCK_BEFORE = frozenset({"RPAR", "SEMI", "LBRACE", "RBRACE", "ARROW"})
_BLOCK_WORDS = frozenset({"else", "do", "try", "finally"})


def _regex_allowed(tokens: list[Tok]) -> bool:
    """Whether a `/` after `tokens` starts a regular expression rather than dividing: JavaScript
    decides by what the grammar allows there, which the previous token tells."""
    if not tokens:
        return True
    prev = tokens[-1]
    ty = prev.type
    if ty == "WORD":
        if prev.value == "of":  # `for (const m of /x/g.exec(s))`, but `of / 2` divides a name
            opener = _unclosed_paren(tokens)
            return opener > 0 and tokens[opener - 1].value == "for"
        return prev.value in _REGEX_AFTER_WORDS
    if ty in ("NUMBER", "STRING", "TEMPLATE_FULL", "TEMPLATE_TAIL", "RSQB", "REGEX", "RESERVED"):
        return False
    if ty == "INC" or ty == "DEC":
        return False  # `a++ / 2`; a prefix `++/re/` is not valid anyway
    if ty == "RPAR":  # `(a + b) / 2`, but `if (ok) /x/.test(s)`
        opener = _opener_index(tokens, "LPAR", "RPAR")
        return (
            opener > 0
            and tokens[opener - 1].type == "WORD"
            and (tokens[opener - 1].value in ("if", "while", "for", "with"))
        )
    if ty == "RBRACE":  # a block's `}` (a regex may start the next statement), not an object's
        opener = _opener_index(tokens, "LBRACE", "RBRACE")
        if opener <= 0:
            return opener == 0
        before = tokens[opener - 1]
        return before.type in _BLOCK_BEFORE or (
            before.type == "WORD" and before.value in _BLOCK_WORDS
        )
    return True  # after a punctuator that ends no expression: `(`, `=`, `,`, `!`, `&&`, ...


def _unclosed_paren(tokens: list[Tok]) -> int:
    """The index of the innermost `(` still open at the end of `tokens` (-1 when none)."""
    depth = 0
    for k in range(len(tokens) - 1, -1, -1):
        ty = tokens[k].type
        if ty == "RPAR":
            depth += 1
        elif ty == "LPAR":
            if depth == 0:
                return k
            depth -= 1
    return -1


def _opener_index(tokens: list[Tok], open_type: str, close_type: str) -> int:
    """The index of the bracket the last token closes (-1 when unbalanced)."""
    depth = 0
    for k in range(len(tokens) - 1, -1, -1):
        ty = tokens[k].type
        if ty == close_type:
            depth += 1
        elif ty == open_type:
            depth -= 1
            if depth == 0:
                return k
    return -1


def _match_brackets(raw: list[Tok]) -> list[int]:
    """For each opening bracket, the index of its closing partner (-1 when none)."""
    match = [-1] * len(raw)
    stack: list[int] = []
    pairs = {"RPAR": "LPAR", "RSQB": "LSQB", "RBRACE": "LBRACE"}
    for i, t in enumerate(raw):
        ty = t.type
        if ty in ("LPAR", "LSQB", "LBRACE", "TEMPLATE_HEAD"):
            stack.append(i)
        elif ty in pairs:
            if stack and raw[stack[-1]].type == pairs[ty]:
                match[stack.pop()] = i
        elif ty in ("TEMPLATE_MIDDLE", "TEMPLATE_TAIL"):
            if stack and raw[stack[-1]].type in ("TEMPLATE_HEAD", "TEMPLATE_MIDDLE"):
                match[stack.pop()] = i
            if ty == "TEMPLATE_MIDDLE":
                stack.append(i)
    return match


class _Shaper:
    """Pass 2: raw tokens -> grammar tokens (see the module docstring)."""

    def __init__(self, text: str, raw: list[Tok], lines: _Lines) -> None:
        self.text = text
        self.raw = raw
        self.lines = lines
        self.match = _match_brackets(raw)
        self.out: list[Tok] = []
        self.stack: list[tuple[str, Tok]] = []  # (kind, opening token)
        self.diagnostics: list[Diagnostic] = []
        self.of_index = -1  # raw index of the `of` word of the current for-of head
        self.case_heads: list[int] = []  # bracket depth of each `case`/`default` awaiting its colon
        self._scanned = 0  # `prev_end`: how much of `out` was looked at
        self._real_end = 0  # `prev_end`: where the last real token in out[:_scanned] ended

    # ------------------------------------------------------------ helpers

    def prev(self) -> Tok | None:
        return self.out[-1] if self.out else None

    def virtual(self, type_: str, at: int, kind: str = "", span: Span | None = None) -> Tok:
        tok = make_tok(type_, "", span if span is not None else self.lines.span(at, at))
        tok.kind = kind
        self.out.append(tok)
        return tok

    def error(self, message: str, span: Span) -> None:
        self.diagnostics.append(Diagnostic(Code.SYNTAX, Severity.ERROR, message, span))

    def prev_end(self) -> int:
        """Where the last real (not inserted) token ended. `out` only grows, so each token is
        looked at once: closing N unclosed brackets stays linear."""
        out = self.out
        for k in range(len(out) - 1, self._scanned - 1, -1):
            if not out[k].virtual:
                self._real_end = out[k].end_pos
                break
        self._scanned = len(out)
        return self._real_end

    def is_ender(self, tok: Tok | None) -> bool:
        if tok is None:
            return False
        if tok.type == "RPAR":
            return tok.kind != "head"  # `if (x)` + newline + statement: no semicolon there
        if tok.type in _ENDERS:
            return True
        if tok.type == "RBRACE":
            return tok.kind in ("a", "o")
        if tok.type in ("INC", "DEC"):
            return tok.kind == "post"
        return False

    def ender_at_end(self, tok: Tok | None) -> bool:
        return self.is_ender(tok) and not (
            tok is not None and tok.type == "RPAR" and tok.kind == "head"
        )

    def statement_context(self) -> bool:
        return not self.stack or self.stack[-1][0] in ("{b", "{a")

    def close_unclosed(self, stop: tuple[str, ...]) -> None:
        """Pop the innermost brackets down to one whose kind is in `stop` (or all), which were
        never closed: insert their closers and report them. A long run of them (deep unclosed
        nesting) is one diagnostic for the innermost, with a count of the rest."""
        stack = self.stack
        if not stack or stack[-1][0] in stop:
            return
        at = self.prev_end()
        span = self.lines.span(at, at)
        unclosed: list[tuple[str, Tok]] = []
        while stack and stack[-1][0] not in stop:
            kind, opener = stack.pop()
            unclosed.append((kind, opener))
            if kind == "${":
                tok = self.virtual("TEMPLATE_TAIL", at, "", span)
                tok.cooked = ""
                continue
            if kind in ("{b", "{a"):
                self.semi_before_block_end(at)
            self.virtual(_CLOSER_FOR[kind], at, kind[1:] if kind.startswith("{") else "", span)
        shown = unclosed if len(unclosed) <= _MAX_UNCLOSED_REPORTED else unclosed[:1]
        for kind, opener in shown:
            message = (
                f"expected '{_CLOSER_TEXT[kind]}' to close '{_OPENER_TEXT[kind]}' at "
                f"{opener.line}:{opener.column}"
            )
            if len(shown) < len(unclosed):
                kind, opener = unclosed[-1]
                message += (
                    f", and {len(unclosed) - 1} more unclosed brackets (the outermost "
                    f"'{_OPENER_TEXT[kind]}' at {opener.line}:{opener.column})"
                )
            self.error(message, span)

    def semi_before_block_end(self, at: int) -> None:
        if self.ender_at_end(self.prev()):
            self.virtual("SEMI", at)

    # ------------------------------------------------------------ main loop

    def run(self) -> list[Tok]:
        raw = self.raw
        for i, tok in enumerate(raw):
            ty = tok.type
            if ty == "WORD":
                ty = self.word_type(i, tok)
                tok.type = ty
            if tok.nl_before:
                self.maybe_asi(tok)
            if ty == "NAME" and self.label_ahead(i):
                self.raw[i + 1].kind = "label"  # `outer: {` opens a block, not an object
            if ty in ("CASE", "DEFAULT"):
                self.case_heads.append(len(self.stack))
            elif ty == "COLON" and self.case_heads and self.case_heads[-1] == len(self.stack):
                self.case_heads.pop()
                tok.kind = "case"  # `case x: {` opens a block, not an object
            if ty == "LBRACE":
                self.open_brace(tok)
                continue
            if ty in ("RPAR", "RSQB", "RBRACE", "TEMPLATE_MIDDLE", "TEMPLATE_TAIL"):
                if not self.close(tok):
                    continue
                if ty == "TEMPLATE_MIDDLE":
                    self.stack.append(("${", tok))
                continue
            if ty == "LPAR":
                tok.type = self.paren_type(i)
                p = self.prev()
                if p is not None and p.type in ("IF", "WHILE", "FOR", "CATCH"):
                    tok.kind = "head"
                self.stack.append(("(", tok))
                self.out.append(tok)
                continue
            if ty in ("LSQB", "TEMPLATE_HEAD"):
                self.stack.append((_OPENERS[ty], tok))
                self.out.append(tok)
                continue
            if ty in ("INC", "DEC"):
                tok.kind = "post" if (not tok.nl_before and self.is_ender(self.prev())) else "pre"
            self.out.append(tok)
        end = len(self.text)
        self.close_unclosed(())
        if self.ender_at_end(self.prev()):
            self.virtual("SEMI", end)
        return self.out

    def word_type(self, i: int, tok: Tok) -> str:
        word = tok.value
        p = self.prev()
        if p is not None and p.type in ("DOT", "QDOT"):
            return "NAME"
        nxt = self.raw[i + 1] if i + 1 < len(self.raw) else None
        if (
            self.stack
            and self.stack[-1][0] == "{o"
            and p is not None
            and p.type in ("LBRACE_OBJ", "COMMA")
            and nxt is not None
            and nxt.type in ("COLON", "LPAR", "COMMA", "RBRACE")
        ):
            return "NAME"  # a key (`{ if: 1 }`), a method name (`{ get() {} }`), `{ async }`
        if i == self.of_index:
            return "OF"
        if word in KEYWORDS:
            return KEYWORDS[word]
        if word in RESERVED_HINTS:
            return "RESERVED"
        return "NAME"

    def label_ahead(self, i: int) -> bool:
        """Whether the name at raw[i] starts a labelled statement: `name:` where a statement
        starts (not a key in an object, a `case x:` or the middle of `a ? b : c`)."""
        nxt = self.raw[i + 1] if i + 1 < len(self.raw) else None
        if nxt is None or nxt.type != "COLON" or not self.statement_context():
            return False
        p = self.prev()
        if p is None or p.type in ("SEMI", "NLSEMI", "LBRACE", "ELSE", "DO"):
            return True
        if p.type == "RBRACE":
            return p.kind == "b"
        if p.type == "COLON":
            return p.kind in ("case", "label")
        return p.type == "RPAR" and p.kind == "head"

    def maybe_asi(self, tok: Tok) -> None:
        ty = tok.type
        if (
            ty in _STATEMENT_KEYWORDS
            and self.stack
            and self.stack[-1][0] not in ("{b", "{a")
            and not (
                self.out
                and self.out[-1].type in ("LPAR", "FOREACH_LPAR")
                and len(self.out) > 1
                and self.out[-2].type == "FOR"
            )
        ):
            self.close_unclosed(("{b", "{a"))
        if not self.statement_context():
            return
        p = self.prev()
        if not self.is_ender(p):
            return
        assert p is not None
        arrow_end = p.type == "RBRACE" and p.kind == "a" and ty in _ARROW_END_STARTERS
        if (
            ty in _CONTINUERS
            and p.type not in _RESTRICTED
            and ty not in ("INC", "DEC")
            and not arrow_end
        ):
            return
        at = self.prev_end()
        self.virtual("NLSEMI", at)

    def open_brace(self, tok: Tok) -> None:
        p = self.prev()
        if (
            p is None
            or p.type in _BLOCK_PREV
            or (p.type == "RBRACE" and p.kind == "b")
            or (p.type == "COLON" and p.kind in ("case", "label"))
        ):
            kind = "{a" if p is not None and p.type == "ARROW" else "{b"
            tok.type = "LBRACE"
        else:
            kind = "{o"
            tok.type = "LBRACE_OBJ"
        self.stack.append((kind, tok))
        self.out.append(tok)

    def close(self, tok: Tok) -> bool:
        ty = tok.type
        want = {"RPAR": ("(",), "RSQB": ("[",), "RBRACE": ("{b", "{a", "{o")}.get(ty, ("${",))
        if not any(kind in want for kind, _ in self.stack):
            self.error(f"unexpected '{tok.value[:1] or ty}': nothing to close", tok_span(tok))
            return False
        self.close_unclosed(want)
        kind, opener = self.stack.pop()
        if opener.kind == "head":
            tok.kind = "head"
        if ty == "RBRACE":
            tok.kind = kind[1]
            if kind in ("{b", "{a"):
                self.semi_before_block_end(tok.start_pos)
        self.out.append(tok)
        return True

    def paren_type(self, i: int) -> str:
        raw = self.raw
        close = self.match[i]
        p = self.prev()
        if p is not None and p.type == "FOR" and close > 0:
            depth = 0
            first_of = -1
            for j in range(i + 1, close):
                t = raw[j].type
                if t in ("LPAR", "LSQB", "LBRACE", "TEMPLATE_HEAD"):
                    depth += 1
                elif t in ("RPAR", "RSQB", "RBRACE", "TEMPLATE_TAIL"):
                    depth -= 1
                elif depth == 0 and t == "SEMI":
                    return "LPAR"
                elif depth == 0 and t == "WORD" and first_of < 0 and raw[j].value == "of":
                    first_of = j
                elif depth == 0 and t == "WORD" and raw[j].value == "in" and first_of < 0:
                    first_of = -2
            if first_of >= 0:
                self.of_index = first_of
            return "FOREACH_LPAR"
        if (
            close > 0
            and close + 1 < len(raw)
            and raw[close + 1].type == "ARROW"
            and not raw[close + 1].nl_before
        ):
            return "ARROW_LPAR"
        return "LPAR"


def tokenize(text: str) -> LexResult:
    """Cut `text` into grammar tokens. Never raises; problems become diagnostics."""
    scanner = _Scanner(text)
    scanner.run()
    shaper = _Shaper(text, scanner.tokens, scanner.lines)
    tokens = shaper.run()
    diagnostics = scanner.diagnostics + shaper.diagnostics
    return LexResult(tokens, scanner.comments, diagnostics)
