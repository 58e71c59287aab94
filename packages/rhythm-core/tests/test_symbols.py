"""Scope resolution: bindings, references, and position queries for the language server."""

from __future__ import annotations

from rhythm.core.analysis import analyze

SOURCE = """const total = 1
let count = 0
for (let i = 0; i < 3; i++) {
  const inner = i + total
  count += inner
}
try { count++ } catch (err) { count = err }
const f = (a, { b }, ...rest) => { const c = a + b; return c + rest.length }
{ const total = 2; count = total }
return f(count)
"""


def test_bindings_and_kinds() -> None:
    s = analyze(SOURCE).symbols
    kinds = {(b.name, b.kind) for b in s.bindings}
    assert {("total", "const"), ("count", "let"), ("i", "let"), ("inner", "const")} <= kinds
    assert {
        ("err", "catch"),
        ("a", "param"),
        ("b", "param"),
        ("rest", "param"),
        ("c", "const"),
    } <= kinds
    assert "Task" in s.global_scope.bindings


def test_references_resolve_to_the_right_binding() -> None:
    s = analyze(SOURCE).symbols
    totals = [b for b in s.bindings if b.name == "total"]
    assert len(totals) == 2
    outer, inner = sorted(totals, key=lambda b: b.span.start)
    assert len(outer.references) == 1 and outer.references[0].span.line == 4
    assert len(inner.references) == 1 and inner.references[0].span.line == 9
    count = next(b for b in s.bindings if b.name == "count")
    assert count.written and len(count.references) == 5


def test_binding_at_declaration_and_reference() -> None:
    s = analyze(SOURCE).symbols
    ref_offset = SOURCE.index("total", SOURCE.index("i + total"))
    b = s.binding_at(ref_offset)
    assert b is not None and b.name == "total" and b.span.line == 1
    assert s.binding_at(SOURCE.index("count")) is b.scope.bindings["count"]
    assert s.binding_at(SOURCE.index("return")) is None


def test_scope_at_and_visible_names() -> None:
    s = analyze(SOURCE).symbols
    inside_loop = SOURCE.index("count += inner")
    assert s.scope_at(inside_loop).kind == "block"
    visible = s.visible_at(inside_loop)
    assert {"i", "inner", "total", "count", "Task"} <= set(visible)
    assert "c" not in visible and "err" not in visible
    in_arrow = SOURCE.index("return c")
    assert {"a", "b", "rest", "c", "f"} <= set(s.visible_at(in_arrow))
    in_catch = SOURCE.index("count = err")
    assert s.scope_at(in_catch).kind in ("catch", "block")
    assert "err" in s.visible_at(in_catch)
    top = len(SOURCE) - 2
    assert "f" in s.visible_at(top) and "i" not in s.visible_at(top)


def test_declared_later_is_hidden_from_completion_but_resolves() -> None:
    src = "const a = () => b\nconst b = 1\nreturn a"
    s = analyze(src).symbols
    assert "b" not in s.visible_at(0)
    ref = s.reference_at(src.index("b"))
    assert ref is not None and ref.binding is not None and ref.binding.name == "b"


def test_for_head_scope() -> None:
    src = "for (let i = 0; i < 2; i++) {}\nreturn i"
    s = analyze(src).symbols
    last = s.references[-1]
    assert last.name == "i" and last.binding is None
