"""Regular expressions: what .flow refuses (at compile time, at the construct, with its reason),
what JavaScript itself rejects, how the lexer tells a regex from a division, the run-time
`RegExp(text)` checks, and regexes and match results in the saved state. Behaviour against Node is
in test_conformance.py (the regex_* cases) and test_differential.py."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from rhythm.core import regex, vm
from rhythm.core.analysis import analyze
from rhythm.core.compiler import FlowCompileError, compile_source
from rhythm.core.diagnostics import Code
from rhythm.core.lexer import tokenize
from rhythm.core.testing import run_workflow

# Every construct .flow refuses though JavaScript accepts it: (pattern, flags, where the message
# points in the pattern (0-based), the message's words).
REFUSED = [
    (r"\p{L}", "u", 0, r"the Unicode property escape '\p{...}'"),
    (r"\P{Lu}", "u", 0, r"the Unicode property escape '\P{...}'"),
    (r"\p", "", 0, r"the identity escape '\p' (it means 'p' without the u flag)"),
    ("a", "d", None, "the flag 'd' (.flow supports g, i, m, s, u and y)"),
    ("a", "v", None, "the flag 'v' (.flow supports g, i, m, s, u and y)"),
    ("a", "iu", None, "the flags 'i' and 'u' together"),
    ("é", "i", 0, "the non-ASCII character 'é' with the 'i' flag"),
    (r"[\u00e0-\u00ff]", "i", 1, "with the 'i' flag"),
    (r"(a)\1", "i", 3, "a backreference with the 'i' flag"),
    (r"\1(a)", "", 0, "a backreference to group 1 before that group ends"),
    (r"(a\1)", "", 2, "a backreference to group 1 before that group ends"),
    (r"\k<n>(?<n>a)", "", 0, "a backreference to the group 'n' before that group ends"),
    (r"(?:(a)|b)+", "", 9, "a capturing group that a repetition might skip"),
    (r"(?:(a)?b)*", "", 9, "a capturing group that a repetition might skip"),
    (r"(a*)+", "", 4, "a capturing group inside a repetition that can match the empty string"),
    (r"(a*)?", "", 4, "a capturing group inside a repetition that can match the empty string"),
    (r"(?:a?)*", "", 6, "an optional repetition of something that can match the empty string"),
    (r"(?:b*?)?", "", 7, "an optional repetition of something that can match the empty string"),
    (r"(?:a|)+", "", 6, "an optional repetition of something that can match the empty string"),
    (r"(?<=a+)b", "", 0, "a lookbehind whose length varies"),
    (r"(?<=(a))b", "", 0, "a capturing group or backreference inside a lookbehind"),
    (r"(?=a)*", "", 0, "a quantified lookahead assertion"),
    (r"\2(a)", "", 0, r"'\2' (with fewer than 2 groups"),
    (r"\8", "", 0, r"'\8' (with fewer than 8 groups"),
    (r"\01", "", 0, r"the legacy octal escape '\0'"),
    (r"[\1]", "", 1, r"the legacy octal escape '\1'"),
    (r"\a", "", 0, r"the identity escape '\a' (JavaScript reads it as 'a'"),
    (r"\k", "", 0, r"the identity escape '\k'"),
    (r"\c1", "", 0, r"'\c' not followed by a letter"),
    (r"\x4", "", 0, r"'\x' not followed by two hex digits"),
    (r"\u41", "", 0, r"'\u' not followed by four hex digits"),
    (r"\ud83d", "", 0, "a surrogate code unit"),
    (r"\ud83d\ude00", "", 0, "a surrogate code unit"),
    (r"[\d-z]", "", 1, r"a class range with a class escape like \d at one end"),
    (r"(?<nämé>a)", "", 3, "a group name that is not plain ASCII"),
    ("a{1,100001}", "", 1, "a repetition count above 100000"),
]

# Patterns JavaScript rejects with a SyntaxError: (pattern, flags, JavaScript's words).
INVALID = [
    ("(", "", "Unterminated group"),
    (")", "", "Unmatched ')'"),
    ("a|*", "", "Nothing to repeat"),
    ("a**", "", "Nothing to repeat"),
    ("^*", "", "Nothing to repeat"),
    ("a{2,1}", "", "numbers out of order in {} quantifier"),
    ("[b-a]", "", "Range out of order in character class"),
    ("(?<n>a)(?<n>b)", "", "Duplicate capture group name"),
    ("(?x)", "", "Invalid group"),
    (r"\k<m>(?<n>a)", "", "Invalid named capture referenced"),
    ("{", "u", "Lone quantifier brackets"),
    (r"\a", "u", "Invalid escape"),
    (r"\1", "u", "Invalid escape"),
    ("a", "gg", "Invalid flags"),
    ("a", "x", "Invalid flags"),
]


@pytest.mark.parametrize(("pattern", "flags", "at", "words"), REFUSED)
def test_refused_construct_is_named_at_compile_time(
    pattern: str, flags: str, at: int | None, words: str
) -> None:
    source = f"const ok = 1\nconst r = /{pattern}/{flags}\nreturn r\n"
    diagnostics = [d for d in analyze(source).diagnostics if d.code is Code.UNSUPPORTED_REGEX]
    assert len(diagnostics) == 1, analyze(source).diagnostics
    d = diagnostics[0]
    assert words in d.message
    assert d.message.startswith(f"regular expression /{pattern}/{flags} is not supported in .flow")
    literal_column = len("const r = ") + 1
    want = literal_column + (len(pattern) + 2 if at is None else at + 1)
    assert (d.span.line, d.span.column) == (2, want)
    with pytest.raises(FlowCompileError, match=rf"^flow\.flow:2:{want}: regular expression"):
        compile_source(source, "flow.flow")


@pytest.mark.parametrize(("pattern", "flags", "words"), INVALID)
def test_what_javascript_rejects_is_a_syntax_error(pattern: str, flags: str, words: str) -> None:
    source = f"return /{pattern}/{flags}\n"
    errors = [d for d in analyze(source).diagnostics if d.code is Code.SYNTAX]
    assert len(errors) == 1 and words in errors[0].message, errors
    assert errors[0].message.startswith(f"invalid regular expression /{pattern}/{flags}")


def test_unterminated_class_in_a_runtime_pattern() -> None:
    with pytest.raises(regex.RegexSyntaxError, match="Unterminated character class"):
        regex.translate("[a", "")


def test_refused_constructs_are_listed_in_the_language_guide() -> None:
    guide = (Path(__file__).parents[3] / "docs" / "language.md").read_text()
    section = guide.split("## Regular expressions", 1)[1].split("\n## ", 1)[0]
    for needle in ("\\p{...}", "`d` and `v`", "`i` together with `u`", "backreference with `i`",
                   "lookbehind", "quantified lookahead", "surrogate", "group name", "100000"):  # fmt: skip
        assert needle in section, needle


def test_regexp_with_literal_strings_is_checked_at_compile_time() -> None:
    d = analyze('const r = RegExp("\\\\p{L}", "u")\nreturn r\n').diagnostics
    assert [x.code for x in d] == [Code.UNSUPPORTED_REGEX]
    assert "RegExp('\\\\p{L}', 'u') is not supported" in d[0].message
    d = analyze('return RegExp("a(", "g")\n').diagnostics
    assert [x.code for x in d] == [Code.SYNTAX] and "Unterminated group" in d[0].message


def test_regexp_built_at_run_time_throws_a_syntax_error_naming_the_construct() -> None:
    result = run_workflow(
        "const out = []\n"
        'for (const [p, f] of [["\\\\p{L}", "u"], ["(a)|b\\\\1(", ""], ["x", "ig"], ["é", "i"]]) {\n'
        "  try { RegExp(p, f); out.push('ok') } catch (e) { out.push(e.type + ': ' + e.message) }\n"
        "}\nreturn out\n"
    )
    assert result.output == [
        "SyntaxError: Unsupported regular expression in .flow: /\\p{L}/u: the Unicode property "
        "escape '\\p{...}' (line 3)",
        "SyntaxError: Invalid regular expression: /(a)|b\\1(/: Unterminated group (line 3)",
        "ok",
        "SyntaxError: Unsupported regular expression in .flow: /é/i: the non-ASCII character 'é' "
        "with the 'i' flag (JavaScript's case-insensitive rules for non-ASCII letters differ "
        "from Python's) (line 3)",
    ]


@pytest.mark.parametrize(
    ("source", "kinds"),
    [
        ("a / b / c", ["NAME", "SLASH", "NAME", "SLASH", "NAME"]),
        ("x = /b/g", ["NAME", "ASSIGN", "REGEX"]),
        ("(a) / 2 / 1", ["LPAR", "NAME", "RPAR", "SLASH", "NUMBER", "SLASH", "NUMBER"]),
        ("if (a) /b/.test(c)", ["IF", "LPAR", "NAME", "RPAR", "REGEX", "DOT", "NAME"]),
        ("xs[0] / 2 / 1", ["NAME", "LSQB", "NUMBER", "RSQB", "SLASH", "NUMBER", "SLASH"]),
        ("return /=/", ["RETURN", "REGEX"]),
        ("a /= 2", ["NAME", "ASSIGN_OP", "NUMBER"]),
        ("f(/[/]/, /\\//)", ["NAME", "LPAR", "REGEX", "COMMA", "REGEX", "RPAR"]),
        ("{ }\n/a/.test(s)", ["LBRACE", "RBRACE", "REGEX", "DOT", "NAME"]),
        ("x = { } / 2", ["NAME", "ASSIGN", "LBRACE_OBJ", "RBRACE", "SLASH", "NUMBER"]),
        ("typeof /a/", ["TYPEOF", "REGEX"]),
        (
            "for (const m of /a/g.exec(s)) x",
            ["FOR", "FOREACH_LPAR", "CONST", "NAME", "OF", "REGEX"],
        ),
        (
            "const of = 4; of / 2 / 1",
            ["CONST", "NAME", "ASSIGN", "NUMBER", "SEMI", "NAME", "SLASH"],
        ),
        ("a++ / 2", ["NAME", "INC", "SLASH", "NUMBER"]),
        ("`a` / 2", ["TEMPLATE_FULL", "SLASH", "NUMBER"]),
    ],
)
def test_lexer_tells_a_regex_from_a_division(source: str, kinds: list[str]) -> None:
    tokens = [t.type for t in tokenize(source).tokens if t.value != ""]
    assert tokens[: len(kinds)] == kinds


def test_regex_token_keeps_body_and_flags_and_an_unterminated_one_is_reported() -> None:
    tok = next(t for t in tokenize("x = /a[/]b\\/c/gi\n").tokens if t.type == "REGEX")
    assert tok.cooked == ("a[/]b\\/c", "gi") and tok.value == "/a[/]b\\/c/gi"
    lexed = tokenize("x = /abc\nreturn x\n")
    assert [d.message for d in lexed.diagnostics] == [
        "unterminated regular expression literal: add the closing /"
    ]


def test_translation_spells_out_javascripts_sets() -> None:
    compiled = regex.translate(r"^\s.$", "m")
    assert compiled.pattern.flags & regex.engine.ASCII
    for js_space in " \t\u00a0\ufeff\u2028\u3000":
        assert compiled.pattern.search(f"x\n{js_space}y")
    assert not compiled.pattern.search("\n\u0085y")  # NEL is not white space in JavaScript
    assert not regex.translate("a$", "").pattern.search("a\n")
    assert regex.translate(r"(a)|b\1", "").pattern.search("b")[0] == "b"


def test_regex_and_match_results_survive_the_state_round_trip_with_aliasing() -> None:
    source = """
