"""Each checker code, positive and negative."""

from __future__ import annotations

import pytest

from rhythm.core import ast
from rhythm.core.analysis import analyze
from rhythm.core.checker import check
from rhythm.core.diagnostics import Code, Severity
from rhythm.core.parser import parse


def codes(source: str) -> list[tuple[str, int, int]]:
    a = analyze(source)
    return [(d.code.value, d.span.line, d.span.column) for d in a.diagnostics]


def only(source: str, code: Code) -> list:
    return [d for d in analyze(source).diagnostics if d.code is code]


CASES = [
    # (code, source with the problem, same source fixed)
    (Code.UNDEFINED_NAME, "const a = 1\nreturn a + bb", "const a = 1\nconst bb = 2\nreturn a + bb"),
    (Code.CONST_ASSIGN, "const a = 1\na = 2\nreturn a", "let a = 1\na = 2\nreturn a"),
    (Code.CONST_ASSIGN, "const a = 1\na++\nreturn a", "let a = 1\na++\nreturn a"),
    (Code.CONST_ASSIGN, "const a = 1\na += 2\nreturn a", "let a = 1\na += 2\nreturn a"),
    (Code.CONST_ASSIGN, "for (const x of [1]) { x = 2 }", "for (let x of [1]) { x = 2 }"),
    (
        Code.DUPLICATE_DECLARATION,
        "let a = 1\nlet a = 2\nreturn a",
        "let a = 1\n{ let a = 2\nreturn a }",
    ),
    (
        Code.DUPLICATE_DECLARATION,
        "const f = (a) => { let a = 1; return a }\nreturn f",
        "const f = (a) => { { let a = 1; return a } }\nreturn f",
    ),
    (Code.UNKNOWN_GLOBAL, 'return Taks.run("x")', 'return Task.run("x")'),
    (Code.UNKNOWN_MEMBER, 'return await Task.runn("x")', 'return await Task.run("x")'),
    (Code.UNKNOWN_MEMBER, "return Math.flor(1.5)", "return Math.floor(1.5)"),
    (Code.UNKNOWN_MEMBER, 'return "abc".toUpperCas()', 'return "abc".toUpperCase()'),
    (Code.ARGUMENT_COUNT, "return Math.floor()", "return Math.floor(1.5)"),
    (Code.ARGUMENT_COUNT, 'return parseInt("1", 10, 3)', 'return parseInt("1", 10)'),
    (Code.BREAK_OUTSIDE_LOOP, "break", "while (true) { break }"),
    (
        Code.BREAK_OUTSIDE_LOOP,
        "while (true) { const f = () => { break }\nf() }",
        "const f = () => { while (true) { break } }\nf()",
    ),
    (Code.CONTINUE_OUTSIDE_LOOP, "continue", "for (;;) { continue }"),
    (Code.CONTINUE_OUTSIDE_LOOP, "a: { continue a }", "a: for (;;) { continue a }"),
    (Code.UNDEFINED_LABEL, "a: for (;;) { break b }", "a: for (;;) { break a }"),
    (Code.UNDEFINED_LABEL, "a: for (;;) { continue b }", "a: for (;;) { continue a }"),
    (
        Code.UNDEFINED_LABEL,
        "a: for (;;) { [1].map(() => { for (;;) { break a } }); break }",
        "[1].map(() => { a: for (;;) { break a } })",
    ),
    (Code.INVALID_LABEL, "a: a: for (;;) { break a }", "a: b: for (;;) { break a }"),
    (Code.INVALID_LABEL, "a: { a: { break a } }", "a: { b: { break a } }"),
    (Code.INVALID_LABEL, "a: const x = 1\nx", "a: { const x = 1\nx }"),
    (Code.INVALID_LABEL, "a: function f() {}\nf()", "function f() {}\nf()"),
    (
        Code.UNKNOWN_MEMBER,
        'const f = () => { const s = "abc"; return s.toUpperCas() }\nf()',
        'const f = () => { const s = "abc"; return s.toUpperCase() }\nf()',
    ),
    (
        Code.UNKNOWN_MEMBER,
        'return "a,b".split(",").joinn("-")',
        'return "a,b".split(",").join("-")',
    ),
    (Code.UNKNOWN_MEMBER, "return JSON.stringify(1).lenght", "return JSON.stringify(1).length"),
    (Code.UNKNOWN_MEMBER, 'return ("a" + 1).trimm()', 'return ("a" + 1).trim()'),
    (Code.UNKNOWN_MEMBER, "return (typeof 1).trimm()", "return (typeof 1).trim()"),
    (Code.UNKNOWN_MEMBER, "return String(1).padStrt(2)", "return String(1).padStart(2)"),
    (Code.UNKNOWN_MEMBER, 'return Error("x").mesage', 'return Error("x").message'),
    (Code.UNKNOWN_MEMBER, "return Date().getTime()", "return Date().trim()"),
    (Code.UNKNOWN_MEMBER, "return (1).toFixd(2)", "return (1).toFixed(2)"),
    (Code.UNKNOWN_MEMBER, "return Number.isIntger(1)", "return Number.isInteger(1)"),
    (Code.UNKNOWN_MEMBER, "return String.fromCharCdoe(65)", "return String.fromCharCode(65)"),
    (Code.UNKNOWN_MEMBER, "return new Date(0).getTme()", "return new Date(0).getTime()"),
    (Code.UNKNOWN_MEMBER, "return /a/.tst('a')", "return /a/.test('a')"),
    (
        Code.AWAIT_IN_ARROW,
        'const f = () => await Task.run("x")\nf()',
        'const f = () => Task.run("x")\nawait f()',
    ),
    (
        Code.INVALID_ASSIGNMENT_TARGET,
        "let a = 1\n(a + 1) = 2\nreturn a",
        "let a = 1\na = 2\nreturn a",
    ),
    (
        Code.INVALID_ASSIGNMENT_TARGET,
        "let o = {}\no?.x = 1\nreturn o",
        "let o = {}\no.x = 1\nreturn o",
    ),
    (Code.INVALID_ASSIGNMENT_TARGET, "let a = 1\n1++\nreturn a", "let a = 1\na++\nreturn a"),
    (Code.UNREACHABLE_CODE, "return 1\nconst x = 2", "const x = 2\nreturn x"),
    (
        Code.UNREACHABLE_CODE,
        "for (;;) { break; Math.floor(1) }",
        "for (;;) { Math.floor(1); break }",
    ),
    (
        Code.UNREACHABLE_CODE,
        "if (Inputs.a) { return 1 } else { throw 2 }\nreturn 3",
        "if (Inputs.a) { return 1 }\nreturn 3",
    ),
    (Code.UNUSED_VARIABLE, "const a = 1", "const _a = 1"),
    (Code.UNUSED_VARIABLE, "const f = (x) => 1\nreturn f", "const f = (_x) => 1\nreturn f"),
]


