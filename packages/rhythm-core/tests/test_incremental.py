"""rhythm.core.incremental: re-analysing after an edit equals analysing the new text afresh."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rhythm.core.analysis import Analysis, analyze
from rhythm.core.incremental import Abandoned, analyze_units, reanalyze

_spec = importlib.util.spec_from_file_location(
    "flow_samples_data", Path(__file__).with_name("flow_samples_data.py")
)
assert _spec is not None and _spec.loader is not None
_samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_samples)
SAMPLES: list[str] = _samples.SAMPLES

PIECES = [*"(){}[];,.:?=+-*/%!<>&|`'\"\\$\n ",
    "${", "=>", "?.", "...", "let ", "const ", "if (a) ", "else ", "for (const k of ks) ",
    "while (x) ", "do ", "try {", "} catch (e) {", "finally ", "return ", "break\n", "await ",
    "x", "1", "/*", "*/", "//", "++", "\r\n", "\u2028", "é", "Task.", "Tassk.run()", "Mth.max",
    "const t0 = 1\n", "let y = 2\n", "}\n", "_", "z = 3;", "`a ${b} c`",
    "function f(a) { return a }\n", "async ", "f(1)", "delete ", "x | 1", ", ",
    "new f(1)", "new Map()", " instanceof Error", "new Math.max()", "const g = (x) => x\n",
]  # fmt: skip
PIECES += ["/a+/g", "/[/]x/", "/\\p{L}/u", "/(a)\\1/i", "/(/", "r.test(s)"]


def generated(blocks: int) -> str:
    """A workflow like the benchmark's: declarations, branches, templates, comments."""
    out = ["const results = [];"]
    for i in range(blocks):
        out += [
            f'const a{i} = await Task.run("charge_card", {{ amount: {i} }});',
            f"let t{i} = a{i}.total + {i};",
            f"if (t{i} > 10) {{",
            f"  t{i} = Math.max(t{i}, 3);",
            "} else {",
            f"  t{i} = t{i} * 2;",
            "}",
            f"const s{i} = `item ${{t{i}}}`;",
            f"// block {i}",
            f"results.push({{ id: {i}, total: t{i}, label: s{i}.toUpperCase() }});",
        ]
    out.append("return results;")
    return "\n".join(out) + "\n"


def tokens(analysis: Analysis) -> list[tuple[object, ...]]:
    return [
        (t.type, t.value, t.start_pos, t.end_pos, t.line, t.column, t.end_line, t.end_column)
        for t in analysis.tokens
    ]


def assert_same(incremental: Analysis, text: str) -> None:
    fresh = analyze(text)
    assert incremental.source == text
    assert incremental.diagnostics == fresh.diagnostics
    if fresh.program.span.start == 0:
        # (When the parser gives up on a text altogether it returns an empty program placed at
        # the end; the diagnostics above still agree.)
        assert incremental.program == fresh.program
        assert tokens(incremental) == tokens(fresh)
        assert incremental.program.comments == fresh.program.comments


@st.composite
def edits(draw: st.DrawFn) -> tuple[str, list[tuple[float, int, str]]]:
    base = draw(st.sampled_from([*SAMPLES, generated(6)]))
    steps = draw(
        st.lists(
            st.tuples(
                st.floats(0, 1),
                st.sampled_from([0, 0, 0, 1, 2, 6, 30]),
                st.lists(st.sampled_from(PIECES), max_size=3).map("".join),
            ),
            min_size=1,
            max_size=6,
        )
    )
    return base, steps


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits())
def test_random_edits_equal_a_fresh_analysis(
    case: tuple[str, list[tuple[float, int, str]]],
) -> None:
    text, steps = case
    analysis = analyze_units(text)
    assert_same(analysis, text)
    for where, length, inserted in steps:
        start = int(where * len(text))
        text = text[:start] + inserted + text[start + length :]
        analysis = reanalyze(analysis, text)
        assert_same(analysis, text)


def test_regex_literals_edited_equal_a_fresh_analysis() -> None:
    # A regex literal is cut by what comes before its `/`; refused ones are diagnostics.
    text = 'const s = "a"\nconst r = /a+/g\nconst q = s.length / 2 / 1\nreturn [r.test(s), q]\n'
    analysis = analyze_units(text)
    assert_same(analysis, text)
    for old, new in [("/a+/g", "/\\p{L}/u"), ("/ 2 /", "/ 2 /"), ("const q = s.length", "/x/")]:
        text = text.replace(old, new, 1)
        analysis = reanalyze(analysis, text)
        assert_same(analysis, text)


