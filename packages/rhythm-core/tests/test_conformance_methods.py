"""Conformance cases for the methods of values and the Number/Math/String/Array statics: each
program's output must equal Node.js's (all of them run in one node process). Errors are compared
by kind and, where V8's message is reproduced, by message. Awaits sit between the steps, so the
values held in variables go through the JSON round trip of the state at every suspension."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

# The node runner and the .flow runner of test_conformance.py (tests are not a package).
_spec = importlib.util.spec_from_file_location(
    "conformance_runners", Path(__file__).with_name("test_conformance.py")
)
assert _spec is not None and _spec.loader is not None
_conformance = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conformance)
_run_node, _run_rhythm = _conformance._run_node, _conformance._run_rhythm

# `E(() => ...)`: the error's kind and message, or the value when nothing is thrown.
HELPERS = """
// The message without the " (line N)" that .flow adds to the errors it throws itself.
const M = (m) => (m.indexOf(" (line ") < 0 ? m : m.slice(0, m.indexOf(" (line ")));
const E = (f) => { try { return f(); } catch (e) { return [T(e), M(e.message)]; } };
"""

CASES: dict[str, str] = {
    "to_fixed": """
const xs = [0, -0, 1.005, 1.5, 2.5, -2.5, 0.000001, -0.0001, 123.456, 1e20, 1e21, -1e21, 1.45, 8.345,
  0.5, 1/3, NaN, Infinity, -Infinity, 5e-324, 9007199254740993, 10.235, 1.0000000000000002];
const out = [];
for (const x of xs) {
  out.push(x.toFixed(), x.toFixed(0), x.toFixed(2));
  const held = x.toFixed(20);
  await Task.run("t");
  out.push(held, x.toFixed(100));
}
out.push(E(() => (1).toFixed(101)), E(() => (1).toFixed(-1)), E(() => NaN.toFixed(200)));
out.push((1.5).toFixed("1"), (1.25).toFixed(1.9), (2).toFixed(undefined), (2).toFixed(null));
return out;
""",
    "to_precision": """
const xs = [0, -0, 1, 123.456, 0.000123, 0.0000001234, 1e21, 123456789, -1.5, 2.5, 99.99, 9.5,
  5e-324, 1.7976931348623157e308, NaN, Infinity, -Infinity, 1/3];
const out = [];
for (const x of xs) {
  out.push(x.toPrecision(), x.toPrecision(1), x.toPrecision(2), x.toPrecision(5));
  out.push(x.toPrecision(21), x.toPrecision(100));
}
await Task.run("t");
out.push(E(() => (1).toPrecision(0)), E(() => (1).toPrecision(101)));
out.push(NaN.toPrecision(0), Infinity.toPrecision(200), (5).toPrecision(undefined));
return out;
""",
    "to_exponential": """
const xs = [0, -0, 1, 123.456, 0.000123, 1e21, -1.5, 2.5, 5e-324, 1.7976931348623157e308, 1/3,
  NaN, Infinity];
const out = [];
for (const x of xs) out.push(x.toExponential(), x.toExponential(0), x.toExponential(3), x.toExponential(25));
out.push(E(() => (1).toExponential(-1)), E(() => (1).toExponential(101)), Infinity.toExponential(1000));
return out;
""",
    "to_string_radix": """
const xs = [0, -0, 1, -1, 255, -255, 0.5, 0.1, -0.1, 1/3, 3.75, 1e21, 2 ** 53, 2 ** 53 + 2, 1e300,
  5e-324, 123.456, -987654.321, 0.000001, NaN, Infinity, -Infinity, 4294967295, 1.7976931348623157e308];
const out = [];
for (const x of xs) {
  for (const r of [2, 3, 7, 8, 10, 16, 32, 36]) out.push(x.toString(r));
  await Task.run("t");
  out.push(x.toString(), String(x), `${x}`);
}
out.push(E(() => (1).toString(1)), E(() => (1).toString(37)), E(() => NaN.toString(0)));
out.push((255).toString("16"), (255).toString(16.9), (255).toString(undefined), (10).toString(10));
out.push(E(() => (1).toString(null)));
return out;
""",
    "number_statics": """
