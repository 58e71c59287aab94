"""RegExp objects at run time: the `RegExp` function, the methods and properties of a regular
expression (`test`, `exec`, `source`, `lastIndex`, ...) and the string methods given a pattern
(`match`, `matchAll`, `replace`, `replaceAll`, `split`, `search`), following the steps of the
ECMAScript specification (RegExpBuiltinExec, @@replace, @@split, GetSubstitution).

A match result is an array with `index`, `input` and `groups`: .flow arrays hold only elements, so
those three live in the VM's `array_props` table beside the array (and in the saved state)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rhythm.core import regex
from rhythm.core.builtins import arg, impl
from rhythm.core.frames import FatalError
from rhythm.core.regex import Match
from rhythm.core.values import (
    UNDEFINED,
    BuiltinFunction,
    RegExp,
    is_callable,
    js_error,
    to_integer,
    to_string,
)

if TYPE_CHECKING:
    from rhythm.core.vm import VM


def compiled(r: RegExp) -> regex.Compiled:
    """The translated pattern (cached by `regex.translate`)."""
    try:
        return regex.translate(r.source, r.flags)
    except regex.RegexError as e:  # pragma: no cover - checked when the object was made
        raise _error(r.source, r.flags, e) from None


def _error(source: str, flags: str, e: regex.RegexError) -> Exception:
    if isinstance(e, regex.RegexUnsupported):
        return js_error(
            "SyntaxError",
            f"Unsupported regular expression in .flow: /{source}/{flags}: {e.message}",
        )
    if "flags" in e.message:
        return js_error("SyntaxError", e.message)
    return js_error("SyntaxError", f"Invalid regular expression: /{source}/{flags}: {e.message}")


def new_regexp(pattern: Any, flags: Any) -> RegExp:
    """`RegExp(pattern, flags)` / `new RegExp(pattern, flags)`."""
    if type(pattern) is RegExp:
        source = pattern.source
        flags_text = pattern.flags if flags is UNDEFINED else to_string(flags)
    else:
        raw = "" if pattern is UNDEFINED else to_string(pattern)
        source = regex.escape_source(raw)
        flags_text = "" if flags is UNDEFINED else to_string(flags)
    try:
        regex.check_flags(flags_text)
        regex.translate(source, regex.canonical_flags(flags_text))
    except regex.RegexError as e:
        raise _error(source, flags_text, e) from None
    return RegExp(source, regex.canonical_flags(flags_text))


@impl("RegExp")
def regexp_call(vm: VM, this: Any, args: list[Any]) -> Any:
    pattern, flags = arg(args, 0), arg(args, 1)
    if type(pattern) is RegExp and flags is UNDEFINED:
        return pattern  # `RegExp(re)` is `re` itself, as in JavaScript
    return new_regexp(pattern, flags)


def _this(this: Any, name: str) -> RegExp:
    if type(this) is not RegExp:
        raise js_error(
            "TypeError", f"RegExp.prototype.{name} called on a value that is not a RegExp"
        )
    return this


def _to_length(v: Any) -> int:
    n = to_integer(v)
    if n <= 0:
        return 0
    return int(min(n, 2**53 - 1))


def run_match(vm: VM, method: Callable[..., Match | None], s: str, pos: int) -> Match | None:
    """One match attempt of a compiled pattern (`method`: its `match` or `search`) from `pos`,
    within what is left of the step's time for regular expressions (VM.regex_left): instructions
    do not count the work inside a match, so a pattern that backtracks without end
    (/(a|a)+$/ on "aaaa…a!") would otherwise hold the step for ever. It fails the workflow
    instead, as a runaway loop does. The match lets other threads run meanwhile (a worker's
    event loop keeps renewing its leases)."""
    if vm.regex_left <= 0:
        raise _too_long(vm)
    started = time.perf_counter()
    try:
        return method(s, pos, timeout=vm.regex_left, concurrent=True)
    except TimeoutError:
        raise _too_long(vm) from None
    finally:
        vm.regex_left -= time.perf_counter() - started


def _too_long(vm: VM) -> FatalError:
    vm.regex_left = 0.0
    return FatalError(
        "BudgetExceeded",
        f"regular expressions ran for more than {vm.regex_seconds:g} s in one step (line "
        f"{vm.current_line()}): a pattern that backtracks without end, like /(a|a)+$/ on a long "
        "run of a's with another character at the end? Rewrite it so that each part of the "
        "text can be matched one way only.",
    )


def exec_match(vm: VM, r: RegExp, s: str) -> Match | None:
    """RegExpBuiltinExec: one match from `lastIndex` (global or sticky) or from 0; updates
    `lastIndex` as JavaScript does."""
    c = compiled(r)
    flags = r.flags
    tracks = "g" in flags or "y" in flags
    start = _to_length(r.last_index) if tracks else 0
    if start > len(s):
        if tracks:
            r.last_index = 0.0
        return None
    m = run_match(vm, c.pattern.match if "y" in flags else c.pattern.search, s, start)
    if m is None:
        if tracks:
            r.last_index = 0.0
        return None
    if tracks:
        r.last_index = float(m.end())
    return m


def _captures(m: Match) -> list[Any]:
    return [UNDEFINED if g is None else g for g in m.groups()]


def _named(c: regex.Compiled, captures: list[Any]) -> Any:
    if not c.has_names:
        return UNDEFINED
    return {name: captures[i] for i, name in enumerate(c.names) if name is not None}


def match_array(vm: VM, r: RegExp, m: Match, s: str) -> list[Any]:
    """The array `exec` returns: the match and its groups, with index, input and groups."""
    captures = _captures(m)
    out: list[Any] = [m.group(0), *captures]
    vm.array_props[id(out)] = (
        out,
        {"index": float(m.start()), "input": s, "groups": _named(compiled(r), captures)},
    )
    return out


@impl("regexp.exec")
def regexp_exec(vm: VM, this: Any, args: list[Any]) -> Any:
    r = _this(this, "exec")
    s = to_string(arg(args, 0))
    m = exec_match(vm, r, s)
    return None if m is None else match_array(vm, r, m, s)


@impl("regexp.test")
def regexp_test(vm: VM, this: Any, args: list[Any]) -> Any:
    r = _this(this, "test")
    return exec_match(vm, r, to_string(arg(args, 0))) is not None


@impl("regexp.toString")
def regexp_to_string(vm: VM, this: Any, args: list[Any]) -> Any:
    r = _this(this, "toString")
    return f"/{r.source}/{r.flags}"


impl("regexp.source")(lambda vm, this, args: _this(this, "source").source)
impl("regexp.flags")(lambda vm, this, args: _this(this, "flags").flags)
impl("regexp.lastIndex")(lambda vm, this, args: _this(this, "lastIndex").last_index)
for _name, _flag in (
    ("global", "g"),
    ("ignoreCase", "i"),
    ("multiline", "m"),
    ("dotAll", "s"),
    ("unicode", "u"),
    ("sticky", "y"),
):
    impl(f"regexp.{_name}")(
        lambda vm, this, args, n=_name, f=_flag: f in _this(this, n).flags  # type: ignore[misc]
    )


def get_prop(vm: VM, r: RegExp, key: str) -> Any:
    """A property of a RegExp: `lastIndex`, the accessors (`source`, `global`, ...) or a method."""
    if key == "lastIndex":
        return r.last_index
    name = "regexp." + key
    fn = vm.impl.get(name)
    if fn is None:
        return UNDEFINED
    if key in ("exec", "test", "toString"):
        return BuiltinFunction(name, r)
    return fn(vm, r, [])


def set_prop(r: RegExp, key: str, v: Any) -> None:
    if key == "lastIndex":
        r.last_index = v
        return
    if key in (
        "source",
        "flags",
        "global",
        "ignoreCase",
        "multiline",
        "dotAll",
        "unicode",
        "sticky",
    ):
        raise js_error(
            "TypeError",
            f"Cannot set property {key} of /{r.source}/{r.flags} which has only a getter",
        )
    raise js_error(
        "TypeError",
        f"Cannot create property '{key}' on a RegExp in .flow (only lastIndex is writable)",
    )


# ---------------------------------------------------------------- string methods with a pattern


def _advance(r: RegExp) -> None:
    r.last_index = float(_to_length(r.last_index) + 1)


def _all_matches(vm: VM, r: RegExp, s: str) -> list[Match]:
    """The matches of a global RegExp, from lastIndex 0 (which ends at 0), as @@match and
    @@replace collect them; an empty match moves lastIndex on by one."""
    r.last_index = 0.0
    out: list[Match] = []
    while True:
        m = exec_match(vm, r, s)
        if m is None:
            return out
        out.append(m)
        if m.end() == m.start():
            _advance(r)


def string_match(vm: VM, s: str, r: RegExp) -> Any:
    if "g" not in r.flags:
        m = exec_match(vm, r, s)
        return None if m is None else match_array(vm, r, m, s)
    found = _all_matches(vm, r, s)
    return [m.group(0) for m in found] if found else None


def string_match_all(vm: VM, s: str, r: RegExp) -> Any:
    if "g" not in r.flags:
        raise js_error(
            "TypeError", "String.prototype.matchAll called with a non-global RegExp argument"
        )
    clone = RegExp(r.source, r.flags, float(_to_length(r.last_index)))
    out: list[Any] = []
    while True:
        m = exec_match(vm, clone, s)
        if m is None:
            return out
        out.append(match_array(vm, clone, m, s))
        if m.end() == m.start():
            _advance(clone)


def string_search(vm: VM, s: str, r: RegExp) -> Any:
    previous = r.last_index
    r.last_index = 0.0
    m = exec_match(vm, r, s)
    r.last_index = previous
    return -1.0 if m is None else float(m.start())


def substitution(
    matched: str, s: str, position: int, captures: list[Any], named: Any, template: str
) -> str:
    """GetSubstitution: `$$`, `$&`, `` $` ``, `$'`, `$1`..`$99` and `$<name>` in `template`."""
    if "$" not in template:
        return template
    out: list[str] = []
    i, n, m = 0, len(template), len(captures)
    while i < n:
        c = template[i]
        nxt = template[i + 1] if i + 1 < n else ""
        if c != "$" or nxt == "":
            out.append(c)
            i += 1
        elif nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "&":
            out.append(matched)
            i += 2
        elif nxt == "`":
            out.append(s[:position])
            i += 2
        elif nxt == "'":
            out.append(s[min(position + len(matched), len(s)) :])
            i += 2
        elif nxt.isdigit() and nxt.isascii():
            two = template[i + 1 : i + 3]
            digits = two if len(two) == 2 and two.isdigit() and two.isascii() else nxt
            index = int(digits)
            if len(digits) == 2 and index > m:
                digits, index = nxt, int(nxt)
            if 1 <= index <= m:
                v = captures[index - 1]
                out.append("" if v is UNDEFINED else to_string(v))
            else:
                out.append("$" + digits)
            i += 1 + len(digits)
        elif nxt == "<" and named is not UNDEFINED:
            close = template.find(">", i + 2)
            if close < 0:
                out.append("$<")
                i += 2
            else:
                v = named.get(template[i + 2 : close], UNDEFINED)
                out.append("" if v is UNDEFINED else to_string(v))
                i = close + 1
        else:
            out.append("$")
            i += 1
    return "".join(out)


