"""The nesting limit counts depth, never width (issue 10): long literals, argument lists, patterns,
declarations and blocks parse, check, compile and run; only nesting past MAX_DEPTH is RY001."""

from __future__ import annotations

import pytest

from rhythm.core.analysis import analyze
from rhythm.core.compiler import compile_source
from rhythm.core.diagnostics import Code
from rhythm.core.parser import _DEEP_MESSAGE as DEEP_MESSAGE
from rhythm.core.parser import MAX_DEPTH, parse
from rhythm.core.testing import run_workflow


def numbers(n: int) -> str:
    return ", ".join(str(i) for i in range(n))


WIDE: dict[str, tuple[str, object]] = {
    "array of 150": (f"const a = [{numbers(150)}];\nreturn a.length + a[149];", 299),
    "object of 120 keys": (
        "const o = {" + ", ".join(f"k{i}: {i}" for i in range(120)) + "};\n"
        "return Object.keys(o).length + o.k119;",
        239,
    ),
    "call of 1,000 arguments": (f"return Math.max({numbers(1000)});", 999),
    "arrow of 150 parameters": (
        "const f = (" + ", ".join(f"p{i}" for i in range(150)) + ") => p0 + p149;\n"
        f"return f({numbers(150)});",
        149,
    ),
    "array pattern of 150": (
        "const [" + ", ".join(f"v{i}" for i in range(150)) + f"] = [{numbers(150)}];\n"
        "return v0 + v149;",
        149,
    ),
    "150 declarators": (
        "let " + ", ".join(f"d{i} = {i}" for i in range(150)) + ";\nreturn d0 + d149;",
        149,
    ),
    "template of 200 substitutions": (
        "const x = 1;\nreturn `" + "${x}-" * 200 + "`.length;",
        400,
    ),
    "block of 300 statements": (
        "let t = 0;\nif (true) {\n" + "\n".join(f"  t += {i};" for i in range(300)) + "\n}\n"
        "return t;",
        sum(range(300)),
    ),
}


@pytest.mark.parametrize(("source", "expected"), WIDE.values(), ids=WIDE.keys())
def test_wide_code_parses_checks_compiles_and_runs(source: str, expected: object) -> None:
    result = analyze(source)
    assert not result.has_errors, [d.message for d in result.diagnostics[:3]]
    compile_source(source)
    run = run_workflow(source)
    assert run.status == "completed", run.error
    assert run.output == expected


def test_a_100000_element_array_literal_works() -> None:
    source = f"const a = [{numbers(100_000)}];\nreturn [a.length, a[99999], a[500]];"
    result = analyze(source)
    assert not result.has_errors, [d.message for d in result.diagnostics[:3]]
    run = run_workflow(source)
    assert run.status == "completed", run.error
    assert run.output == [100_000, 99_999, 500]


def deep_array(levels: int, width: int) -> str:
    """`return [[...[0, 1, ..., width-1]...]]` with the innermost array `levels` arrays deep."""
    return "return " + "[" * levels + numbers(width) + "]" * levels + ";"


def _deep_reports(source: str) -> list[str]:
    return [d.message for d in parse(source).diagnostics if d.message == DEEP_MESSAGE]


def test_width_inside_deep_nesting_adds_no_level() -> None:
    # The deepest array nesting accepted does not depend on how wide the arrays are.
    deepest = max(k for k in range(1, MAX_DEPTH + 2) if not _deep_reports(deep_array(k, 1)))
    assert deepest < MAX_DEPTH + 1
    assert not _deep_reports(deep_array(deepest, 500))
    run = run_workflow(deep_array(deepest, 500))
    assert run.status == "completed", run.error
    # One level more is refused with RY001, however narrow.
    too_deep = deep_array(deepest + 1, 1)
    diagnostics = [d for d in analyze(too_deep).diagnostics if d.message == DEEP_MESSAGE]
    assert len(diagnostics) == 1 and diagnostics[0].code is Code.SYNTAX
    assert Code.SYNTAX.value == "RY001"


def test_101_nested_parentheses_are_still_refused() -> None:
    source = "return " + "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1) + ";"
    assert _deep_reports(source) == [DEEP_MESSAGE]
    result = analyze(source)
    assert result.has_errors