const vs = [0, -0, 1, 1.5, -7, NaN, Infinity, -Infinity, "1", "", null, undefined, true, [], [3],
  {}, 2 ** 53, 2 ** 53 - 1, -(2 ** 53 - 1), -(2 ** 53), 1e300, 5e-324];
const out = [];
for (const v of vs) {
  out.push([Number.isInteger(v), Number.isSafeInteger(v), Number.isFinite(v), Number.isNaN(v),
    isFinite(v), isNaN(v), Number(v)]);
}
out.push(Number(), Number("0x1f"), Number(" 12 "), Number("1e3"), Number("12px"), Number(false));
out.push(Number.parseFloat("2.5e3x"), Number.parseInt("ff", 16), Number.parseInt("  -42abc"));
out.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, Number.EPSILON, Number.MAX_VALUE,
  Number.MIN_VALUE, String(Number.POSITIVE_INFINITY), String(Number.NEGATIVE_INFINITY),
  String(Number.NaN), Number.MAX_SAFE_INTEGER + 2, 1 + Number.EPSILON > 1);
const conv = Number;
await Task.run("t");
out.push(["1", "2.5", "x"].map(Number), conv("7"), typeof Number, typeof String, typeof Math);
out.push(String(Number), String(String), Number.name, Number.length, String.name);
return out;
""",
    "math_exact": """
const out = [];
const xs = [0, -0, 1, -1, 0.5, -0.5, 2, 10, 1e-10, -1e-10, 1e308, -1e308, NaN, Infinity, -Infinity];
const fs = ["acos", "acosh", "asin", "asinh", "atan", "atanh", "cos", "cosh", "exp", "expm1",
  "log", "log10", "log1p", "log2", "sin", "sinh", "tan", "tanh", "cbrt", "sqrt", "abs", "sign",
  "trunc", "ceil", "floor", "round", "fround", "clz32"];
const show = (v) => (v === 0 && 1 / v < 0 ? "-0" : String(v));
for (const f of fs) {
  out.push(f, xs.map((x) => show(Math[f](x))).join(" "));
}
await Task.run("t");
out.push(Math.cbrt(27), Math.cbrt(-8), Math.cbrt(1000), Math.log2(8), Math.log2(1024),
  Math.log10(1000), Math.log10(1e-5), Math.exp(0), Math.log(1), Math.sqrt(16));
out.push(Math.clz32(0), Math.clz32(1), Math.clz32(-1), Math.clz32(0.5), Math.clz32(2 ** 32),
  Math.clz32(3.9), Math.clz32("8"), Math.clz32(undefined));
out.push(Math.imul(2, 3), Math.imul(-5, 12), Math.imul(0xffffffff, 5), Math.imul(0xfffffffe, 5),
  Math.imul(2 ** 31, 2), Math.imul(1.9, 2.9), Math.imul(undefined, 2), Math.imul(NaN, 1));
out.push(Math.fround(5.5), Math.fround(0.1), Math.fround(1e40), Math.fround(-1e40),
  Math.fround(3.4028235677973366e38), Math.fround(3.4028235677973362e38), Math.fround(1e-50),
  Math.fround(2 ** -149), Math.fround(1.5 * 2 ** -149));
out.push(Math.hypot(), Math.hypot(3, 4), Math.hypot(3, 4, 12), Math.hypot(-3), Math.hypot(NaN, Infinity),
  Math.hypot(NaN, 1), Math.hypot(1e200, 1e200), Math.hypot(1e-200, 1e-200), Math.hypot(0, -0),
  Math.hypot(0.1, 0.2, 0.3), Math.hypot("3", [4]));
out.push(show(Math.atan2(0, -0)), show(Math.atan2(-0, 0)), Math.atan2(1, 1), Math.atan2(-1, -1),
  Math.atan2(Infinity, Infinity), Math.atan2(NaN, 1), Math.atan2(1, 0));
