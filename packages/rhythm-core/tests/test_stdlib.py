"""The stdlib: the table and its implementations match one to one, and each builtin behaves as in
JavaScript (including its error paths)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import stdlib
from rhythm.core.builtins import IMPLEMENTATIONS
from rhythm.core.testing import run_workflow

DOCS = Path(__file__).resolve().parents[3] / "docs" / "language.md"


def out(source: str, **kwargs: Any) -> Any:
    result = run_workflow(source, **kwargs)
    assert result.status == "completed", result.error
    return result.output


def caught(expr: str) -> dict[str, Any]:
    """The error object `expr` throws."""
    return out(
        f"try {{ {expr}; }} catch (e) {{ return {{ type: e.type, name: e.name, message: e.message }}; }}"
        ' return "no error";'
    )


def test_every_table_entry_has_an_implementation_and_vice_versa() -> None:
    table = {b.qualified_name for b in stdlib.all_builtins()}
    assert table == set(IMPLEMENTATIONS)


def test_every_entry_has_a_doc_sentence_and_lookup_works() -> None:
    for b in stdlib.all_builtins():
        assert b.doc.endswith(".") or b.doc.endswith(")"), b.qualified_name
        assert len(b.doc) > 15, b.qualified_name
        assert b.signature.startswith(b.qualified_name)
    for name, entry in stdlib.GLOBALS.items():
        assert stdlib.lookup_global(name) is entry
        assert entry.doc
    assert stdlib.lookup_member("Task", "run") is not None
    assert stdlib.lookup_member("string", "padStart") is not None
    assert stdlib.lookup_member("array", "flatMap") is not None
    assert stdlib.lookup_member("Task", "nope") is None
    assert stdlib.lookup_member("parseInt", "x") is None
    assert stdlib.lookup_global("Nope") is None
    assert stdlib.GLOBALS["Inputs"].open  # type: ignore[union-attr]
    assert stdlib.lookup_member("Task", "run").min_args == 1  # type: ignore[union-attr]
    assert stdlib.lookup_member("Math", "max").max_args is None  # type: ignore[union-attr]


def test_every_entry_is_documented_in_language_md() -> None:
    text = DOCS.read_text()
    for b in stdlib.all_builtins():
        assert f"`{b.qualified_name}" in text or f"`{b.name}" in text, b.qualified_name
    for name in stdlib.GLOBALS:
        assert f"`{name}" in text, name


def test_generated_builtin_reference_is_up_to_date() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", DOCS.with_name("gen_language_builtins.py"))
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    text = DOCS.read_text()
    assert gen.updated(text) == text, (
        "run: uv run --all-packages python docs/gen_language_builtins.py"
    )


def test_math() -> None:
    assert out(
        "return [Math.abs(-3), Math.ceil(1.2), Math.floor(-1.2), Math.round(2.5), Math.round(-2.5),"
        " Math.round(0.49999999999999994), Math.trunc(-1.7), Math.sign(-4), Math.min(3, 1, 2),"
        " Math.max(), Math.pow(2, 0.5), Math.sqrt(9), Math.sqrt(-1), Math.PI, Math.E, Math.min()];"
    ) == [3, 2, -2, 3, -2, 0, -1, -1, 1, None, 2**0.5, 3, None, math.pi, math.e, None]
    assert out('return [Math.max(1, "7"), Math.max(1, NaN), Math.abs("x")];') == [7, None, None]


def test_math_random_is_in_range_and_survives_snapshots() -> None:
    src = "const a = Math.random(); await Timer.delay(1); const b = Math.random(); return [a, b];"
    first = out(src)
    assert all(0 <= x < 1 for x in first) and first[0] != first[1]
    assert out(src) == first  # same execution id: same sequence, across a resume
    assert out(src, execution_id="other") != first


def test_json() -> None:
    assert out('return JSON.stringify({ b: [1, undefined], a: "x", u: undefined, "1": 2 });') == (
        '{"1":2,"b":[1,null],"a":"x"}'
    )
    assert out("return JSON.stringify({ a: [1] }, null, 2);") == '{\n  "a": [\n    1\n  ]\n}'
    assert out('return JSON.stringify([1], null, "\\t");') == "[\n\t1\n]"
    assert out(
        "return [JSON.stringify(undefined), JSON.stringify(() => 1), JSON.stringify(NaN)];"
    ) == [
        None,
        None,
        "null",
    ]
    assert out('return JSON.parse("[1, {\\"a\\": null}]");') == [1, {"a": None}]
    assert caught('JSON.parse("{bad")')["type"] == "SyntaxError"
    assert caught("JSON.stringify({}, (k, v) => v)")["type"] == "TypeError"
    assert caught("const a = []; a.push(a); JSON.stringify(a)")["type"] == "TypeError"


def test_object_and_array_functions() -> None:
    assert out(
        'const o = { b: 1, a: 2, "2": 3 }; return [Object.keys(o), Object.values(o), '
        "Object.entries(o)];"
    ) == [["2", "b", "a"], [3, 1, 2], [["2", 3], ["b", 1], ["a", 2]]]
    assert out(
        "const t = { a: 1 }; const r = Object.assign(t, { b: 2 }, null, { a: 3 }); return [r, t === r];"
    ) == [
        {"a": 3, "b": 2},
        True,
    ]
    assert out('return Object.fromEntries([["a", 1], ["b", [2]]]);') == {"a": 1, "b": [2]}
    assert out('return [Object.keys("ab"), Object.keys([5, 6])];') == [["0", "1"], ["0", "1"]]
    assert out('return [Array.isArray([]), Array.isArray({}), Array.isArray("a")];') == [
        True,
        False,
        False,
    ]
    assert caught("Object.keys(null)")["type"] == "TypeError"
    assert caught("Object.fromEntries([1])")["type"] == "TypeError"


def test_global_functions() -> None:
    assert out(
        'return [Number("42"), Number(""), Number("12px"), Number(null), Number(undefined), Number([7]),'
        " Number(true), Number()];"
    ) == [42, 0, None, 0, None, 7, 1, 0]
    assert out(
        "return [String(1.5), String(null), String([1, [2, 3]]), String({}), String(), String(-0)];"
    ) == ["1.5", "null", "1,2,3", "[object Object]", "", "0"]
    assert out('return [Boolean(""), Boolean("0"), Boolean(0), Boolean({}), Boolean()];') == [
        False,
        True,
        False,
        True,
        False,
    ]
    assert out(
        'return [parseInt("42px"), parseInt("0x10"), parseInt("z", 36), parseInt("x"), '
        'parseFloat("3.5kg"), parseFloat("e5"), isNaN("abc"), isNaN("12"), isNaN(NaN)];'
    ) == [42, 16, 35, None, 3.5, None, True, False, True]
    assert out("return [Infinity, -Infinity, typeof NaN];") == [None, None, "number"]


def test_string_methods() -> None:
    assert out(
        'const s = " Hello World "; return [s.length, s.trim(), s.trimStart(), s.trimEnd(),'
        " s.toUpperCase(), s.toLowerCase()];"
    ) == [13, "Hello World", "Hello World ", " Hello World", " HELLO WORLD ", " hello world "]
    assert out(
        'const s = "a,b,,c"; return [s.split(","), s.split(",", 2), s.split(""), s.split(), '
        '"".split(","), "".split("")];'
    ) == [["a", "b", "", "c"], ["a", "b"], list("a,b,,c"), ["a,b,,c"], [""], []]
    assert out(
        'const s = "hello"; return [s.includes("ell"), s.includes("h", 1), s.startsWith("he"),'
        ' s.startsWith("l", 2), s.endsWith("lo"), s.endsWith("l", 4), s.indexOf("l"),'
        ' s.indexOf("l", 3), s.indexOf("z")];'
    ) == [True, False, True, True, True, True, 2, 3, -1]
    assert out(
        'const s = "hello"; return [s.slice(1, -1), s.slice(-3), s.slice(3, 1), s.substring(3, 1),'
        " s.substring(-2, 2), s.at(0), s.at(-1), s.at(9), s[1], s[9]];"
    ) == ["ell", "llo", "", "el", "he", "h", "o", None, "e", None]
    assert out(
        'return ["a-b-c".replace("-", "+"), "a-b-c".replaceAll("-", "+"), "abc".replace("b", "[$&]"),'
        ' "abc".replace("b", "$$"), "abc".replace("b", "$`$\'"), "aaa".replaceAll("", "."),'
        ' "abc".replace("b", (m, i) => m.toUpperCase() + i)];'
    ) == ["a+b-c", "a+b+c", "a[b]c", "a$c", "aacc", ".a.a.a.", "aB1c"]
    assert out(
        'return ["7".padStart(3, "0"), "7".padEnd(4, "ab"), "abc".padStart(2), "x".padStart(3),'
        ' "ab".repeat(3), "ab".repeat(0)];'
    ) == ["007", "7aba", "abc", "  x", "ababab", ""]
    assert caught('"a".repeat(Infinity)')["type"] == "RangeError"
    assert caught('const s = ["a"][0]; s.nope()')["type"] == "TypeError"


def test_array_methods() -> None:
    assert out(
        "const a = [1, 2]; const n = a.push(3, 4); const p = a.pop(); const s = a.shift();"
        " const u = a.unshift(0); return [a, n, p, s, u, [].pop(), [].shift()];"
    ) == [[0, 2, 3], 4, 4, 1, 3, None, None]
    assert out(
        'const a = [1, NaN, "2"]; return [a.includes(NaN), a.indexOf(NaN), a.includes(2), '
        'a.indexOf("2"), [1, 2, 1].indexOf(1, 1), a.join(), a.join("-"), [null, undefined, 1].join()];'
    ) == [True, -1, False, 2, 2, "1,NaN,2", "1-NaN-2", ",,1"]
    assert out(
        "const a = [1, 2, 3, 4]; return [a.slice(1, -1), a.slice(-2), a.concat([5], 6, [[7]]),"
        " [...a].reverse(), a.at(-1), a.at(10)];"
    ) == [[2, 3], [3, 4], [1, 2, 3, 4, 5, 6, [7]], [4, 3, 2, 1], 4, None]
    assert out(
        "return [[10, 9, 1, undefined, 2].sort(), [3, 1, 2].sort((a, b) => b - a),"
        ' [{ k: 1, v: "a" }, { k: 0, v: "b" }, { k: 1, v: "c" }].sort((x, y) => x.k - y.k).map(x => x.v),'
        ' ["b", "a", "C"].sort()];'
    ) == [[1, 10, 2, 9, None], [3, 2, 1], ["b", "a", "c"], ["C", "a", "b"]]
    assert out(
        "const a = [1, 2, 3]; return [a.map((x, i, arr) => x * i + arr.length), a.filter(x => x % 2),"
        " a.find(x => x > 1), a.find(x => x > 5), a.findIndex(x => x > 1), a.findIndex(x => x > 5),"
        " a.some(x => x > 2), a.every(x => x > 2), a.reduce((s, x) => s + x),"
        " a.reduce((s, x) => s + x, 10), [1, [2, [3, [4]]]].flat(), [1, [2, [3, [4]]]].flat(Infinity),"
        " a.flatMap(x => [x, [x]])];"
    ) == [
        [3, 5, 9],
        [1, 3],
        2,
        None,
        1,
        -1,
        True,
        False,
        6,
        16,
        [1, 2, [3, [4]]],
        [1, 2, 3, 4],
        [1, [1], 2, [2], 3, [3]],
    ]
    assert out("let t = 0; [1, 2, 3].forEach((x) => { t += x; }); return t;") == 6
    assert out("const a = [1, 2]; a[3] = 4; a.length = 5; return [a, a.length];") == [
        [1, 2, None, 4, None],
        5,
    ]
    assert out("const m = [1, 2].map(String); return m;") == ["1", "2"]
    assert caught("[].reduce((a, b) => a)")["type"] == "TypeError"
    assert caught("[1].map(5)")["type"] == "TypeError"
    assert caught("const a = [[1]][0]; a.nope()")["type"] == "TypeError"
    assert caught("[2, 1].sort(1)")["type"] == "TypeError"


def test_context() -> None:
    src = "return [Context.executionId, Context.workflowName, Context.versionHash.length, Context.now()];"
    assert out(src, execution_id="ex-1", name="flow", start_time=1_700_000_000.5) == [
        "ex-1",
        "flow",
        64,
        1_700_000_000_500,
    ]
    assert out("await Timer.delay(90); return Context.now();", start_time=0) == 90_000


def test_stdlib_values_can_be_passed_around() -> None:
    assert out("const m = Math; const f = m.max; return [f(1, 3), typeof f, typeof Math];") == [
        3,
        "function",
        "object",
    ]
    assert out('const up = "abc".toUpperCase; return up();') == "ABC"
    assert out("const m = Math; return [m.nope, Task.run === Task.run];") == [None, True]


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        ("const T = Task; T.run()", "non-empty string name"),
        ('Task.run("")', "non-empty string name"),
        ('Task.run("t", 5)', "inputs must be an object"),
        ('Task.run("t", {}, 5)', "options must be an object"),
        ('Task.run("t", {}, { retry: 1 })', "unknown Task.run option 'retry'"),
        ('Task.run("t", {}, { retries: -1 })', "retries must be an integer from 0 to 1000"),
        ('Task.run("t", {}, { retries: 1.5 })', "retries must be an integer from 0 to 1000"),
        ('Task.run("t", {}, { retries: 1001 })', "retries must be an integer from 0 to 1000"),
        (
            'Task.run("t", {}, { priority: 2 ** 31 })',
            "priority must be an integer from -2147483647",
        ),
        ('Task.run("t", {}, { priority: -(2 ** 31) })', "priority must be an integer from"),
        ('Task.run("t", {}, { timeout: 1e300 })', "timeout must be a number of seconds > 0 (at"),
        ('Task.run("t", {}, { delay: Infinity })', "delay must be a number of seconds >= 0"),
        ('Task.run("t", {}, { delay: 1e12 })', "delay must be a number of seconds >= 0 (at most"),
        ('Task.run(" ")', "non-empty string name (at most 200 characters)"),
        ('Task.run("x".repeat(201))', "non-empty string name (at most 200 characters)"),
        ('Task.run("t", {}, { queue: "q".repeat(201) })', "queue must be a non-empty string"),
        ("Timer.delay(1e12)", "Timer.delay must be a number of seconds >= 0"),
        ('Signal.when("s", { timeout: 1e12 })', "is longer than"),
        ('Signal.next("s".repeat(201))', "non-empty string name"),
        ('Task.run("t", {}, { priority: "high" })', "priority must be an integer"),
        ('Task.run("t", {}, { timeout: 0 })', "timeout must be a number of seconds > 0"),
        ('Task.run("t", {}, { delay: -1 })', "delay must be a number of seconds >= 0"),
        ('Task.run("t", {}, { queue: "" })', "queue must be a non-empty string"),
        ("Timer.delay(-1)", "Timer.delay must be a number of seconds >= 0"),
        ('Timer.delay("5")', "Timer.delay must be a number of seconds >= 0"),
        ('Timer.until("tomorrow")', "Timer.until needs an ISO 8601 time"),
        ('Signal.when("s", { timeout: "5 parsecs" })', "invalid timeout"),
        ('Signal.when("s", { timeout: -5 })', "invalid timeout"),
        ('Signal.when("s", { wait: 5 })', "unknown Signal.when option 'wait'"),
        ('Signal.next("")', "non-empty string name"),
        ('Workflow.run("")', "non-empty string name"),
        ('Workflow.run("w", [])', "inputs must be an object"),
        ("Promise.all(5)", "Promise.all expects an array"),
    ],
)
def test_bad_arguments_throw_clear_catchable_errors(call: str, fragment: str) -> None:
    e = caught(call)
    assert isinstance(e, dict), e
    assert fragment in e["message"], e
    assert "line 1" in e["message"]