def test_statements_outside_the_edit_are_reused() -> None:
    text = generated(100)
    before = analyze_units(text)
    body = list(before.program.body)
    middle = text.index("let t50")
    after = reanalyze(before, text[:middle] + " " + text[middle:])
    assert after.diagnostics == analyze(after.source).diagnostics
    reused = sum(1 for old, new in zip(body, after.program.body, strict=True) if old is new)
    assert reused >= len(body) - 4  # only the statements around the edit were parsed again
    assert body[-1].span.start == len(text) - len("return results;\n") + 1  # moved in place


def test_a_new_line_moves_the_positions_messages_quote() -> None:
    text = "let x = 1\nconst c = 1\nfor (const k of [1]) { const k2 = 1; k2 = 2 }\nx = c\n"
    before = analyze_units(text)
    edited = "\n\n" + text
    after = reanalyze(before, edited)
    assert after.diagnostics == analyze(edited).diagnostics
    assert any("declared with const at 5:30" in d.message for d in after.diagnostics)


def test_new_of_a_function_declared_in_another_statement() -> None:
    text = "function f(a) { return a }\nconst g = (x) => x\nlet h = (x) => x\nconst o = new f(1)\n"
    text += "const p = new g(2)\nconst q = new h(3)\nconst m = new Map()\n"
    before = analyze_units(text)
    assert_same(before, text)
    found = [d.message for d in before.diagnostics if d.code.value == "RY111"]
    assert len(found) == 2 and "'f' is a function" in found[0] and "'g' is" in found[1]
    edited = text.replace("function f(a)", "function f2(a)")  # f is no longer a function
    after = reanalyze(before, edited)
    assert_same(after, edited)
    assert sum(d.code.value == "RY111" for d in after.diagnostics) == 1


def test_a_consumed_analysis_is_refused() -> None:
    text = generated(5)
    before = analyze_units(text)
    reanalyze(before, text.replace("t3 = Math", "t3 = Math "))
    with pytest.raises(ValueError, match="already consumed"):
        reanalyze(before, text)


def test_an_analysis_told_to_stop_is_abandoned() -> None:
    asked: list[int] = []

    def newer_text_arrived() -> bool:
        asked.append(1)
        return True

    with pytest.raises(Abandoned):
        analyze_units(generated(20), newer_text_arrived)
    assert asked
    analysis = analyze_units(generated(20), lambda: False)  # never told: it finishes
    assert analysis.diagnostics == analyze(generated(20)).diagnostics


# Edits that random search found the incremental analysis getting wrong (each minimised): the
# text before, the text after.
FOUND_BY_SEARCH = [
    # An unclosed '{' before a statement the parser's recovery put at the top level: the window
    # must not start there, or "expected '}'" goes missing.
    ("for(c of s){>{else{}}\nc(", "for(c of s){>{else{}}\nc('"),
    ('for(m of s){{}(){{}}"",{', 'for(m of s){{}(){{}}"",{i'),
    ("{1{try{}}\ns.u?``:l", "{1{try{}}\ns.u`:l"),
    # An inserted empty statement is placed nowhere (offset 0): never a window's edge.
    ("{${/+/(){", "{${/+/(){>"),
    # After '.', a keyword is a property name: a statement after one is not read alone.
    (".\nreturn[2", ".\nreturn[;2"),
    # The parser gives up on the whole text: nothing of the statements before the edit is left.
    ("s\ndo{}while(a", "s\ndo{while(a"),
    ("e\nc;", "e\nc;do"),
    # After a block's '}' a '/' divides when the token before its '{' is a name (the lexer
    # tells blocks from objects so), and starts a regular expression at the start of a text.
    (
        "let s = 1\ns\n{ s }\n/a/g.test(s)\nlet t = 2\n",
        "let s = 1\ns\n{ s + 1 }\n/a/g.test(s)\nlet t = 2\n",
    ),
]


@pytest.mark.parametrize(("before", "after"), FOUND_BY_SEARCH)
def test_edits_found_by_random_search(before: str, after: str) -> None:
    analysis = analyze_units(before)
    assert_same(analysis, before)
    assert_same(reanalyze(analysis, after), after)