out.push(Math.LN10, Math.LN2, Math.LOG10E, Math.LOG2E, Math.SQRT1_2, Math.SQRT2, Math.PI, Math.E);
out.push(show(Math.sign(-0)), Math.sign(-3), Math.sign("5"), Math.sign(NaN), show(Math.round(-0.4)),
  show(Math.trunc(-0.5)), show(Math.ceil(-0.5)), Math.max(), Math.min());
return out;
""",
    "string_from_codes": r"""
const out = [];
out.push(String.fromCharCode(72, 105), String.fromCharCode(), String.fromCharCode(65 + 65536),
  String.fromCharCode(0xD83D, 0xDE00) === "😀", String.fromCharCode("66", 67.9, -1).length,
  JSON.stringify(String.fromCharCode(0xD800)), String.fromCharCode(NaN).charCodeAt(0));
out.push(String.fromCodePoint(72, 105), String.fromCodePoint(0x1F600) === "😀",
  String.fromCodePoint(), JSON.stringify(String.fromCodePoint(0xDC00)),
  String.fromCodePoint(0xD83D, 0xDE00) === "😀");
out.push(E(() => String.fromCodePoint(-1)), E(() => String.fromCodePoint(1.5)),
  E(() => String.fromCodePoint(0x110000)), E(() => String.fromCodePoint("a")),
  E(() => String.fromCodePoint(Infinity)));
out.push(String(), String(12), String(null), String([1, [2, 3]]), String({}), ["a", 1].map(String));
return out;
""",
    "function_name_and_length": """
const out = [];
const f = (a, b) => a;
const g = async (a, b = 1, c) => a;
const h = (...rest) => rest;
function decl(x, { y }, [z]) { return x; }
async function later(a = 0) { return a; }
const o = { m: (x) => x, n: async () => 1, "quoted key": () => 2, nested: { deep: () => 3 } };
let assigned;
assigned = () => 1;
let logical;
logical ??= (a) => a;
const { dflt = (q) => q } = {};
const [arr = () => 0] = [];
const param = (cb = (z) => z) => cb;
const anon = [() => 1][0];
const prop = {};
prop.fn = () => 1;
const held = [Math.max, Number, String.fromCharCode, Number.isInteger, f, decl];
await Task.run("t");
out.push(held.map((h) => h.name), held[0](1, 5), held[1]("7"), held[2](65), held[3](2), held[4].length);
for (const fn of [f, g, h, decl, later, o.m, o.n, o["quoted key"], o.nested.deep, assigned, logical,
  dflt, arr, param(), anon, prop.fn, (() => 1), Math.max, Math.abs, parseInt, JSON.stringify,
  Number, String, Number.isInteger, String.fromCharCode]) {
  out.push([fn.name, typeof fn.name]);
}
out.push(f.length, g.length, h.length, decl.length, later.length, o.m.length, param.length,
  Number.isInteger.length, String.length, Number.length);
out.push(typeof f.toString(), typeof Math.max.toString(), Math.max.toString(), String(parseInt),
  String(Number.isInteger), `${Math.abs}`);
return out;
""",
    "to_string_on_every_value": """
const out = [];
const values = [1, -1.5, 0.1, 1e21, NaN, true, false, "text", [1, [2, [3, null]], undefined],
  [], {}, { a: 1 }, [{}]];
for (const v of values) out.push(v.toString());
await Task.run("t");
out.push((5).valueOf(), true.valueOf(), ({ toString: () => "own" }).toString());
out.push(E(() => null.toString()), E(() => undefined.toString()));
const n = 255;
out.push(n.toString(2), 7..toString(), (0.1 + 0.2).toString(), [1.5, "a", true].toString());
out.push(typeof (1).toFixed, typeof true.toString, typeof ({}).toString);
return out;
""",
    # Only text inside the Basic Multilingual Plane: there code-point and UTF-16 indexes agree.
    "string_methods": r"""
