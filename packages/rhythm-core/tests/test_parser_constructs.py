"""Every construct of the .flow language parses to the expected tree."""

from __future__ import annotations

from typing import Any

import pytest

from rhythm.core import ast
from rhythm.core.formatter import strip_spans
from rhythm.core.parser import parse


def ok(source: str) -> ast.Program:
    result = parse(source)
    assert result.diagnostics == [], [d.message for d in result.diagnostics]
    return result.program


def expr(source: str) -> Any:
    stmt = ok(source).body[0]
    assert isinstance(stmt, ast.ExprStmt)
    return stmt.expr


def shape(node: Any) -> Any:
    """A compact form: binary trees as nested tuples, names as strings."""
    if isinstance(node, (ast.Binary, ast.Logical)):
        return (shape(node.left), node.op, shape(node.right))
    if isinstance(node, ast.Unary):
        return (node.op, shape(node.operand))
    if isinstance(node, ast.Identifier):
        return node.name
    if isinstance(node, ast.NumberLit):
        return node.value
    if isinstance(node, ast.Conditional):
        return (shape(node.test), "?", shape(node.consequent), ":", shape(node.alternate))
    if isinstance(node, ast.Assign):
        return (shape(node.target), node.op, shape(node.value))
    if isinstance(node, ast.Await):
        return ("await", shape(node.argument))
    return type(node).__name__


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a + b * c", ("a", "+", ("b", "*", "c"))),
        ("a * b + c", (("a", "*", "b"), "+", "c")),
        ("a - b - c", (("a", "-", "b"), "-", "c")),
        ("a ** b ** c", ("a", "**", ("b", "**", "c"))),
        ("(-a) ** 2", (("-", "a"), "**", 2)),
        ("2 ** -a", (2, "**", ("-", "a"))),
        ("a < b == c < d", (("a", "<", "b"), "==", ("c", "<", "d"))),
        ("a && b || c && d", (("a", "&&", "b"), "||", ("c", "&&", "d"))),
        ("a ?? b ?? c", (("a", "??", "b"), "??", "c")),
        ("a || b ? c : d", (("a", "||", "b"), "?", "c", ":", "d")),
        ("a ? b : c ? d : e", ("a", "?", "b", ":", ("c", "?", "d", ":", "e"))),
        ("a = b = c", ("a", "=", ("b", "=", "c"))),
        ("a += b || c", ("a", "+=", ("b", "||", "c"))),
        ("!a && b", (("!", "a"), "&&", "b")),
        ("typeof a === 'x'", (("typeof", "a"), "===", "StringLit")),
        ("k in o && x", (("k", "in", "o"), "&&", "x")),
        ("a % b * c / d", ((("a", "%", "b"), "*", "c"), "/", "d")),
        ("await a + b", (("await", "a"), "+", "b")),
        ("a ? b = 1 : c", ("a", "?", ("b", "=", 1), ":", "c")),
        ("a !== b != c === d", ((("a", "!==", "b"), "!=", "c"), "===", "d")),
    ],
)
def test_precedence(source: str, expected: Any) -> None:
    assert shape(expr(source)) == expected


def test_literals() -> None:
    values = ok(
        'x = [1, 1.5, .5, 1e3, 1_000, 0x1F, 0b101, 0o17, "a\\n\\t\\\\\\"", \'q\', true, false, null, undefined]'
    )
    arr = values.body[0].expr.value  # type: ignore[attr-defined]
    got = [getattr(e, "value", type(e).__name__) for e in arr.elements]
    assert got == [
        1,
        1.5,
        0.5,
        1000.0,
        1000,
        31,
        5,
        15,
        'a\n\t\\"',
        "q",
        True,
        False,
        "NullLit",
        "UndefinedLit",
    ]
    assert isinstance(arr.elements[0].value, int) and isinstance(arr.elements[3].value, float)
    assert arr.elements[9].quote == "'"


def test_string_escapes() -> None:
    s = expr('"\\u{1F600}\\u00e9\\x41\\0\\\'\\q"')
    assert s.value == "😀éA\0'q"


def test_template_nested() -> None:
    t = expr("`a${b + `c${d}e`}f${ {x: 1}.x }`")
    assert isinstance(t, ast.TemplateLit)
    assert t.quasis == ["a", "f", ""]
    inner = t.exprs[0].right
    assert isinstance(inner, ast.TemplateLit) and inner.quasis == ["c", "e"]
    assert isinstance(t.exprs[1], ast.Member)


def test_declarations_and_patterns() -> None:
    prog = ok("let {a, b: [c, , d = 1], ['k' + 1]: e, ...r} = o, [x, ...y] = z\nconst q = 1")
    decl = prog.body[0]
    assert isinstance(decl, ast.VarDecl) and decl.kind == "let"
    obj = decl.declarations[0].target
    assert isinstance(obj, ast.ObjectPattern)
    assert [p.key if isinstance(p.key, str) else "computed" for p in obj.properties] == [
        "a",
        "b",
        "computed",
    ]
    arr = obj.properties[1].value
    assert isinstance(arr, ast.ArrayPattern) and arr.elements[1] is None
    assert isinstance(arr.elements[2], ast.AssignPattern)
    assert obj.rest is not None and obj.rest.name == "r"
    second = decl.declarations[1].target
    assert isinstance(second, ast.ArrayPattern) and second.rest.name == "y"  # type: ignore[union-attr]


def test_destructuring_assignment_uses_patterns() -> None:
    prog = ok("[a, b] = [b, a]\n;({ a, b: c = 2 } = o)")
    first = prog.body[0].expr  # type: ignore[attr-defined]
    assert isinstance(first.target, ast.ArrayPattern)
    second = prog.body[2].expr if isinstance(prog.body[1], ast.Empty) else prog.body[1].expr  # type: ignore[attr-defined]
    assert isinstance(second.target, ast.ObjectPattern)
    assert isinstance(second.target.properties[1].value, ast.AssignPattern)


