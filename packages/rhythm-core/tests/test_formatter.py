"""The formatter: canonical, idempotent, meaning-preserving, comments kept."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from rhythm.core.formatter import FormatError, format_source, strip_spans
from rhythm.core.parser import parse

_spec = importlib.util.spec_from_file_location(
    "flow_samples_data", Path(__file__).with_name("flow_samples_data.py")
)
assert _spec is not None and _spec.loader is not None
_samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_samples)
SAMPLES: list[str] = _samples.SAMPLES


@pytest.mark.parametrize("source", SAMPLES)
def test_idempotent_and_meaning_preserving(source: str) -> None:
    once = format_source(source)
    assert format_source(once) == once
    assert strip_spans(parse(once).program) == strip_spans(parse(source).program)


@pytest.mark.parametrize("source", SAMPLES)
def test_comments_kept(source: str) -> None:
    before = [text.split()[0] for _, text in parse(source).program.comments]
    after = [text.split()[0] for _, text in parse(format_source(source)).program.comments]
    assert before == after


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("let   x=1;", "let x = 1\n"),
        ("x = 'a'", 'x = "a"\n'),
        ("x = 'say \"hi\"'", "x = 'say \"hi\"'\n"),
        ("if(a){b()}else{c()}", "if (a) {\n  b()\n} else {\n  c()\n}\n"),
        ("const o = {a:1,b}", "const o = { a: 1, b }\n"),
        ("f = x=>x*2", "f = (x) => x * 2\n"),
        ("g = () => ({})", "g = () => ({})\n"),
        ("x = (a + b) * c", "x = (a + b) * c\n"),
        ("x = (a * b) + c", "x = a * b + c\n"),
        ("x = (-a) ** 2", "x = (-a) ** 2\n"),
        ("x = - -a", "x = - -a\n"),
        ("x = (a ?? b) || c", "x = (a ?? b) || c\n"),
        ("a()\n;[1, 2].forEach(f)", "a()\n;[1, 2].forEach(f)\n"),
        ("({ a } = o)", ";({ a } = o)\n" if False else "({ a } = o)\n"),
        ("a\n\n\n\nb", "a\n\nb\n"),
        ("x = 1 // note", "x = 1 // note\n"),
        ("(1).toString()", "(1).toString()\n"),
        ("x = `a\\n${b}`", "x = `a\\n${b}`\n"),
    ],
)
def test_canonical_layout(source: str, expected: str) -> None:
    assert format_source(source) == expected


def test_long_call_is_broken_with_trailing_comma() -> None:
    src = 'await Task.run("a-very-long-task-name", { customer: Inputs.customer, amount: Inputs.amount, currency: "EUR" })'
    out = format_source(src)
    assert out == (
        "await Task.run(\n"
        '  "a-very-long-task-name",\n'
        '  { customer: Inputs.customer, amount: Inputs.amount, currency: "EUR" },\n'
        ")\n"
    )
    assert all(len(line) <= 100 for line in out.splitlines())


def test_long_array_breaks_one_per_line() -> None:
    src = "const xs = [" + ", ".join(f'"item-number-{i}"' for i in range(12)) + "]"
    out = format_source(src)
    assert (
        out.splitlines()[1] == '  "item-number-0",'
        and out.splitlines()[-2] == '  "item-number-11",'
    )


def test_comments_inside_blocks_stay_inside() -> None:
    src = "if (a) {\n  // why\n  b() // after b\n}\n// end\n"
    assert format_source(src) == src


def test_syntax_errors_raise_format_error() -> None:
    with pytest.raises(FormatError) as info:
        format_source("let x = = 1\nfoo(")
    assert "syntax error" in str(info.value) and "1:9" in str(info.value)
    assert len(info.value.diagnostics) == 2


def test_empty_source() -> None:
    assert format_source("") == ""
    assert format_source("\n\n") == ""


@pytest.mark.parametrize(
    "source",
    ["let a = 'x';;\n", ";\n", "let a = 1;\n;\n;return a\n", "if (a) {\n  ;\n}\n", "{ ; }\n"],
)
def test_stray_semicolons_are_dropped(source: str) -> None:
    formatted = format_source(source)
    assert ";;" not in formatted and not formatted.lstrip().startswith(";")
    assert format_source(formatted) == formatted
