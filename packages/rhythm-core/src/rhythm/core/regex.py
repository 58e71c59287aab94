"""JavaScript regular expressions, translated to Python's `re` where the translation is exact.

The translation is checked by `re` and run by the `regex` module (mrab-regex), which reads the
same pattern the same way (its VERSION0 is `re`'s behaviour) and can do two things `re` cannot:
give up after a time limit and let other threads run while it matches. A pattern that
backtracks without end then fails its workflow's step (rhythm.core.regexp_methods.run_match)
instead of holding the worker process.

`translate(source, flags)` reads a JavaScript pattern (the text between the slashes of `/.../flags`,
or `RegExp(source, flags)`'s first argument) and returns a compiled Python pattern that matches
exactly the same strings at exactly the same places with exactly the same groups, or raises:

- `RegexSyntaxError`: JavaScript itself rejects the pattern (a SyntaxError there too);
- `RegexUnsupported`: JavaScript accepts it, but `re` would run it with a different meaning (or we
  cannot prove it would not), so .flow refuses it, naming the construct.

How the meanings are kept equal:
- Every `.`, `^`, `$`, `\\s`, `\\S` is spelt out with JavaScript's own character sets (JavaScript's
  line terminators are \\n \\r U+2028 U+2029; its white space includes U+FEFF and the Unicode
  spaces), never left to `re`'s flags; `\\d`, `\\w`, `\\b` are ASCII in JavaScript and are compiled
  with `re.ASCII`.
- A backreference to a group that did not take part matches the empty string in JavaScript but fails
  in `re`: `\\1` becomes `(?(1)\\1)`.
- JavaScript clears the captures inside a repeated group at each repetition and never repeats an
  iteration that matched nothing; `re` keeps old captures and records empty iterations. Patterns where
  that could show (a capture in a repetition that might not set it, an optional repetition of
  something that can match the empty string) are refused.
- Case-insensitive matching (`i`) is exact for ASCII: non-ASCII characters in an `i` pattern, `i`
  with `u`, and backreferences with `i` are refused.
- Strings in .flow are sequences of code points, so every pattern sees an astral character (an
  emoji) as one character, as JavaScript does with the `u` flag.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import regex as engine  # the third-party module (mrab-regex), not this one

FLAG_ORDER = "dgimsuvy"
SUPPORTED_FLAGS = "gimsuy"

# JavaScript's WhiteSpace and LineTerminator code points (what `\s` matches).
JS_SPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
LINE_TERMINATORS = "\n\r\u2028\u2029"
_SYNTAX_CHARS = "^$\\.*+?()[]{}|/"


class RegexError(Exception):
    """A pattern .flow cannot run; `offset` is where in the pattern source the problem starts."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class RegexSyntaxError(RegexError):
    """JavaScript rejects the pattern too (it throws a SyntaxError)."""


class RegexUnsupported(RegexError):
    """Valid JavaScript that .flow refuses because Python's `re` would give it another meaning."""


# A match of a Compiled pattern (the `regex` module's Match: group, groups, start, end as `re`'s).
Match = Any


@dataclass(frozen=True, slots=True)
class Compiled:
    """A translated pattern: the pattern that runs it (the `regex` module's), its group count
    and each group's name."""

    pattern: Any
    group_count: int
    names: tuple[str | None, ...]  # names[i] is the name of group i + 1, or None

    @property
    def has_names(self) -> bool:
        return any(n is not None for n in self.names)


def _class_lit(cp: int) -> str:
    """One code point, escaped so that it means itself both inside and outside a class."""
    if cp < 128 and chr(cp).isalnum():
        return chr(cp)
    if cp < 0x100:
        return f"\\x{cp:02x}"
    if cp < 0x10000:
        return f"\\u{cp:04x}"
    return f"\\U{cp:08x}"


_SPACE_CLASS = "".join(_class_lit(ord(c)) for c in JS_SPACE)
_LT_CLASS = "".join(_class_lit(ord(c)) for c in LINE_TERMINATORS)