const s = "hello, wörld";
const out = [];
for (const i of [0, 1, 7, 11, 12, -1, 1.7, NaN, undefined, "2", Infinity]) {
  out.push([s.charAt(i), s.charCodeAt(i), s.codePointAt(i) ?? "none"]);
}
out.push(s.charAt(), s.charCodeAt(), s.codePointAt(), "".charAt(0), String(NaN === "".charCodeAt(0)));
const held = s.lastIndexOf("o");
await Task.run("t");
out.push(held, s.lastIndexOf("l"), s.lastIndexOf("l", 3), s.lastIndexOf("l", 2), s.lastIndexOf("l", 1),
  s.lastIndexOf("h", -5), s.lastIndexOf("", 4), s.lastIndexOf(""), s.lastIndexOf("x"),
  s.lastIndexOf("o", NaN), s.lastIndexOf("o", Infinity), s.lastIndexOf("o", "6"), "aaa".lastIndexOf("aa"));
out.push("a".concat("b", 1, null, undefined, [2, 3], {}), "".concat(), "x".concat([]));
out.push(["b", "a", "c", "ab", "", "a"].map((x) => x.localeCompare("ab")), "a".localeCompare("a"),
  ["pear", "apple", "fig", "apples"].sort((a, b) => a.localeCompare(b)));
out.push("e\u0301".normalize() === "\u00e9", "\u00e9".normalize("NFD").length, "ﬁ".normalize("NFKC"),
  "ﬁ".normalize("NFC"), "Å".normalize("NFKD").length, E(() => "a".normalize("nfc")),
  E(() => "a".normalize("")));
out.push("abc".toString(), "abc".valueOf(), "x".toString().length);
return out;
""",
    "array_from_and_of": """
const out = [];
const f = (a, b) => a;
out.push(Array.from([1, 2, 3]), Array.from("héllo"), Array.from({ length: 3 }),
  Array.from({ length: 2, 0: "a", 1: "b", 2: "c" }), Array.from({}), Array.from(5), Array.from(true),
  Array.from({ length: "2" }), Array.from({ length: -1 }), Array.from({ length: 2.7 }), Array.from(f));
const src = [1, 2];
const copy = Array.from(src);
copy.push(3);
await Task.run("t");
out.push(src, copy, Array.from({ length: 4 }, (_, i) => i * i), Array.from("ab", (c, i) => c + i),
  Array.from([1, undefined, 3].map((x) => x ?? 0), String), Array.from([[1, 2], [3, 4]].entries()));
out.push(E(() => Array.from(null)), E(() => Array.from(undefined)), E(() => Array.from([1], 5)),
  E(() => Array.from({ length: 2 ** 32 })));
out.push(Array.of(), Array.of(7), Array.of(1, "a", null, undefined), Array.of([1]).length);
return out;
""",
    "array_new_methods": """
const out = [];
const a = [5, 1, 4, 1, 3];
out.push(a.toSorted(), a.toSorted((x, y) => y - x), a.toReversed(), a, a.with(0, 9), a.with(-1, 0), a);
out.push(E(() => a.with(5, 1)), E(() => a.with(-6, 1)), E(() => a.toSorted(5)), E(() => a.sort("x")));
out.push([10, 9, 1, 100].toSorted(), [undefined, 3, null, 1].toSorted(), [3, 1, 2].with(1.7, "x"));
out.push(a.lastIndexOf(1), a.lastIndexOf(1, 2), a.lastIndexOf(1, -3), a.lastIndexOf(1, -10),
  a.lastIndexOf(1, 100), a.lastIndexOf(7), [NaN].lastIndexOf(NaN), a.lastIndexOf(5, -Infinity),
  a.lastIndexOf(3, undefined), a.lastIndexOf(1, "3"));
out.push(a.findLast((x) => x < 4), a.findLastIndex((x) => x < 4), a.findLast((x) => x > 9),
  a.findLastIndex((x) => x > 9), a.findLast((x, i, arr) => arr === a && i === 2));
const visited = [];
[1, 2, 3].findLast((x, i, arr) => { visited.push(x, i); if (i === 2) arr.pop(); return false; });
out.push(visited);
const filled = [1, 2, 3, 4, 5];
out.push(filled.fill(0, 1, 3), filled.fill(7, -2), filled.fill(9, 10), filled.fill(8, 3, 1),
  [1, 2].fill(undefined), new_(3).fill("x"));
