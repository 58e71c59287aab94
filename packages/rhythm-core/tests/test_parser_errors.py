"""Syntax errors: the right message and range, all of them in one pass, and recovery."""

from __future__ import annotations

import pytest

from rhythm.core import ast
from rhythm.core.diagnostics import Code
from rhythm.core.parser import parse


def errors(source: str) -> list[tuple[int, int, str]]:
    result = parse(source)
    assert all(d.code is Code.SYNTAX for d in result.diagnostics)
    return [(d.span.line, d.span.column, d.message) for d in result.diagnostics]


@pytest.mark.parametrize(
    ("source", "line", "col", "message"),
    [
        ("foo(a, b\nlet y = 2", 1, 9, "expected ')' to close '(' at 1:4"),
        ("let x = [1, 2 3]", 1, 15, "expected ']' to close '[' at 1:9, found number 3"),
        ("if (x) {\n  a()\n", 2, 6, "expected '}' to close '{' at 1:8"),
        ('let s = "abc\nlet t = 1', 1, 9, 'unterminated string: add the closing "'),
        ("let t = `abc", 1, 9, "unterminated template literal: add the closing `"),
        ("/* never closed", 1, 1, "unterminated comment: '/*' has no closing '*/'"),
        ("else { }", 1, 1, "'else' without a matching 'if'"),
        ("x = 1 +* 2", 1, 8, "unexpected '*', expected an expression"),
        (
            "x = -a ** 2",
            1,
            8,
            "a unary operator before '**' needs parentheses: write (-x) ** y or -(x ** y)",
        ),
        (
            "x = a ?? b || c",
            1,
            12,
            "cannot mix '??' with '||' or '&&' without parentheses: add ( ) to say which comes first",
        ),
        (
            "class A {}",
            1,
            1,
            "'class' is not supported in .flow: use object literals and arrow functions",
        ),
        ("var x = 1", 1, 1, "'var' is not supported in .flow: use 'let' or 'const'"),
        (
            "x = this",
            1,
            5,
            "'this' is not supported in .flow: functions and methods have no 'this': refer to the object by its variable name",
        ),
        ("x = 1 @ 2", 1, 7, "unexpected character '@'"),
        ("x = 1_", 1, 5, "invalid numeric separator in '1_'"),
        ("x = 10n", 1, 5, "BigInt literals are not supported in .flow"),
        ("x = '\\x4'", 1, 6, "invalid escape sequence: '\\x' needs two hex digits"),
        ("const a", 1, 7, "'const' needs an initial value: write `const name = value`"),
        ("a b", 1, 3, "unexpected name 'b': end the statement before it with ';' or a line break"),
        ("}", 1, 1, "unexpected '}': nothing to close"),
        (
            "x = [1,,2]",
            1,
            5,
            "empty array element (a hole) is not supported in .flow: write undefined",
        ),
        (
            "x = {a = 1}",
            1,
            6,
            "'=' in an object literal is only allowed in a destructuring pattern: write 'key: value'",
        ),
        ("let = 5", 1, 5, "unexpected '=', expected '[' or '{' or a name"),
        ("x = (1 + 2", 1, 11, "expected ')' to close '(' at 1:5"),
        ("a.", 1, 3, "unexpected end of file, expected a name"),
    ],
)
def test_error_messages(source: str, line: int, col: int, message: str) -> None:
    got = errors(source)
    assert (line, col, message) in got, got


def test_error_range_is_the_offending_token() -> None:
    d = parse("let x = 1 +* 2").diagnostics[0]
    assert (d.span.start, d.span.end) == (11, 12)


def test_every_error_reported_and_statements_kept() -> None:
    source = """let a = 1
let b = = 2
const c = 3
foo(,)
if (a) { let d = ) }
const e = 5
x = [1, 2 3]
const f = 6
"""
    result = parse(source)
    lines = sorted(d.span.line for d in result.diagnostics)
    assert lines == [2, 4, 5, 7]
    kinds = [type(s).__name__ for s in result.program.body]
    assert kinds == [
        "VarDecl",
        "ErrorStmt",
        "VarDecl",
        "ErrorStmt",
        "If",
        "VarDecl",
        "ErrorStmt",
        "VarDecl",
    ]
    if_stmt = result.program.body[4]
    assert isinstance(if_stmt, ast.If) and isinstance(if_stmt.consequent, ast.Block)
    assert isinstance(if_stmt.consequent.body[0], ast.ErrorStmt)


def test_error_statement_span_covers_the_bad_text() -> None:
    result = parse("let a = 1\nlet b = = 2\nlet c = 3")
    err = result.program.body[1]
    assert isinstance(err, ast.ErrorStmt)
    assert (err.span.line, err.span.column, err.span.end_line) == (2, 1, 2)


def test_unclosed_bracket_recovers_at_next_statement() -> None:
    result = parse("const x = foo(1, 2\nconst y = 3\ny")
    assert len(result.diagnostics) == 1
    assert [type(s).__name__ for s in result.program.body] == ["VarDecl", "VarDecl", "ExprStmt"]


def test_empty_and_blank_sources() -> None:
    for source in ("", "   \n\n", "// only a comment", "/* c */"):
        result = parse(source)
        assert result.diagnostics == [] and result.program.body == []


@pytest.mark.parametrize(
    "source", ["(((((", "{[(", "`${`${`${", "))]]}}", "?.?.", "=>=>", "...", "\\"]
)
def test_garbage_never_raises(source: str) -> None:
    result = parse(source)
    assert result.diagnostics


def test_deep_nesting_does_not_raise() -> None:
    result = parse("x = " + "(" * 3000 + "1" + ")" * 3000)
    assert isinstance(result.program, ast.Program)


def test_words_javascript_does_not_reserve_are_plain_names() -> None:
    from rhythm.core.testing import run_workflow

    result = run_workflow("const label = 1\nconst goto = 2\nreturn label + goto\n")
    assert (result.status, result.output) == ("completed", 3)