# ---------------------------------------------------------------- the pattern tree
# Nodes are tuples: ("seq", [nodes]), ("alt", [nodes]), ("char", cp), ("class", negated, items),
# ("esc", letter), ("dot",), ("bol",), ("eol",), ("b",), ("B",), ("group", index|None, node),
# ("look", kind, node), ("backref", index, offset), ("quant", node, lo, hi|None, lazy, offset).
# Class items: ("range", lo, hi) or ("esc", letter).


class _Parser:
    def __init__(self, source: str, flags: str) -> None:
        self.src = source
        self.pos = 0
        self.unicode = "u" in flags
        self.icase = "i" in flags
        self.names: list[str | None] = []
        self.total_groups, self.has_named = self._prescan()
        self.closed: set[int] = set()

    # ---------------------------------------------------------- helpers

    def syntax(self, message: str, at: int | None = None) -> RegexSyntaxError:
        return RegexSyntaxError(message, self.pos if at is None else at)

    def unsupported(self, message: str, at: int | None = None) -> RegexUnsupported:
        return RegexUnsupported(message, self.pos if at is None else at)

    def peek(self, k: int = 0) -> str:
        i = self.pos + k
        return self.src[i] if i < len(self.src) else ""

    def _prescan(self) -> tuple[int, bool]:
        """Counts capturing groups (a backreference may name a later one) and whether any is named."""
        src = self.src
        count, named, i, in_class = 0, False, 0, False
        while i < len(src):
            c = src[i]
            if c == "\\":
                i += 2
                continue
            if in_class:
                in_class = c != "]"
            elif c == "[":
                in_class = True
            elif c == "(":
                if not src.startswith("(?", i):
                    count += 1
                elif src.startswith("(?<", i) and src[i + 3 : i + 4] not in ("=", "!"):
                    count += 1
                    named = True
            i += 1
        return count, named

    # ---------------------------------------------------------- grammar

    def parse(self) -> tuple:
        node = self.disjunction()
        if self.pos < len(self.src):
            if self.peek() == ")":
                raise self.syntax("Unmatched ')'")
            raise self.syntax(f"Unexpected character '{self.peek()}'")  # pragma: no cover
        return node

    def disjunction(self) -> tuple:
        alts = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            alts.append(self.alternative())
        return alts[0] if len(alts) == 1 else ("alt", alts)

    def alternative(self) -> tuple:
        items: list[tuple] = []
        while self.pos < len(self.src) and self.peek() not in "|)":
            items.append(self.term())
        return ("seq", items)

    def term(self) -> tuple:
        start = self.pos
        c = self.peek()
        if c == "^":
            self.pos += 1
            return self.no_quantifier(("bol",), start)
        if c == "$":
            self.pos += 1
            return self.no_quantifier(("eol",), start)
        if c == "\\" and self.peek(1) in ("b", "B"):
            self.pos += 2
            return self.no_quantifier((self.src[start + 1],), start)
        if c == "(" and self.src.startswith(("(?=", "(?!", "(?<=", "(?<!"), self.pos):
            kind = "<" + self.src[self.pos + 3] if self.peek(2) == "<" else self.peek(2)
            self.pos += 2 + len(kind)
            node = self.disjunction()
            self.expect_close(start)
            look = ("look", kind, node)
            if kind in ("=", "!") and self.at_quantifier():
                if self.unicode:
                    raise self.syntax("Invalid quantifier")
                raise self.unsupported("a quantified lookahead assertion", start)
            return self.no_quantifier(look, start)
        atom = self.atom()
        return self.quantifier(atom, start)

    def at_quantifier(self) -> bool:
        c = self.peek()
        if c in ("*", "+", "?"):
            return True
        return c == "{" and self.brace_quantifier(peek_only=True) is not None

    def no_quantifier(self, node: tuple, start: int) -> tuple:
        if self.at_quantifier():
            raise self.syntax("Nothing to repeat")
        return node

    def brace_quantifier(self, peek_only: bool = False) -> tuple[int, int | None] | None:
        m = re.compile(r"\{([0-9]+)(,([0-9]*))?\}").match(self.src, self.pos)
        if m is None:
            return None
        lo = int(m[1])
        hi: int | None = lo if m[2] is None else (int(m[3]) if m[3] else None)
        if not peek_only:
            self.pos = m.end()
        return lo, hi

    def quantifier(self, atom: tuple, start: int) -> tuple:
        c = self.peek()
        q_at = self.pos
        if c == "*":
            lo, hi = 0, None
            self.pos += 1
        elif c == "+":
            lo, hi = 1, None
            self.pos += 1
        elif c == "?":
            lo, hi = 0, 1
            self.pos += 1
        elif c == "{":
            found = self.brace_quantifier()
            if found is None:
                if self.unicode:
                    raise self.syntax("Incomplete quantifier")
                return atom  # Annex B: a `{` that starts no quantifier is a literal
            lo, hi = found
            if hi is not None and hi < lo:
                raise self.syntax("numbers out of order in {} quantifier", q_at)
            if lo > 100_000 or (hi is not None and hi > 100_000):
                raise self.unsupported("a repetition count above 100000", q_at)
        else:
            return atom
        lazy = self.peek() == "?"
        if lazy:
            self.pos += 1
        return ("quant", atom, lo, hi, lazy, q_at)

    def expect_close(self, start: int) -> None:
        if self.peek() != ")":
            raise self.syntax("Unterminated group", start)
        self.pos += 1

    def atom(self) -> tuple:
        start = self.pos
        c = self.peek()
        if c in ("*", "+", "?"):
            raise self.syntax("Nothing to repeat")
        if c == "{":
            if self.unicode or self.brace_quantifier(peek_only=True) is not None:
                raise self.syntax(
                    "Nothing to repeat" if not self.unicode else "Lone quantifier brackets"
                )
            self.pos += 1
            return ("char", ord("{"))
        if c in ("}", "]"):
            if self.unicode:
                raise self.syntax("Lone quantifier brackets")
            self.pos += 1
            return ("char", ord(c))
        if c == ".":
            self.pos += 1
            return ("dot",)
        if c == "[":
            return self.char_class()
        if c == "(":
            return self.group()
        if c == "\\":
            return self.atom_escape()
        self.pos += 1
        return self.literal(ord(c), start)

    def literal(self, cp: int, at: int) -> tuple:
        if self.icase and cp >= 128:
            raise self.unsupported(
                f"the non-ASCII character {chr(cp)!r} with the 'i' flag (JavaScript's "
                "case-insensitive rules for non-ASCII letters differ from Python's)",
                at,
            )
        if 0xD800 <= cp <= 0xDFFF:
            raise self.unsupported(
                "a surrogate code unit (.flow strings hold code points; write the character itself)",
                at,
            )
        return ("char", cp)

    def group(self) -> tuple:
        start = self.pos
        if self.src.startswith("(?:", self.pos):
            self.pos += 3
            node = self.disjunction()
            self.expect_close(start)
            return ("group", None, node)
        if self.src.startswith("(?<", self.pos):
            self.pos += 3
            m = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*").match(self.src, self.pos)
            if m is None or self.src[m.end() : m.end() + 1] != ">":
                if (
                    self.src[self.pos : self.pos + 1].isidentifier()
                    or "\\" in self.src[self.pos : self.src.find(">", self.pos)]
                ):
                    raise self.unsupported("a group name that is not plain ASCII", self.pos)
                raise self.syntax("Invalid capture group name", self.pos)
            name = m[0]
            if name in self.names:
                raise self.syntax("Duplicate capture group name", self.pos)
            self.pos = m.end() + 1
            self.names.append(name)
        elif self.src.startswith("(?", self.pos):
            raise self.syntax("Invalid group")
        else:
            self.pos += 1
            self.names.append(None)
        index = len(self.names)
        node = self.disjunction()
        self.expect_close(start)
        self.closed.add(index)
        return ("group", index, node)

    def atom_escape(self) -> tuple:
        start = self.pos
        self.pos += 1
        c = self.peek()
        if c == "":
            raise self.syntax("\\ at end of pattern", start)
        if c in "dDwWsS":
            self.pos += 1
            return ("esc", c)
        if c in "123456789":
            m = re.compile(r"[0-9]+").match(self.src, self.pos)
            assert m is not None
            n = int(m[0])
            if n > self.total_groups:
                if self.unicode:
                    raise self.syntax("Invalid escape", start)
                raise self.unsupported(
                    f"'\\{m[0]}' (with fewer than {n} groups JavaScript reads it as a legacy "
                    "octal escape or a literal digit)",
                    start,
                )
            self.pos = m.end()
            return self.backref(n, start)
        if c == "k" and (self.unicode or self.has_named):
            m = re.compile(r"k<([A-Za-z_$][A-Za-z0-9_$]*)>").match(self.src, self.pos)
            if m is None:
                raise self.syntax("Invalid named reference", start)
            self.pos = m.end()
            name = m[1]
            prescanned = re.findall(r"\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>", self.src)
            if name not in prescanned:
                raise self.syntax("Invalid named capture referenced", start)
            # A name defined later: its index is found once the whole pattern is read.
            if name in self.names:
                return self.backref(self.names.index(name) + 1, start)
            raise self.unsupported(
                f"a backreference to the group '{name}' before that group ends (JavaScript "
                "matches it as the empty string)",
                start,
            )
        cp = self.character_escape(start, in_class=False)
        return self.literal(cp, start)

    def backref(self, n: int, start: int) -> tuple:
        if n not in self.closed:
            raise self.unsupported(
                f"a backreference to group {n} before that group ends (JavaScript matches it "
                "as the empty string)",
                start,
            )
        if self.icase:
            raise self.unsupported("a backreference with the 'i' flag", start)
        return ("backref", n, start)

    def character_escape(self, start: int, in_class: bool) -> int:
        """After the backslash at `start`: one escaped character (self.pos at its first char)."""
        c = self.peek()
        simple = {"t": 9, "n": 10, "v": 11, "f": 12, "r": 13}
        if c in simple:
            self.pos += 1
            return simple[c]
        if c == "0" and not self.peek(1).isdigit():
            self.pos += 1
            return 0
        if c.isdigit():
            if self.unicode:
                raise self.syntax(
                    "Invalid class escape" if in_class else "Invalid decimal escape", start
                )
            raise self.unsupported(f"the legacy octal escape '\\{c}'", start)
        if c == "c":
            letter = self.peek(1)
            if ("a" <= letter <= "z") or ("A" <= letter <= "Z"):
                self.pos += 2
                return ord(letter) % 32
            if self.unicode:
                raise self.syntax("Invalid unicode escape", start)
            raise self.unsupported("'\\c' not followed by a letter", start)
        if c == "x":
            h = self.src[self.pos + 1 : self.pos + 3]
            if re.fullmatch(r"[0-9a-fA-F]{2}", h):
                self.pos += 3
                return int(h, 16)
            if self.unicode:
                raise self.syntax("Invalid escape", start)
            raise self.unsupported("'\\x' not followed by two hex digits", start)
        if c == "u":
            return self.unicode_escape(start)
        if c in ("p", "P"):
            if self.unicode:
                raise self.unsupported(f"the Unicode property escape '\\{c}{{...}}'", start)
            raise self.unsupported(
                f"the identity escape '\\{c}' (it means '{c}' without the u flag)", start
            )
        if self.unicode:
            if c in _SYNTAX_CHARS or (in_class and c == "-"):
                self.pos += 1
                return ord(c)
            raise self.syntax("Invalid escape", start)
        if c.isalnum() and c.isascii():
            raise self.unsupported(
                f"the identity escape '\\{c}' (JavaScript reads it as '{c}'; write '{c}')", start
            )
        if c in LINE_TERMINATORS:  # pragma: no cover - the lexer ends the literal first
            raise self.syntax("Invalid escape", start)
        self.pos += 1
        return ord(c)

    def unicode_escape(self, start: int) -> int:
        src = self.src
        if self.unicode and src.startswith("u{", self.pos):
            m = re.compile(r"u\{([0-9a-fA-F]+)\}").match(src, self.pos)
            if m is None or int(m[1], 16) > 0x10FFFF:
                raise self.syntax("Invalid Unicode escape", start)
            self.pos = m.end()
            return int(m[1], 16)
        h = src[self.pos + 1 : self.pos + 5]
        if not re.fullmatch(r"[0-9a-fA-F]{4}", h):
            if self.unicode:
                raise self.syntax("Invalid Unicode escape", start)
            raise self.unsupported("'\\u' not followed by four hex digits", start)
        self.pos += 5
        cp = int(h, 16)
        if self.unicode and 0xD800 <= cp <= 0xDBFF:
            m = re.compile(r"\\u(d[c-f][0-9a-f]{2})", re.IGNORECASE).match(src, self.pos)
            if m is not None:
                self.pos = m.end()
                return 0x10000 + ((cp - 0xD800) << 10) + int(m[1], 16) - 0xDC00
        return cp

    def char_class(self) -> tuple:
        start = self.pos
        self.pos += 1
        negated = self.peek() == "^"
        if negated:
            self.pos += 1
        items: list[tuple] = []
        while True:
            if self.pos >= len(self.src):
                raise self.syntax("Unterminated character class", start)
            if self.peek() == "]":
                self.pos += 1
                break
            a_at = self.pos
            a = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                b_at = self.pos
                b = self.class_atom()
                if a[0] == "esc" or b[0] == "esc":
                    if self.unicode:
                        raise self.syntax("Invalid character class", a_at)
                    raise self.unsupported(
                        "a class range with a class escape like \\d at one end (JavaScript reads "
                        "the '-' as a literal)",
                        a_at,
                    )
                if a[1] > b[1]:
                    raise self.syntax("Range out of order in character class", b_at)
                items.append(("range", a[1], b[1]))
            else:
                items.append(a if a[0] == "esc" else ("range", a[1], a[1]))
        return ("class", negated, items)

    def class_atom(self) -> tuple:
        start = self.pos
        c = self.peek()
        if c != "\\":
            self.pos += 1
            self.literal(ord(c), start)
            return ("cp", ord(c))
        self.pos += 1
        e = self.peek()
        if e == "":
            raise self.syntax("\\ at end of pattern", start)
        if e in "dDwWsS":
            self.pos += 1
            return ("esc", e)
        if e == "b":
            self.pos += 1
            return ("cp", 8)
        if e == "-" and self.unicode:
            self.pos += 1
            return ("cp", ord("-"))
        if e == "k" and not self.unicode:
            raise self.unsupported("the identity escape '\\k' (it means 'k' here)", start)
        cp = self.character_escape(start, in_class=True)
        self.literal(cp, start)
        return ("cp", cp)