const r = /(?<k>\\w)(\\d)?/g
const holder = { r, list: [r] }
r.test("a1 b2")
const m = r.exec("a1 b2")
const ms = [m, m]
await Timer.delay(1)
holder.r.lastIndex = 0
return [holder.list[0] === r, r.lastIndex, ms[0] === ms[1], m.index, m.groups.k, m.input, m[2],
  r.exec("zz9").index, r.lastIndex, String(r)]
"""
    wf = compile_source(source)
    step = vm.start(wf, {}, {"executionId": "e", "workflowName": "w", "now": 0.0})
    assert step.status == "suspended"
    state = json.loads(json.dumps(step.state))
    assert state["format"] == 3  # an older rhythm-core hands it back instead of misreading it
    kinds = [next(iter(entry)) for entry in state["heap"]]
    assert "re" in kinds and any("x" in entry for entry in state["heap"] if "a" in entry)
    done = vm.resume(wf, state, {"1": {"status": "completed", "output": None}})
    assert done.status == "completed", done
    assert done.output == [True, 0, True, 3, "b", "a1 b2", "2", 0, 1, "/(?<k>\\w)(\\d)?/g"]


def test_a_state_with_only_a_match_result_is_format_3_and_without_regexes_format_2() -> None:
    ctx = {"executionId": "e", "workflowName": "w", "now": 0.0}
    for source, form in [
        ('const m = "ab".match(/b/)\nawait Timer.delay(1)\nreturn m.index\n', 3),
        ('const m = "ab".match(/b/g)\nawait Timer.delay(1)\nreturn m.length\n', 2),
        ('const ok = /b/.test("ab")\nawait Timer.delay(1)\nreturn ok\n', 2),
    ]:
        wf = compile_source(source)
        step = vm.start(wf, {}, ctx)
        assert step.state["format"] == form, source
        state = json.loads(json.dumps(step.state))
        done = vm.resume(wf, state, {"1": {"status": "completed", "output": None}})
        assert done.output in (1, True), done


def test_formatter_keeps_regex_literals() -> None:
    from rhythm.core.formatter import format_source

    source = "const r = /^[a-z/]+\\/$/gi\nreturn [r.test(x), 4 / 2 / 1]\n"
    assert format_source(source) == source
    # A statement starting with a regex after an expression gets a `;` (else `/` would divide).
    source = 'const a = 1\n;/x/.test("x") && a\nif (a) {}\n/y/.test("y")\nreturn a\n'
    assert (
        format_source('const a = 1;\n/x/.test("x") && a;\nif (a) {}\n/y/.test("y")\nreturn a\n')
        == source
    )


def test_unknown_regexp_member_is_a_did_you_mean() -> None:
    d = analyze("return /a/.tset('a')\n").diagnostics
    assert [x.code for x in d] == [Code.UNKNOWN_MEMBER] and "did you mean 'test'" in d[0].message


# ---------------------------------------------------------------- random patterns against Node

_ATOMS = ["a", "b", "c", "1", "-", " ", "\\n", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", ".", "\\b",
          "\\B", "[a-c]", "[^a\\s]", "[\\S1]", "[^\\S]", "[^]", "\\.", "é", "\\u00e9", "\\x41", "^",
          "$", "(?=a)", "(?!b)", "(?<=a)", "(?<!\\d)", "{", "}", "]", "\\cJ", "\\0", "\\u{1F600}"]  # fmt: skip
_QUANTS = ["", "", "", "+", "*", "?", "{2}", "{1,3}", "{2,}", "+?", "*?", "??", "{0,2}?"]
_FLAGS = ["", "g", "i", "m", "s", "u", "y", "gi", "gm", "gs", "gu", "gy", "ims"]
_SUBJECTS = ["abc", "aab\nb-c", "A1 b22\r\nc", "é\u2028a\u00a0b", "", "x.a-1", "bca-ba"]


def _random_pattern(rng: random.Random, depth: int = 0) -> str:
    alts = []
    for _ in range(rng.randrange(1, 3) if depth < 2 else 1):
        parts = []
        for _ in range(rng.randrange(1, 4)):
            if depth < 2 and rng.random() < 0.3:
                head = rng.choice(["(", "(?:", f"(?<n{rng.randrange(99)}>"])
                atom = head + _random_pattern(rng, depth + 1) + ")"
            else:
                atom = rng.choice(_ATOMS)
            parts.append(atom + rng.choice(_QUANTS))
        alts.append("".join(parts))
    return "|".join(alts)


def test_random_patterns_agree_with_node() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    rng = random.Random(20261129)
    cases: list[list[str]] = []
    while len(cases) < 600:
        pattern, flags = _random_pattern(rng), rng.choice(_FLAGS)
        if regex.problem(pattern, flags) is None:
            cases.append([pattern, flags, rng.choice(_SUBJECTS)])
    body = """
