"""Deeply nested and long unclosed input (issue 3): the parser caps nesting at MAX_DEPTH with one
RY001 diagnostic, so no later pass recurses too deep, and unclosed brackets cost linear time."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from rhythm.core.analysis import analyze
from rhythm.core.compiler import FlowCompileError, compile_source
from rhythm.core.diagnostics import Code
from rhythm.core.formatter import FormatError, format_source
from rhythm.core.parser import _DEEP_MESSAGE as DEEP_MESSAGE
from rhythm.core.parser import MAX_DEPTH, parse
from rhythm.core.testing import run_workflow

assert DEEP_MESSAGE.startswith(f"nesting is too deep (more than {MAX_DEPTH} levels)")

# Shapes from the issue: each must give diagnostics, never an exception.
DEEP_INPUTS = {
    "open arrays": "[" * 5000,
    "open parens": "(" * 5000,
    "open braces": "{" * 5000,
    "open templates": "`${" * 3000,
    "minus signs": "-" * 5000 + "1",
    "unary minus": "- " * 5000 + "1",
    "nots": "!" * 5000 + "x",
    "awaits": "await " * 3000 + "x",
    "ifs": "if (x) " * 3000 + "y",
    "whiles": "while (x) " * 3000 + "y",
    "fors": "for (const a of b) " * 3000 + ";",
    "parens": "(" * 3000 + "1" + ")" * 3000,
    "members": "a" + ".b" * 5000,
    "optional members": "a" + "?.b" * 5000,
    "calls": "f" + "()" * 5000,
    "indexes": "a" + "[0]" * 5000,
    "binary chain": "x = 1" + " + 1" * 5000,
    "power chain": "x = 2" + " ** 2" * 5000,
    "assign chain": "a = " * 3000 + "1",
    "arrows": "x => " * 3000 + "1",
    "paren arrows": "(x) => " * 3000 + "1",
    "arrow blocks": "f = () => { return " * 2000 + "1" + " }" * 2000,
    "blocks": "{" * 3000 + "}" * 3000,
    "objects": "x = " + "{ a: " * 3000 + "1" + " }" * 3000,
    "arrays": "x = " + "[" * 3000 + "1" + "]" * 3000,
    "ternaries": "x = " + "a ? " * 3000 + "1" + " : 2" * 3000,
    "else ternaries": "x = a" + " ? 1 : a" * 3000,
    "templates": "x = " + "`${" * 3000 + "1" + "}`" * 3000,
    "array pattern": "const " + "[" * 3000 + "a" + "]" * 3000 + " = x",
    "object pattern": "const " + "{ a: " * 3000 + "b" + " }" * 3000 + " = x",
    "assign pattern": "[" * 3000 + "a" + "]" * 3000 + " = x",
    "tries": "try { " * 2000 + "} finally {}" * 2000,
    "call args": "f(" * 3000 + "1" + ")" * 3000,
    "spread": "f(" + "...[" * 3000 + "]" * 3000 + ")",
    "deep then more": "x = " + "[" * 3000 + "]" * 3000 + "\nlet y = 1\nlet z = " + "-" * 3000 + "y",
}


def _deep(source: str) -> list[str]:
    return [d.message for d in parse(source).diagnostics if d.message == DEEP_MESSAGE]


@pytest.mark.parametrize("source", DEEP_INPUTS.values(), ids=DEEP_INPUTS.keys())
def test_deep_input_gives_diagnostics_not_exceptions(source: str) -> None:
    parsed = parse(source)
    assert parsed.diagnostics
    assert all(d.code is Code.SYNTAX for d in parsed.diagnostics if d.message == DEEP_MESSAGE)
    result = analyze(source)
    assert result.has_errors
    with pytest.raises(FormatError):
        format_source(source)
    with pytest.raises(FlowCompileError):
        compile_source(source)


@pytest.mark.parametrize(
    "source",
    [
        "if (x) " * 3000 + "y",
        "(" * 3000 + "1" + ")" * 3000,
        "a" + ".b" * 5000,
        "x => " * 3000 + "1",
    ],
)
def test_too_deep_is_reported_once(source: str) -> None:
    parsed = parse(source)
    assert [d.message for d in parsed.diagnostics] == [DEEP_MESSAGE]


def test_separate_deep_statements_are_reported_each() -> None:
    one = "x = " + "[" * 500 + "]" * 500
    assert len(_deep(one + "\n" + one)) == 2


# Well-formed programs with one nesting shape; `level` is how often the shape repeats.
PROGRAMS: dict[str, Callable[[int], str]] = {
    "arrays": lambda k: "return " + "[" * k + "]" * k,
    "unary": lambda k: "return " + "- " * k + "1",
    "ifs": lambda k: "let x = 1\n" + "if (x) " * k + "x = 2\nreturn x",
    "parens": lambda k: "return " + "(" * k + "1" + ")" * k,
    "calls": lambda k: 'const s = " a "\nreturn s' + ".trim()" * k,
    "arrows": lambda k: "return typeof (" + "x => " * k + "1)",
    "blocks": lambda k: "{" * k + "}" * k + "\nreturn 1",
    "objects": lambda k: "return " + "{ a: " * k + "1" + " }" * k,
    "ternaries": lambda k: "return " + "true ? " * k + "1" + " : 0" * k,
    "templates": lambda k: "return " + "`${" * k + "1" + "}`" * k,
    "binary": lambda k: "return 1" + " + 1" * k,
    "patterns": lambda k: (
        "const " + "[" * k + "a" + "]" * k + " = " + "[" * k + "1" + "]" * k + "\nreturn a"
    ),
    "object patterns": lambda k: (
        "const "
        + "{ a: " * k
        + "b"
        + " }" * k
        + " = "
        + "{ a: " * k
        + "1"
        + " }" * k
        + "\nreturn b"
    ),
    "whiles": lambda k: "while (false) " * k + ";\nreturn 1",
    "tries": lambda k: "try { " * k + "} finally {}" * k + "\nreturn 1",
    "arrow blocks": lambda k: (
        "const f = " + "() => { return " * k + "1" + " }" * k + "\nreturn typeof f"
    ),
    "call args": lambda k: "return " + "Math.max(" * k + "1" + ")" * k,
    "fors": lambda k: "for (const a of []) " * k + ";\nreturn 1",
}


def _at_limit(make: Callable[[int], str]) -> int:
    """The largest repeat count that the depth limit still accepts."""
    lo, hi = 1, MAX_DEPTH + 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _deep(make(mid)):
            hi = mid - 1
        else:
            lo = mid
    return lo


@pytest.mark.parametrize("make", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_program_at_the_limit_runs_end_to_end(make: Callable[[int], str]) -> None:
    k = _at_limit(make)
    assert _deep(make(k + 1)) == [DEEP_MESSAGE]  # one more level is too deep
    source = make(k)
    result = analyze(source)
    assert not result.has_errors, [d.message for d in result.diagnostics[:3]]
    formatted = format_source(source)
    assert not analyze(formatted).has_errors
    compile_source(source)
    assert run_workflow(source).status == "completed"


def _nested(depth: int = 0):  # type: ignore[no-untyped-def]
    return _nested(depth + 1)


@pytest.mark.parametrize("make", PROGRAMS.values(), ids=PROGRAMS.keys())
def test_passes_at_the_limit_leave_stack_to_spare(make: Callable[[int], str]) -> None:
    # Run everything 400 frames below the top of the stack: the passes need less than 600.
    source = make(_at_limit(make))

    def at_depth(n: int) -> None:
        if n:
            return at_depth(n - 1)
        analyze(source)
        format_source(source)
        compile_source(source)
        assert run_workflow(source).status == "completed"

    at_depth(400)


def _analysis_seconds(source: str) -> float:
    """CPU time, the best of two runs: a busy machine slows a run down, never speeds it up."""
    best = float("inf")
    for _ in range(2):
        t0 = time.process_time()
        analyze(source)
        best = min(best, time.process_time() - t0)
    return best


@pytest.mark.parametrize("opener", ["(", "[", "{", "`${"])
def test_unclosed_brackets_take_linear_time(opener: str) -> None:
    # Quadratic was 10 s for 20,000 and minutes for 100,000. Compare sizes instead of wall-clock
    # limits, so a loaded machine does not fail the test: 5x the brackets must cost well under
    # the 25x a quadratic pass would.
    small = _analysis_seconds(opener * 20_000)
    large = _analysis_seconds(opener * 100_000)
    assert large < max(12 * small, 0.5), (small, large)
    unclosed = [d for d in analyze(opener * 100_000).diagnostics if "to close" in d.message]
    assert len(unclosed) == 1
    assert "and 99999 more unclosed brackets" in unclosed[0].message


def test_few_unclosed_brackets_are_reported_each() -> None:
    messages = [d.message for d in parse("f([{").diagnostics if "to close" in d.message]
    assert messages == [
        "expected '}' to close '{' at 1:4",
        "expected ']' to close '[' at 1:3",
        "expected ')' to close '(' at 1:2",
    ]


DEEP_VALUE = "let a = []\nfor (let i = 0; i < 10000; i++) { a = [a] }\n"


def test_deep_runtime_value_stringify_is_catchable() -> None:
    source = DEEP_VALUE + ("try { JSON.stringify(a) } catch (e) { return e.message }\nreturn 'no'")
    result = run_workflow(source)
    assert result.status == "completed"
    assert result.output.startswith("JSON.stringify: the value is nested too deeply")


def test_deep_runtime_value_survives_a_snapshot() -> None:
    result = run_workflow(DEEP_VALUE + "await Timer.delay(1)\nreturn a.length")
    assert result.status == "completed"
    assert result.output == 1


def test_deep_runtime_value_as_the_result_fails_cleanly() -> None:
    result = run_workflow(DEEP_VALUE + "return a")
    assert result.status == "failed"
    assert result.error["type"] == "RangeError"