# ---------------------------------------------------------------- checks on the tree


def _nullable(node: tuple) -> bool:
    """Whether `node` can match the empty string."""
    k = node[0]
    if k == "seq":
        return all(_nullable(n) for n in node[1])
    if k == "alt":
        return any(_nullable(n) for n in node[1])
    if k in ("char", "class", "esc", "dot"):
        return False
    if k == "group":
        return _nullable(node[2])
    if k == "quant":
        return node[2] == 0 or _nullable(node[1])
    return True  # assertions and backreferences


def _captures(node: tuple) -> bool:
    k = node[0]
    if k == "group" and node[1] is not None:
        return True
    if k in ("seq", "alt"):
        return any(_captures(n) for n in node[1])
    if k in ("group", "look"):
        return _captures(node[2])
    if k == "quant":
        return _captures(node[1])
    return False


def _backrefs(node: tuple) -> list[tuple]:
    """The backreferences inside `node` (none may sit in a lookbehind)."""
    k = node[0]
    if k == "backref":
        return [node]
    if k in ("seq", "alt"):
        return [b for n in node[1] for b in _backrefs(n)]
    if k in ("group", "look"):
        return _backrefs(node[2])
    if k == "quant":
        return _backrefs(node[1])
    return []


def _optional_capture(node: tuple, optional: bool) -> bool:
    """Whether a capturing group inside `node` might not be set by one match of `node`."""
    k = node[0]
    if k == "group":
        if node[1] is not None and optional:
            return True
        return _optional_capture(node[2], optional)
    if k == "seq":
        return any(_optional_capture(n, optional) for n in node[1])
    if k == "alt":
        many = len(node[1]) > 1
        return any(_optional_capture(n, optional or many) for n in node[1])
    if k == "quant":
        return _optional_capture(node[1], optional or node[2] == 0)
    if k == "look":
        return _optional_capture(node[2], optional or node[1] in ("!", "<!"))
    return False