const out = [];
for (const [p, f, s] of CASES) {
  const r = RegExp(p, f);
  const m = r.exec(s);
  out.push([m, m && m.index, m && m.groups, r.lastIndex, r.test(s), r.lastIndex,
    s.replace(r, "<$&|$1|$`|$'>"), s.split(r), s.search(r), s.match(r),
    r.global ? [...s.matchAll(r)].map((x) => [x.index, ...x]) : null,
    // (V8 passes "" for a group that took no part to a replacer function of a `gu` pattern on a
    // non-ASCII string, unlike its own matchAll: that V8 bug is left out.)
    r.global && !(r.unicode && /[^\x00-\x7f]/.test(s)) ? s.replaceAll(r, (...a) => JSON.stringify(a)) : null]);
}
return out;
"""
    source = f"const CASES = {json.dumps(cases)};\n{body}"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.mjs"
        path.write_text(
            f"const f = async () => {{ {source} }};\nconsole.log(JSON.stringify(await f()));\n"
        )
        proc = subprocess.run(
            ["node", str(path)], capture_output=True, text=True, timeout=120, check=False
        )
    assert proc.returncode == 0, proc.stderr[-2000:]
    want = json.loads(proc.stdout)
    got = run_workflow(source).output
    # ("\\B" on "" is the translation's care: Python's \B fails on an empty string.)
    differ = [
        (c, w, g)
        for c, w, g in zip(cases, want, got, strict=True)
        if json.dumps(w) != json.dumps(g)
    ]
    assert not differ, f"{len(differ)} differ:\n" + "\n".join(map(str, differ[:6]))


def test_a_suspension_shows_a_regex_variable() -> None:
    from rhythm.core.suspension import describe_suspension

    wf = compile_source("const r = /a+/gi\nawait Timer.delay(1)\nreturn r\n")
    step = vm.start(wf, {}, {"executionId": "e", "workflowName": "w", "now": 0.0})
    assert describe_suspension(wf, step.state).variables == {"r": "<RegExp /a+/gi>"}


def test_the_differential_generator_writes_regexes() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "regex_differential", Path(__file__).with_name("test_differential.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    programs = module.generate(module.SEED, module.COUNT)
    uses = {
        name: sum(1 for p in programs if name in p)
        for name in (
            ".test(",
            ".exec(",
            ".search(",
            ".matchAll(",
            ".match(",
            ".split(/",
            "lastIndex",
        )
    }
    assert all(n >= 5 for n in uses.values()), uses
    with_regex = [p for p in programs if any(t.type == "REGEX" for t in tokenize(p).tokens)]
    assert len(with_regex) >= len(programs) // 5


# ------------------------------------------------------------------ matching that never ends

BACKTRACKING = 'const s = "a".repeat(40) + "!";\nreturn /(a|a)+$/.test(s);'


def test_a_pattern_that_backtracks_without_end_fails_its_step_in_its_time() -> None:
    """Instructions do not count the work inside one match: the step's time for regular
    expressions does, and running out of it fails the workflow like a runaway loop."""
    wf = compile_source(BACKTRACKING)
    started = time.monotonic()
    step = vm.start(wf, {}, {"executionId": "e"}, regex_seconds=0.3)
    took = time.monotonic() - started
    assert step.status == "failed" and step.error["type"] == "BudgetExceeded"
    assert (
        "regular expressions ran for more than 0.3 s in one step (line 2)"
        in (step.error["message"])
    )
    assert 0.25 < took < 10
    # Not catchable: a workflow cannot try again for ever.
    wf = compile_source(f"try {{ {BACKTRACKING} }} catch (e) {{ return 'caught'; }}")
    assert vm.start(wf, {}, {"executionId": "e"}, regex_seconds=0.1).status == "failed"


def test_the_time_is_the_steps_not_each_matchs() -> None:
    """Many matches share one step's allowance; a new step starts with a full one."""
    source = (
        'const s = "a".repeat(16) + "!";\nlet n = 0;\n'
        "for (let i = 0; i < 1000; i++) { if (!/(a|a)+$/.test(s)) n++; }\nreturn n;"
    )
    wf = compile_source(source)
    pattern = regex.translate("(a|a)+$", "").pattern
    one = time.monotonic()
    assert pattern.search("a" * 16 + "!") is None
    each = time.monotonic() - one  # one match's time here
    step = vm.start(wf, {}, {"executionId": "e"}, regex_seconds=max(0.2, each * 20))
    assert step.status == "failed" and step.error["type"] == "BudgetExceeded"
    assert "(line 3)" in step.error["message"]


def test_a_long_match_lets_other_threads_run() -> None:
    """A worker runs a step in a thread beside its event loop, which must keep renewing leases
    while a match runs: the match does not hold the GIL."""
    wf = compile_source(BACKTRACKING)
    done = threading.Event()
    result: list[vm.Step] = []

    def step() -> None:
        result.append(vm.start(wf, {}, {"executionId": "e"}, regex_seconds=1.0))
        done.set()

    thread = threading.Thread(target=step)
    ticks = 0
    thread.start()
    while not done.wait(0.01):
        ticks += 1  # this thread runs only when the match lets it
    thread.join()
    assert result[0].error["type"] == "BudgetExceeded"
    assert ticks >= 20, ticks  # about 100 in the second the match ran