def test_statements() -> None:
    prog = ok(
        """if (a) b()
else if (c) { d() } else e()
for (const x of xs) {}
for (k in o) {}
for (let i = 0; i < 3; i++) continue
for (;;) break
while (x) x--
do x++; while (x < 3)
try { a() } catch (e) { b() } finally { c() }
try { a() } catch { b() }
try { a() } finally { c() }
throw new_error
;;
{ let inner = 1 }
return
"""
    )
    kinds = [type(s).__name__ for s in prog.body]
    assert kinds == [
        "If", "ForOf", "ForIn", "For", "For", "While", "DoWhile", "Try", "Try", "Try", "Throw",
        "Empty", "Block", "Return",
    ]  # fmt: skip
    if_stmt = prog.body[0]
    assert isinstance(if_stmt, ast.If) and isinstance(if_stmt.alternate, ast.If)
    for_in = prog.body[2]
    assert isinstance(for_in, ast.ForIn) and for_in.kind is None
    try2 = prog.body[8]
    assert isinstance(try2, ast.Try) and try2.param is None and try2.handler is not None
    c_for = prog.body[4]
    assert isinstance(c_for, ast.For) and c_for.init is None and c_for.test is None


def test_member_call_chains() -> None:
    e = expr("a?.b.c?.[0]?.(1)(...xs)[k].d")
    assert isinstance(e, ast.Member) and e.name == "d"
    idx = e.object
    assert isinstance(idx, ast.Index) and not idx.optional
    call = idx.object
    assert isinstance(call, ast.Call) and isinstance(call.arguments[0], ast.Spread)
    opt_call = call.callee
    assert isinstance(opt_call, ast.Call) and opt_call.optional


def test_objects() -> None:
    e = expr('x = { a, "b-c": 1, [k]: 2, ...rest, if: 3, 4: 5 }').value
    assert isinstance(e, ast.ObjectLit)
    keys = [
        p.key if isinstance(p, ast.Property) and isinstance(p.key, str) else type(p).__name__
        for p in e.properties
    ]
    assert keys == ["a", "b-c", "Property", "Spread", "if", "4"]
    assert e.properties[0].shorthand  # type: ignore[union-attr]


def test_arrows() -> None:
    prog = ok("f = x => x + 1\ng = () => ({})\nh = ({a}, [b], c = 1, ...d) => { return a }")
    f = prog.body[0].expr.value  # type: ignore[attr-defined]
    assert isinstance(f, ast.Arrow) and f.params[0].name == "x"
    g = prog.body[1].expr.value  # type: ignore[attr-defined]
    assert isinstance(g.body, ast.ObjectLit)
    h = prog.body[2].expr.value  # type: ignore[attr-defined]
    assert [type(p).__name__ for p in h.params] == [
        "ObjectPattern",
        "ArrayPattern",
        "AssignPattern",
    ]
    assert h.rest.name == "d" and isinstance(h.body, ast.Block)


def test_keywords_as_property_names() -> None:
    e = expr("x.default.catch.if")
    assert isinstance(e, ast.Member) and e.name == "if"


@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        ("return\nvalue", ["Return", "ExprStmt"]),  # JS inserts a semicolon after return
        ("a\n(b)", ["ExprStmt"]),  # JS reads a call
        ("a\n[0]", ["ExprStmt"]),  # JS reads an index
        ("a\n++b", ["ExprStmt", "ExprStmt"]),
        ("a\n.b\n?.c", ["ExprStmt"]),
        ("a = 1 +\n2", ["ExprStmt"]),
        ("if (x)\n  y()\nelse\n  z()", ["If"]),
        ("const f = () => {}\n(g)()", ["VarDecl", "ExprStmt"]),
        ("let a = 1; let b = 2", ["VarDecl", "VarDecl"]),
        ("if (a) { b() } c()", ["If", "ExprStmt"]),
        ("do x++; while (x) y()", ["DoWhile", "ExprStmt"]),
        ("x = {\n a: 1\n}\ny = 2", ["ExprStmt", "ExprStmt"]),
        ("break\nx", ["Break", "ExprStmt"]),
    ],
)
def test_automatic_semicolons(source: str, kinds: list[str]) -> None:
    result = parse(source)
    assert [type(s).__name__ for s in result.program.body] == kinds
    if "break" not in source:
        assert result.diagnostics == []


def test_return_newline_value_returns_undefined() -> None:
    ret = ok("return\n42").body[0]
    assert isinstance(ret, ast.Return) and ret.argument is None


def test_spans() -> None:
    prog = ok("let x = 1\nconst y = foo(x,\n  bar)")
    decl = prog.body[1]
    assert (decl.span.line, decl.span.column, decl.span.end_line, decl.span.end_column) == (
        2,
        1,
        3,
        7,
    )
    call = decl.declarations[0].init  # type: ignore[attr-defined]
    assert (call.span.start, call.span.end) == (20, 33)
    member = expr("a.bcd").span
    assert (member.start, member.end) == (0, 5)
    m = expr("a.bcd")
    assert (m.name_span.start, m.name_span.end) == (2, 5)
    paren = expr("(a + b) * c")
    assert paren.span.start == 0 and paren.span.end == 11
    assert parse("x").program.span.end == 1


def test_comments_are_kept() -> None:
    prog = parse("// one\nx = 1 /* two */\n").program
    assert [text for _, text in prog.comments] == ["// one", "/* two */"]


def test_parse_result_is_comparable_without_spans() -> None:
    assert strip_spans(ok("a+b").body) == strip_spans(ok("a  +  b").body)