def _check(node: tuple) -> None:
    k = node[0]
    if k == "quant":
        atom, lo, hi, at = node[1], node[2], node[3], node[5]
        repeats = hi is None or hi > 1
        if _captures(atom) and _nullable(atom) and (hi is None or hi > 0):
            raise RegexUnsupported(
                "a capturing group inside a repetition that can match the empty string "
                "(JavaScript drops an empty repetition; Python's re keeps its capture)",
                at,
            )
        if _nullable(atom) and hi != lo:
            raise RegexUnsupported(
                "an optional repetition of something that can match the empty string (JavaScript "
                "never lets such a repetition match empty; Python's re does)",
                at,
            )
        if repeats:
            inner = atom[2] if atom[0] == "group" else atom
            if _optional_capture(inner, False):
                raise RegexUnsupported(
                    "a capturing group that a repetition might skip (JavaScript clears it on "
                    "each repetition; Python's re keeps the previous one)",
                    at,
                )
        _check(atom)
    elif k in ("seq", "alt"):
        for n in node[1]:
            _check(n)
    elif k == "group":
        _check(node[2])
    elif k == "look":
        if node[1] in ("<=", "<!") and (_captures(node[2]) or _backrefs(node[2])):
            raise RegexUnsupported(
                "a capturing group or backreference inside a lookbehind (JavaScript matches "
                "lookbehinds right to left)"
            )
        _check(node[2])