@pytest.mark.parametrize(("code", "bad", "good"), CASES)
def test_code_positive_and_negative(code: Code, bad: str, good: str) -> None:
    assert only(bad, code), f"{code} not reported for {bad!r}"
    assert not only(good, code), f"{code} wrongly reported for {good!r}: {only(good, code)}"


def test_did_you_mean_carries_a_replacement() -> None:
    (d,) = only('return Taks.run("x")', Code.UNKNOWN_GLOBAL)
    assert d.replacement == "Task" and "did you mean 'Task'" in d.message
    assert (d.span.start, d.span.end) == (7, 11)
    (m,) = only("return Math.flor(1.5)", Code.UNKNOWN_MEMBER)
    assert m.replacement == "floor" and (m.span.start, m.span.end) == (12, 16)
    (u,) = only("const total = 1\nreturn totl", Code.UNDEFINED_NAME)
    assert u.replacement == "total"


def test_severities() -> None:
    a = analyze("const unused = 1\nreturn 2\nconst x = 3")
    sev = {d.code: d.severity for d in a.diagnostics}
    assert sev[Code.UNUSED_VARIABLE] is Severity.WARNING
    assert sev[Code.UNREACHABLE_CODE] is Severity.WARNING
    assert not a.has_errors


def test_argument_count_message_names_the_signature() -> None:
    (d,) = only("return Math.floor()", Code.ARGUMENT_COUNT)
    assert d.message.startswith("Math.floor expects 1 argument, got 0")


