"""Property test: no input text makes parse, check, analyze (or the formatter's error path) raise."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rhythm.core.analysis import analyze
from rhythm.core.checker import check
from rhythm.core.formatter import FormatError, format_source
from rhythm.core.parser import parse

_spec = importlib.util.spec_from_file_location(
    "flow_samples_data", Path(__file__).with_name("flow_samples_data.py")
)
assert _spec is not None and _spec.loader is not None
_samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_samples)
SAMPLES: list[str] = _samples.SAMPLES

PIECES = [*"(){}[];,.:?=+-*/%!<>&|`'\"\\$\n ",
    "${", "=>", "?.", "...", "**", "??", "let ", "const ", "if", "else", "for", "of", "in",
    "while", "do", "try", "catch", "finally", "return", "break", "continue", "await", "x", "1",
    "function", "/*", "*/", "//", "++", "--", "typeof", "0x", "1_0", "\\u{", "null",
]  # fmt: skip


def run_all(text: str) -> None:
    result = parse(text)
    check(result.program)
    analysis = analyze(text)
    assert all(d.span.start <= d.span.end <= len(text) + 1 for d in analysis.diagnostics)
    try:
        format_source(text)
    except FormatError:
        assert not analysis.syntax_ok  # only syntax errors may stop the formatter


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_arbitrary_text(text: str) -> None:
    run_all(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=40).map("".join))
def test_token_soup(text: str) -> None:
    run_all(text)


@st.composite
def mutated_sample(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:pos] + draw(st.sampled_from(PIECES)) + text[pos:]
        else:
            length = draw(st.integers(1, 12))
            text = text[:pos] + text[pos + length :]
    return text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_sample())
def test_mutated_programs(text: str) -> None:
    run_all(text)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=4).map("".join),
    st.integers(100, 1500),
    st.sampled_from(["", "1", "x", "}", ")", "]"]),
)
def test_deeply_repeated_pieces(piece: str, times: int, tail: str) -> None:
    # Deep nesting must end in a diagnostic, never a RecursionError (see test_deep_input.py).
    run_all(piece * times + tail)