# ---------------------------------------------------------------- emitting Python's syntax


class _Emitter:
    def __init__(self, dotall: bool, multiline: bool) -> None:
        self.dotall = dotall
        self.multiline = multiline

    def emit(self, node: tuple) -> str:
        k = node[0]
        if k == "seq":
            return "".join(self.emit(n) for n in node[1])
        if k == "alt":
            return "(?:" + "|".join(self.emit(n) for n in node[1]) + ")"
        if k == "char":
            return _class_lit(node[1])
        if k == "dot":
            return r"(?s:.)" if self.dotall else f"[^{_LT_CLASS}]"
        if k == "bol":
            return f"(?<![^{_LT_CLASS}])" if self.multiline else r"\A"
        if k == "eol":
            return f"(?![^{_LT_CLASS}])" if self.multiline else r"\Z"
        if k == "b":
            return r"\b"
        if k == "B":
            return r"(?!\b)"  # Python's \B (before 3.14) fails on the empty string; JavaScript's matches
        if k == "esc":
            if node[1] == "s":
                return f"[{_SPACE_CLASS}]"
            if node[1] == "S":
                return f"[^{_SPACE_CLASS}]"
            return "\\" + node[1]
        if k == "group":
            body = self.emit(node[2])
            return f"({body})" if node[1] is not None else f"(?:{body})"
        if k == "look":
            return f"(?{node[1]}{self.emit(node[2])})"
        if k == "backref":
            return f"(?({node[1]})\\{node[1]})"
        if k == "quant":
            _, atom, lo, hi, lazy, _at = node
            if hi is None:
                q = "*" if lo == 0 else "+" if lo == 1 else f"{{{lo},}}"
            elif lo == hi:
                q = f"{{{lo}}}"
            elif lo == 0 and hi == 1:
                q = "?"
            else:
                q = f"{{{lo},{hi}}}"
            return f"(?:{self.emit(atom)}){q}{'?' if lazy else ''}"
        assert k == "class", k
        return self.char_class(node[1], node[2])

    def char_class(self, negated: bool, items: list[tuple]) -> str:
        parts: list[str] = []
        non_space = False
        for item in items:
            if item[0] == "esc":
                if item[1] == "s":
                    parts.append(_SPACE_CLASS)
                elif item[1] == "S":
                    non_space = True
                else:
                    parts.append("\\" + item[1])
            elif item[1] == item[2]:
                parts.append(_class_lit(item[1]))
            else:
                parts.append(f"{_class_lit(item[1])}-{_class_lit(item[2])}")
        body = "".join(parts)
        if not non_space:
            if negated:
                return f"[^{body}]" if body else "(?s:.)"
            return f"[{body}]" if body else "(?!)"
        # `\S` inside a class: Python's re has no class of JavaScript's non-space characters.
        if negated:  # neither one of `body` nor a non-space: a space that is not in `body`
            return f"(?![{body}])[{_SPACE_CLASS}]" if body else f"[{_SPACE_CLASS}]"
        return f"(?:[{body}]|[^{_SPACE_CLASS}])" if body else f"[^{_SPACE_CLASS}]"