def string_replace(vm: VM, s: str, r: RegExp, replacement: Any, all_: bool) -> str:
    if all_ and "g" not in r.flags:
        raise js_error(
            "TypeError", "String.prototype.replaceAll called with a non-global RegExp argument"
        )
    functional = is_callable(replacement)
    template = "" if functional else to_string(replacement)
    if "g" in r.flags:
        found = _all_matches(vm, r, s)
    else:
        m = exec_match(vm, r, s)
        found = [] if m is None else [m]
    c = compiled(r)
    out: list[str] = []
    next_pos = 0
    for m in found:
        matched, position = m.group(0), m.start()
        captures = _captures(m)
        named = _named(c, captures)
        if functional:
            call_args = [matched, *captures, float(position), s]
            if named is not UNDEFINED:
                call_args.append(named)
            text = to_string(vm.call_function(replacement, call_args))
        else:
            text = substitution(matched, s, position, captures, named, template)
        if position >= next_pos:
            out.append(s[next_pos:position])
            out.append(text)
            next_pos = position + len(matched)
    out.append(s[next_pos:])
    result = "".join(out)
    vm.check_string(result)
    return result


def string_split(vm: VM, s: str, r: RegExp, limit: Any) -> list[Any]:
    """@@split: the pattern is tried (sticky) at each position; captures go into the result."""
    lim = 2**32 - 1 if limit is UNDEFINED else _uint32(limit)
    if lim == 0:
        return []
    pattern = compiled(r).pattern
    size = len(s)
    if size == 0:
        return [] if run_match(vm, pattern.match, s, 0) is not None else [s]
    out: list[Any] = []
    p = q = 0
    while q < size:
        m = run_match(vm, pattern.match, s, q)
        if m is None:
            q += 1
            continue
        e = min(m.end(), size)
        if e == p:
            q += 1
            continue
        out.append(s[p:q])
        if len(out) == lim:
            return out
        p = e
        for g in _captures(m):
            out.append(g)
            if len(out) == lim:
                return out
        q = p
    out.append(s[p:])
    return out


def _uint32(v: Any) -> int:
    n = to_integer(v)
    if math.isinf(n):
        return 0
    return int(n) % 2**32
