"""What the text before the cursor says: names in Task.run("…, members after a dot, open calls."""

from __future__ import annotations

from rhythm.lsp.cursor import callee_before, cursor_context, enclosing_call


def test_name_strings() -> None:
    text = 'const r = await Task.run("cha", {});'
    ctx = cursor_context(text, text.index("cha") + 3)
    assert ctx.kind == "name" and ctx.name_kind == "task" and ctx.prefix == "cha"
    assert (ctx.start, ctx.end) == (text.index("cha"), text.index("cha") + 3)
    text = "await Workflow.run('"
    ctx = cursor_context(text, len(text))
    assert ctx.kind == "name" and ctx.name_kind == "workflow" and ctx.quote == "'"
    for member in ("next", "when"):
        text = f'Signal.{member}("ap'
        assert cursor_context(text, len(text)).name_kind == "signal"
    # Not a named call: a plain string, or the second argument.
    assert cursor_context('foo("x', 6).kind != "name"
    assert cursor_context('Task.run("a", "b', 16).kind != "name"


def test_members_and_identifiers() -> None:
    ctx = cursor_context("x = Math.fl", 11)
    assert (ctx.kind, ctx.receiver, ctx.prefix) == ("member", "Math", "fl")
    ctx = cursor_context('"abc".', 6)
    assert (ctx.kind, ctx.receiver) == ("member", '"abc"')
    ctx = cursor_context("[1, 2]?.ma", 10)
    assert (ctx.kind, ctx.receiver, ctx.prefix) == ("member", "]", "ma")
    ctx = cursor_context("return tot + 1", 10)
    assert (ctx.kind, ctx.prefix, ctx.start, ctx.end) == ("identifier", "tot", 7, 10)
    ctx = cursor_context("return total", 10)
    assert ctx.end == 12  # the word continues after the cursor
    assert cursor_context("", 0).kind == "identifier"
    assert cursor_context("abc", 99).prefix == "abc"  # clamped


def test_enclosing_call() -> None:
    text = 'Math.max(1, foo(2, 3), "a,b", '
    call = enclosing_call(text, len(text))
    assert call is not None and call.argument == 3
    assert callee_before(text, call.paren) == ("Math", "max")
    text = 'Task.run("x", { a: 1, b: [1, 2], '
    call = enclosing_call(text, len(text))
    assert call is not None and call.argument == 1
    assert callee_before(text, call.paren) == ("Task", "run")
    text = "foo(1) // (\n/* ( */ bar("
    call = enclosing_call(text, len(text))
    assert call is not None and callee_before(text, call.paren) == ("", "bar")
    assert enclosing_call("foo(1); x", 9) is None
    assert enclosing_call("", 0) is None