def test_spread_arguments_are_not_counted() -> None:
    assert not only("const xs = [1]\nreturn Math.floor(...xs)", Code.ARGUMENT_COUNT)


def test_shadowed_stdlib_name_is_not_checked() -> None:
    assert not only("const Math = { flor: 1 }\nreturn Math.flor", Code.UNKNOWN_MEMBER)


def test_open_object_inputs_accepts_any_key() -> None:
    assert not only("return Inputs.anything", Code.UNKNOWN_MEMBER)


def test_hoisted_reference_in_arrow_is_defined() -> None:
    assert not only("const f = () => g()\nconst g = () => 1\nreturn f()", Code.UNDEFINED_NAME)


def test_unused_parameter_before_a_used_one_is_fine() -> None:
    assert not only("const f = (a, b) => b\nreturn f", Code.UNUSED_VARIABLE)


def test_await_message_explains_why() -> None:
    (d,) = only('const f = () => await Task.run("x")\nf()', Code.AWAIT_IN_ARROW)
    assert "top level" in d.message


def test_check_never_raises_on_broken_trees() -> None:
    program = parse("let = \nfoo(((\n1 = 2\nx?.y++").program
    check(program)
    weird = ast.Program(
        body=[
            ast.ErrorStmt(),
            ast.ExprStmt(
                expr=ast.Assign(
                    op="=", target=ast.NumberLit(value=1), value=ast.Identifier(name="x")
                )
            ),
        ]
    )
    assert check(weird)


def test_analysis_is_sorted_and_combines_syntax_and_semantics() -> None:
    a = analyze("x = 1\nlet y = = 2\nzz")
    found = [(d.code.value, d.span.line) for d in a.diagnostics]
    assert found == sorted(found, key=lambda f: f[1])
    assert ("RY001", 2) in found and ("RY101", 1) in found and ("RY101", 3) in found


def test_too_few_or_too_many_arguments_are_warnings() -> None:
    # Legal JavaScript: a missing argument is undefined, an extra one is ignored.
    (few,) = only('return "abc".padStart()', Code.ARGUMENT_COUNT)
    assert few.severity is Severity.WARNING and "the missing ones are undefined" in few.message
    (many,) = only("return Timer.delay(1, 2)", Code.ARGUMENT_COUNT)
    assert many.severity is Severity.WARNING and "the extra ones are ignored" in many.message
    assert not analyze('return "abc".padStart()').has_errors


def test_members_of_variables_only_when_their_kind_is_plain() -> None:
    # A `let` assigned again, a parameter, or a top-level variable (each top-level statement is
    # checked on its own by the language server) are not followed.
    assert not only(
        'const f = () => { let s = "a"; s = 1; return s.foo }\nf()', Code.UNKNOWN_MEMBER
    )
    assert not only("const f = (s) => s.toUpperCas()\nf()", Code.UNKNOWN_MEMBER)
    assert not only('const s = "abc"\nreturn s.toUpperCas()', Code.UNKNOWN_MEMBER)
    (d,) = only(
        'const f = () => { const a = ["x"]; const b = a; return b.mapp() }\nf()',
        Code.UNKNOWN_MEMBER,
    )
    assert d.replacement == "map" and "not a member of array" in d.message


def test_every_kind_table_is_registered() -> None:
    """A table of members of a kind of value must be in VALUE_MEMBERS under its owner's name, or
    the checker, hover, completion and the docs would not see it."""
    from rhythm.core import stdlib

    for name, value in vars(stdlib).items():
        if not isinstance(value, dict) or not value or name == "VALUE_MEMBERS":
            continue
        rows = list(value.values())
        if all(isinstance(b, stdlib.Builtin) for b in rows):
            owners = {b.owner for b in rows}
            for owner in owners:
                if owner[:1].islower():
                    assert stdlib.VALUE_MEMBERS.get(owner) is value, (name, owner)