function new_(n) { const r = []; r.length = n; return r; }
const held = [1, 2, 3, 4, 5, 6];
const removed = held.splice(1, 2);
await Task.run("t");
out.push(removed, held, held.splice(-2), held, held.splice(1, 0, "a", "b"), held,
  held.splice(), held, held.splice(0, 1, ["x"]), held, held.splice(10, 5, "end"), held,
  held.splice(1, -3, 7), held, held.splice(0, Infinity), held, held.splice("1"));
return out;
""",
    "array_entries_keys_values": """
const out = [];
const xs = ["a", "b", "c"];
for (const [i, x] of xs.entries()) out.push(i + ":" + x);
for (const k of xs.keys()) out.push(k);
const vals = xs.values();
await Task.run("t");
for (const v of vals) out.push(v);
out.push([...xs.entries()], [...xs.keys()], [...xs.values()], [...[].entries()]);
out.push(Math.max(...[3, 9, 2].values()), Array.from(xs.keys(), (k) => k * 10));
const [first, second] = xs.entries();
out.push(first, second);
const objs = [{ n: 1 }];
const pairs = [...objs.entries()];
const vs = objs.values();
await Task.run("t");
pairs[0][1].n = 5;
out.push(objs[0].n, pairs[0][1] === objs[0], [...vs][0] === objs[0]);
return out;
""",
    "array_to_string_and_join": """
const out = [];
const nested = [1, [2, [3, [4]]], null, undefined, true, "s", { a: 1 }, [], [[]], -0, 1e21, 0.5];
out.push(nested.toString(), String(nested), `${nested}`, nested.join(), [].toString(), [[], []].toString());
const cyclic = [1, 2];
cyclic.push(cyclic);
await Task.run("t");
out.push(cyclic.toString(), [null].toString(), [undefined, null].toString(), [[1, 2], [3]].toString());
return out;
""",
    # Array.from over the other iterables (Map, Set and their keys/values/entries), toString
    # and name/length of the builtin classes.
    "builtin_classes": """
const m = new Map([[1, "a"], ["k", { x: 1 }]]);
const s = new Set([3, 3, 4]);
const out = [Array.from(m), Array.from(s), Array.from(m.keys()), Array.from(s, (x) => x * 2),
  Array.from(m.values(), String), Array.from(s.entries())];
const e = new TypeError("boom");
const d = new Date(0);
await Task.run("t");
out.push(String(m), String(s), Array.from(m).length);
for (const v of [m, s, e, d, new Error(), new RangeError("r")]) out.push(v.toString());
out.push(Date.length, Map.length, Set.length, Error.length, TypeError.length, Date.name, Map.name,
  Error.name, RangeError.name, Date.toString(), String(Map), `${Set}`);
return out;
""",
}


@pytest.fixture(scope="module")
def node_results() -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    names = list(CASES)
    return dict(zip(names, _run_node([HELPERS + CASES[n] for n in names]), strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_matches_node(name: str, node_results: dict[str, Any]) -> None:
    assert json.dumps(_run_rhythm(HELPERS + CASES[name])) == json.dumps(node_results[name])


def test_bound_builtin_methods_survive_the_state_round_trip() -> None:
    # A method read off a number, string or array keeps its value through a suspension (the
    # JSON round trip of the state); JavaScript would throw on such a detached call, so this
    # is checked here rather than against Node.
    result = _conformance.run_workflow(
        """
const xs = [1, 2];
const fix = (1.5).toFixed;
const at = "héllo".charAt;
const entries = xs.entries;
const push = xs.push;
const num = Number;
await Task.run("t");
push(3);
return [fix(2), at(1), entries(), xs, num("4"), typeof num, num.name, num.isInteger(4)];
""",
        tasks={"t": lambda inputs: None},
    )
    assert result.status == "completed", result.error
    assert result.output == [
        "1.50",
        "é",
        [[0, 1], [1, 2], [2, 3]],
        [1, 2, 3],
        4,
        "function",
        "Number",
        True,
    ]