def check_flags(flags: str) -> None:
    """Raises RegexSyntaxError (invalid or repeated flag) or RegexUnsupported (d, v, i with u)."""
    for i, f in enumerate(flags):
        if f not in FLAG_ORDER or f in flags[:i]:
            raise RegexSyntaxError(f"Invalid flags supplied to RegExp constructor '{flags}'")
    for f in flags:
        if f not in SUPPORTED_FLAGS:
            raise RegexUnsupported(f"the flag '{f}' (.flow supports g, i, m, s, u and y)")
    if "i" in flags and "u" in flags:
        raise RegexUnsupported(
            "the flags 'i' and 'u' together (JavaScript's Unicode case folding differs from "
            "Python's)"
        )


@functools.lru_cache(maxsize=512)
def translate(source: str, flags: str) -> Compiled:
    """The Python pattern for JavaScript's `/source/flags` (see the module docstring)."""
    check_flags(flags)
    parser = _Parser(source, flags)
    tree = parser.parse()
    _check(tree)
    text = _Emitter("s" in flags, "m" in flags).emit(tree)
    re_flags = re.ASCII | (re.IGNORECASE if "i" in flags else 0)
    try:
        re.compile(text, re_flags)  # what `re` accepts, and only that, runs
    except re.error as e:
        if "look-behind" in str(e):
            raise RegexUnsupported(
                "a lookbehind whose length varies (Python's re needs a fixed length)"
            ) from None
        raise RegexUnsupported(f"this pattern (Python's re says: {e})") from None
    engine_flags = engine.VERSION0 | engine.ASCII | (engine.IGNORECASE if "i" in flags else 0)
    pattern = engine.compile(text, engine_flags)
    return Compiled(pattern, len(parser.names), tuple(parser.names))


def problem(source: str, flags: str) -> tuple[RegexError, bool] | None:
    """Why `/source/flags` cannot run (the error, and whether it is in the flags), or None."""
    try:
        check_flags(flags)
    except RegexError as e:
        return e, True
    try:
        translate(source, canonical_flags(flags))
    except RegexError as e:
        return e, False
    return None


def canonical_flags(flags: str) -> str:
    return "".join(f for f in FLAG_ORDER if f in flags)


def escape_source(source: str) -> str:
    """The `source` property of `RegExp(source)`: `/` and line terminators escaped, as
    JavaScript's EscapeRegExpPattern does, and "(?:)" for the empty pattern."""
    if source == "":
        return "(?:)"
    out: list[str] = []
    i, in_class = 0, False
    while i < len(source):
        c = source[i]
        if c == "\\" and i + 1 < len(source):
            nxt = source[i + 1]
            out.append(
                "\\" + {"\n": "n", "\r": "r", "\u2028": "u2028", "\u2029": "u2029"}.get(nxt, nxt)
            )
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        if c == "/" and not in_class:
            out.append("\\/")
        elif c in LINE_TERMINATORS:
            out.append({"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}[c])
        else:
            out.append(c)
        i += 1
    return "".join(out)
