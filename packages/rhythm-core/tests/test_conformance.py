"""Hand-picked conformance cases: tricky .flow programs whose output must equal Node.js's (all of
them run in one node process). Each case was a real discrepancy once, or guards a corner the random
differential test (test_differential.py) does not reach. Awaits sit in the middle of constructs so
the JSON round trip of the state at every suspension is covered too."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from rhythm.core.compiler import FlowCompileError, compile_source
from rhythm.core.formatter import format_source
from rhythm.core.testing import run_workflow

# Caught errors are compared by kind: Rhythm's are `{type, message}`, Node's have `name`.
PRELUDE = "const T = (e) => (e !== null && typeof e === 'object' ? (e.type ?? e.name) : e);\n"

CASES: dict[str, str] = {
    # `(a?.b).c`: the parentheses end the short-circuit, so reading `.c` of undefined throws.
    "parenthesized_optional_chain": """
const out = [];
let a;
const o = { b: { c: 1 }, f: () => 7 };
out.push(a?.b.c.d, (a?.b)?.c, (o?.b).c, (o?.f)(), (o?.b.c), ((o?.b)).c, (a?.b.c)?.d);
try { out.push((a?.b).c); } catch (e) { out.push(T(e)); }
try { out.push((a?.b)()); } catch (e) { out.push(T(e)); }
try { out.push((a?.b)[0]); } catch (e) { out.push(T(e)); }
try { out.push((a?.b.c).d); } catch (e) { out.push(T(e)); }
try { out.push((a?.b).f()); } catch (e) { out.push(T(e)); }
out.push((o?.b)[(await Task.run("t")).n] ?? "none");
return out;
""",
    # JSON.stringify escapes lone surrogates (well-formed JSON.stringify); an escaped surrogate
    # pair in a literal is the one character it encodes.
    "surrogates": r"""
return [JSON.stringify("\ud800"), JSON.stringify({ "\udc00k": "a\ud83d\ude00\udbff" }),
  JSON.stringify("\u0000\u001f\u2028\u00ad\u007f"), "\ud83d\ude00" === "\u{1F600}",
  `\uD83D\uDE00` === "\u{1F600}", ["\ud83d\ude00", "\uffff"].sort()];
""",
    # Array callbacks that shrink the array: map keeps its starting length, find/findIndex
    # visit the removed indexes with undefined, the others skip them.
    "array_callbacks_mutating": """
const out = [];
out.push([1, 2, 3].find((x, i, arr) => { arr[2] = 7; return x > 5; }));
out.push([1, 2, 3].findIndex((x, i, arr) => { if (i === 0) arr.pop(); return x === undefined; }));
out.push([1, 2, 3].find((x, i, arr) => { if (i === 0) arr.length = 0; out.push(x); return false; }));
out.push([3, 2, 1].some((x, i, arr) => { if (i === 0) arr.length = 1; return x === undefined; }));
out.push([3, 2, 1].every((x, i, arr) => { if (i === 0) arr.length = 1; return x !== undefined; }));
out.push([1, 2, 3].map((x, i, arr) => { if (i === 0) arr.length = 1; return x * 2; }));
out.push([1, 2, 3].map((x, i, arr) => { if (i === 0) { arr.length = 1; arr.push(9, 8); } return x; }));
out.push([1, 2, 3].filter((x, i, arr) => { if (i === 0) arr.pop(); return true; }));
out.push([1, 2, 3].flatMap((x, i, arr) => { if (i === 0) arr.pop(); return [x, x]; }));
out.push([1, 2, 3].reduce((acc, x, i, arr) => { if (i === 0) arr.shift(); return acc + x; }, 0));
out.push([5, 1, 4].reduce((acc, x, i, arr) => { if (i === 1) arr.push(100); return acc + x; }));
const a = [1, 2, 3];
for (const x of a) { out.push(x); if (x < 3) a.push(x + 10); }
return out;
""",
    "asi_and_precedence": """
const f = (x) => "called"
const r = f
(1)
let a = 1
let b = 2
a
++b
const arr = [[1, 2], [3, 4]]
const c = arr
[1][0]
const g = () => { return
  42 }
let i = 0
do i++; while (i < 3) i += 10
return [r, a, b, c, g(), i, 2 ** 3 ** 2, (-2) ** 2, 1 - 2 - 3, !1 + 1, typeof 1 + 1,
  1 < 2 < 3, 3 > 2 > 1, true ? 1 : 0 ? 2 : 3, null ?? 0 ?? 1]
""",
    "loose_equality_and_plus": """
const vals = [null, undefined, 0, "", "0", [], {}, NaN, false, true, "1", 1, [0], [1], " 1 "];
const out = [];
for (const a of vals) { out.push(vals.map(b => (a == b ? 1 : 0)).join("")); }
out.push([] + [], [] + {}, [1, 2] + [3], null + 1, undefined + 1, null + "x", [null] + "",
  [undefined, null] + "", [[1, 2], [3]] + "", ({ a: 1 }) + 1, [2] * [3], true + true);
return out;
""",
    "numbers": """
const n = (await Task.run("t")).n;
return [String(-0), `${-0}`, JSON.stringify(-0), String(1e21), String(1e-7), String(0.1 * 3),
  `${2 ** 53 + n}`, String(1.5e-6), `${100 / 3}`, Math.round(-0.5), 1 / Math.round(-0.4),
  Math.round(2.5), Math.round(-2.5), Math.max(), Math.min(), Math.max(NaN, n), parseInt("0x1f"),
  parseInt("1f", 16), parseInt("0x1f", 10), parseInt("z", 36), parseInt("10", 37),
  parseInt(0.0000005), parseFloat("1e3x"), parseFloat("-.5e-2abc"), parseFloat("1e"),
  Number(""), Number(" 12 "), Number("1_000"), Number("0b101"), Number("-0x10"), Number([5]),
  Number("\\n\\t 7 \\n"), 10 ** 21, -10 % 3, 5 % 0];
""",
    "strings": """
const s = "hello world";
return [s.slice(-3), s.slice(5, 2), s.substring(5, 2), s.substring(-3, 2), s.at(-1), s.at(-20),
  s.padStart(15, "abc"), "5".padStart(3, ""), s.split(" ", 1), s.split("", 3), "".split(""),
  "a-b-c".replace("-", "$&$&"), "a-b-c".replace("-", "$$"), "a-b-c".replace("-", "$1"),
  "a-b-c".replace("-", "$`"), "a-b-c".replace("-", "$'"), "a-b-c".replaceAll("-", "[$&]"),
  "aaa".replaceAll("", "_"), "a-b".replace("b", (m, off, str) => m + off + str),
  "abcabc".indexOf("b", -5), "abcabc".indexOf("", 10), "abc".endsWith("c", -1),
  "\\u00a0\\ufeff x \\u2028".trim(), "\\x1c y".trim()];
""",
    "arrays_and_objects": """
const o = { b: 1, 10: 2, a: 3, 2: 4, "-1": 5, "01": 6, 1.5: 7 };
o[1e21] = 8; o[null] = 9; o[[1, 2]] = 10;
return [Object.keys(o), [10, 9, 1, 2, 100].sort(), [3, undefined, 1, null, "b", NaN].sort(),
  [1, 2, 3, 4, 5].sort((a, b) => a < b), [3, 1, 2].sort(() => NaN),
  [1, [2, [3, [4]]]].flat(Infinity), [NaN].indexOf(NaN), [NaN].includes(NaN),
  [null, undefined, 1].join(), { a: 1, ...{ a: 2, b: 3 }, b: 4 }, { ...null, ..."hi" },
  Object.assign({ a: 1 }, null, { a: 3 }), Object.fromEntries([["a", 1], ["2", 2], ["a", 3]])];
""",
    "destructuring_defaults": """
const { a = 1, b = (await Task.run("t")).n, c: { d = await Task.run("t", { x: 1 }) } = {} } =
  { a: null };
const [x = 10, y = (await Task.run("t")).n, ...z] = [null, undefined, 0, 1];
const { p: { q = 5 } = {}, ...rest } = { r: 1, s: 2 };
const f = ({ m, n = m * 2 } = {}, [u, v] = [m, n]) => [m, n, u, v];
return [a, b, d, x, y, z, q, rest, f(), f({ m: 1 }), f({ m: 1, n: null }, [7])];
""",
    "closures_per_iteration": """
const fs = [];
for (let i = 0; i < 3; i++) { const r = await Task.run("t", { i }); fs.push(() => [i, r.n]); }
const gs = [];
for (let i = 0; i < 3; i++) { gs.push(() => i); await Task.run("t"); i++; }
const ls = [];
for (let i = 0; i < 3; i++) { ls.push(() => i++); }
const first = ls.map(f => f());
return [fs.map(f => f()), gs.map(f => f()), first, ls.map(f => f())];
""",
    "try_finally_control": """
const out = [];
const g = () => { try { return "try"; } finally { return "finally"; } };
const h = () => { try { throw "x"; } finally { return "swallowed"; } };
const k = () => {
  for (let i = 0; i < 3; i++) { try { if (i === 1) break; out.push(i); } finally { continue; } }
  return "k";
};
const p = () => { let x = 1; try { return x; } finally { x = 2; } };
for (let i = 0; i < 4; i++) {
  try {
    if (i === 1) continue;
    if (i === 3) break;
    out.push((await Task.run("t", { i })).n);
  } finally {
    out.push("f" + (await Task.run("t")).n);
  }
}
try { throw [1, 2]; } catch ([a, b]) { out.push(a + b); }
return [g(), h(), k(), p(), out];
""",
    "logical_assignment_short_circuit": """
const out = [];
let count = 0;
const side = () => { count++; return "side"; };
let a = 1; a ??= side();
let b = 0; b ||= side();
let c = 0; c &&= side();
const o = { x: 0, y: null, n: 1, arr: [5] };
out.push(a, b, c, count, o.x ??= side(), o.y ??= side(), o.x &&= side(), count);
out.push(o.n++, ++o.n, o.arr[0]--, --o.arr[0], o.z++, o);
return out;
""",
    "json": """
const f = () => 1;
const out = [JSON.stringify({ a: undefined, b: f, c: [undefined, f, NaN, -0], d: { e: undefined } }),
  JSON.stringify([1, [2, { a: 3 }]], null, 2), JSON.stringify({ a: [], b: {} }, null, "--"),
  JSON.stringify({ a: 1 }, null, 20), JSON.stringify({ a: 1 }, null, "0123456789abc"),
  JSON.stringify(f), JSON.stringify(undefined) === undefined];
for (const t of ["[1,]", "{'a':1}", "", "01", "{\\"2\\":1,\\"1\\":2}", " [ ] "]) {
  try { out.push(JSON.stringify(JSON.parse(t))); } catch (e) { out.push(T(e)); }
}
return out;
""",
    "errors_are_catchable": """
const out = [];
const o = { a: 1 };
const tests = [() => o.a.b.c, () => o.x.y, () => o.x(), () => o.a(), () => { let u; u.p = 1; },
  () => { const n = null; return n[0]; }, () => { const [q] = 5; }, () => { for (const x of {}) {} },
  () => [].reduce((s, x) => s + x), () => "abc".repeat(-1), () => JSON.parse("{")];
for (const t of tests) { try { t(); out.push("no error"); } catch (e) { out.push(T(e)); } }
return out;
""",
    # Function declarations: hoisted to the top of their block, closures, defaults and rest,
    # recursion, shadowing in an inner block.
    "function_declarations": """
const out = [fact(5), typeof later, counter()];
function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }
function later(a, b = a * 2, ...rest) { return [a, b, rest]; }
let hits = 0;
function counter() { hits++; return hits; }
out.push(later(1), later(1, 5, 6, 7), counter(), hits);
{
  out.push(fact(3), inner());
  function fact(n) { return "inner" + n; }
  function inner() { return (await0 => fact(2))(); }
}
out.push(fact(3), (await Task.run("t")).n);
const make = (k) => { function get() { return k; } return get; };
out.push(make(1)(), make(2)());
return out;
""",
    # Bitwise and shift operators on int32 (NaN, Infinity, fractions, big numbers, strings),
    # their compound assignments, `~`, `void` and the comma operator, with JavaScript precedence.
    "bitwise_void_comma": """
const out = [];
const xs = [0, -0, 1.9, -1.9, 2 ** 31, 2 ** 32 + 5, -(2 ** 53), 1e300, NaN, Infinity, "7", null];
for (const x of xs) out.push(x | 0, ~x, x >>> 0, x << 3, x >> 1, x & 255, x ^ -1, 1 << x);
let v = (await Task.run("t")).n + 6;
v &= 6; v |= 9; v ^= 4; v <<= 30; v >>= 2; v >>>= 1;
let i, j;
for (i = 0, j = 9; i < j; i += 2, j -= 1) out.push(i * j);
out.push(v, (1, 2), void "x", typeof void 0, 1 + 2 << 3 | 4 & 5 ^ 6, 8 >> 1 < 5 === true);
return out;
""",
    # `delete` (strict mode): object keys go, key order stays; non-deletable properties and
    # null/undefined throw TypeError.
    "delete_properties": """
const out = [];
const o = { a: 1, b: 2, c: { d: 4 } };
out.push(delete o.a, delete o["b"], delete o.zz, delete o.c.d, o, Object.keys(o));
const arr = [1, 2, 3];
out.push(delete arr[5], delete arr.foo, arr.length);
for (const t of [() => delete arr.length, () => { let u; return delete u.x; }, () => delete "abc"[1], () => delete null[0]]) {
  try { out.push(t()); } catch (e) { out.push(T(e)); }
}
out.push(delete (await Task.run("t")).n, delete "abc"[7]);
return out;
""",
    # switch: === matching, fall-through, default in the middle, break/continue/return inside,
    # declarations shared by the cases, an await in the discriminant.
    "switch_statements": """
const out = [];
const describe = (status) => {
  switch (status) {
    case "paid":
      out.push("p");
    case "shipped": {
      out.push("s");
      break;
    }
    case 1:
    case "1":
      return "one";
    default:
      out.push("d");
    case "late":
      out.push("l");
  }
  return status;
};
out.push(describe("paid"), describe("shipped"), describe(1), describe("1"), describe("x"), describe("late"));
for (let i = 0; i < 4; i++) {
  switch (i % 2) {
    case 0:
      if (i === 2) continue;
      out.push("even" + i);
      break;
    default:
      const k = i * 10;
      out.push("odd" + k);
  }
  out.push("after" + i);
}
const x = 3;
switch ((await Task.run("t")).n) {
  case x - 2: { const x = "inner"; out.push(x); }
  case 2: out.push("two");
}
switch (5) {}
switch (5) { default: out.push("only default"); }
return out;
""",
    # Object method shorthand: plain, async (awaiting inside), computed and quoted keys, default
    # and rest parameters, keywords as method names, methods calling each other through the
    # object's variable, held across a suspension and stringified (methods are dropped).
    "method_shorthand": """
const out = [];
const name = "dyn";
const o = {
  f(x) { return x + 1 },
  async g(n) { const r = await Task.run("t", { n }); return r.inputs.n * 2 },
  ["k" + name](a, ...r) { return [a, r.length] },
  "quoted key"(y = 5) { return y },
  async: 3,
  get() { return o.f(o.async) },
  default(a, b = a * 2) { return a + b },
  if() { return "kw" },
};
const held = await Task.run("t");
out.push(o.f(1), await o.g(2), o.kdyn(1, 2, 3), o["quoted key"](), o.get(), o.default(1), o.if());
out.push(typeof o.f, JSON.stringify(o), Object.keys(o), held.n);
const p = { async [name](x) { return (await Task.run("t", { x })).inputs.x }, n() { return 1 } };
out.push(await p.dyn(7), p.n());
const later = { m(a, b) { return { a, b } } };
await Task.run("t");
out.push(later.m(1, 2));
return out;
""",
    # Labelled statements: break/continue to an outer loop (for, for-of, for-in, while,
    # do-while), break out of a labelled block, if, switch and try (finally still runs), several
    # labels on one loop, a label reused after its statement ends, awaits inside.
    "labels": """
const out = [];
outer: for (let i = 0; i < 4; i++) {
  inner: for (const j of [1, 2, 3]) {
    if (j === 2) continue outer;
    if (i === 2) break outer;
    out.push([i, j]);
    continue inner;
  }
}
blk: {
  out.push("in");
  if (out.length > 0) break blk;
  out.push("never");
}
a: b: while (true) { out.push("ab"); for (;;) { break b; } }
let k = 0;
w: do { k++; if (k < 3) continue w; break; } while (true);
s: switch (k) { case 3: for (const x of [1]) { out.push("three"); break s; } default: out.push("d"); }
t: try { out.push((await Task.run("t", { v: 1 })).inputs); break t; } finally { out.push("fin"); }
keys: for (const key in { x: 1, y: 2, z: 3 }) {
  for (let m = 0; m < 3; m++) { if (key === "y") continue keys; if (m === 1) break; out.push(key + m); }
}
blk: if (k === 3) { out.push("if"); break blk; }
let n = 0;
loop: while (n < 10) {
  n++;
  try { if (n % 2) continue loop; if (n > 6) break loop; } finally { out.push("f" + n); }
  out.push((await Task.run("t", { n })).inputs.n);
}
out.push(n);
return out;
""",
    # new Error & co: name, message, cause, toString, enumerability, instanceof; the errors the VM
    # throws are TypeError/RangeError/ReferenceError/SyntaxError instances; a failed task is an
    # Error; errors survive the state's JSON round trip (an await in the middle).
    "errors_and_instanceof": """
const out = [];
const e = new Error("boom", { cause: { code: 42 } });
const t = TypeError("bad type");
const r = new RangeError();
const s = new SyntaxError(12);
out.push(e.name, e.message, e.cause, String(e), `${t}`, r.toString(), r.message, s.message);
out.push(Object.keys(e), JSON.stringify(e), JSON.stringify({ e, t }), { ...e }, "message" in e);
out.push(e instanceof Error, t instanceof Error, t instanceof TypeError, t instanceof RangeError,
  r instanceof RangeError, new ReferenceError("x") instanceof ReferenceError, e instanceof TypeError);
e.code = 7; e.message = "changed"; t.name = "Custom";
out.push(Object.keys(e), JSON.stringify(e), String(e), String(t), delete e.code, Object.keys(e));
const alias = e;
await Task.run("t");
out.push(alias === e, e.cause.code, e.message, String(t), t instanceof TypeError, e instanceof Error);
for (const f of [() => null.x, () => undefined(), () => (1)(), () => JSON.parse("{"),
  () => "a".repeat(-1), () => new Date(NaN).toISOString(), () => { throw new RangeError("r"); },
  () => { const o = {}; o.self = o; JSON.stringify(o); }, () => [].reduce((a, b) => a)]) {
  try { f(); out.push("no error"); } catch (err) {
    out.push(err.name, err instanceof Error, err instanceof TypeError, err instanceof RangeError,
      err instanceof ReferenceError, err instanceof SyntaxError, Object.keys(err));
  }
}
out.push([1] instanceof Array, [1] instanceof Object, {} instanceof Object, "s" instanceof Object,
  null instanceof Object, (() => 1) instanceof Object, e instanceof Object, 5 instanceof Error,
  new Map() instanceof Map, new Set() instanceof Map, new Date(0) instanceof Date, ({}) instanceof Array);
for (const bad of [() => ({}) instanceof 5, () => 1 instanceof Math, () => new Map(), () => new Set()]) {
  try { out.push(typeof bad()); } catch (err) { out.push(err.name); }
}
const thrown = (() => { try { throw new TypeError("inner", { cause: e }); } catch (x) { return x; } })();
out.push(thrown.cause === e, thrown.name, typeof Error, typeof Date, typeof Map, Error("x").message);
const re = new RegExp("a+", "g"), re2 = new RegExp(re, "i");
out.push(re instanceof RegExp, /x/ instanceof RegExp, re2.flags, re2 === re, "a" instanceof RegExp,
  re instanceof Object, re.test("caa"), re.lastIndex);
return out;
""",
    # Date in UTC: from ms, ISO strings, components (overflow carries), invalid dates, getters,
    # setters, statics, JSON, comparison and arithmetic; a Date kept across an await.
    "dates": """
const out = [];
const ms = [0, 1706704215250, -1, -62198755200000, 8.64e15, 8.64e15 + 1, 253402300799999, 951782400000];
for (const m of ms) {
  const d = new Date(m);
  out.push(d.getTime(), isNaN(d.getTime()) ? null : d.toISOString(), d.getUTCFullYear(),
    d.getUTCMonth(), d.getUTCDate(), d.getUTCDay(), d.getUTCHours(), d.getUTCMinutes(),
    d.getUTCSeconds(), d.getUTCMilliseconds(), d.getFullYear(), d.getHours(), d.getDay());
}
const texts = ["2024-01-31", "2024-01-31T12:30", "2024-01-31T12:30:15.250Z", "2024-02-30",
  "2024-01-31T12:30:15+02:00", "2024-01-31T12:30:15.1234-05:30", "2024", "2024-07", "+010000-01-01",
  "-000001-01-01T00:00:00Z", "2024-01-31T24:00:00", "2024-01-31T24:00:01", "2023-02-29", "2024-02-29",
  "hello", "", "2024-13-01", "2024-01-31T12:60", "1970-01-01T00:00:00.000Z"];
for (const t of texts) out.push(Date.parse(t), new Date(t).getTime());
out.push(Date.UTC(2024, 0, 31), Date.UTC(2024, 13, 1), Date.UTC(2024, 0, 0, 25, 61, 61, 1001),
  Date.UTC(99, 0), Date.UTC(100, 0), Date.UTC(-1, 0), Date.UTC(2024), Date.UTC(2024, NaN),
  Date.UTC(2024.7, 1.9, 3.5), Date.UTC(275760, 8, 13), Date.UTC(275760, 8, 13, 0, 0, 0, 1));
out.push(new Date(2024, 0, 31, 12, 30).getTime(), new Date(2024, 11, 32).toISOString(),
  new Date(5, 1).getUTCFullYear(), new Date(2024, -1, 1).toISOString());
const d = new Date(Date.UTC(2024, 0, 31, 12, 30, 15, 250));
const copy = new Date(d);
out.push(d.setUTCMonth(1), d.toISOString(), d.setUTCDate(0), d.toISOString(),
  d.setUTCHours(25, 70), d.toISOString(), d.setUTCMinutes(-1), d.setUTCSeconds(3, 4),
  d.setUTCMilliseconds(1500), d.setUTCFullYear(2020, 1, 29), d.toISOString(), d.setTime(86400000),
  d.setMonth(2), d.setHours(1), d.setFullYear(2000), d.toISOString(), copy.toISOString());
const bad = new Date("nope");
out.push(bad.getTime(), bad.getUTCDay(), bad.setUTCHours(1), bad.setUTCFullYear(2024),
  bad.toISOString(), String(new Date(NaN)), JSON.stringify({ at: new Date(0), bad: new Date(NaN) }),
  new Date(NaN).toJSON(), new Date(0).toJSON(), bad.getTimezoneOffset(), d.getTimezoneOffset());
const a = new Date(1000), b = new Date(2500);
out.push(b - a, a < b, a > b, +a, a.valueOf(), a == 1000, `${a}`, String(b), b.toUTCString(),
  a + 1, new Date(true).getTime(), new Date(null).getTime(),
  new Date(1.9).getTime(), new Date(-1.9).getTime(), typeof Date.now(), Date.now() > 1e12,
  typeof Date(), new Date().getTime() > 1e12, Date.parse(new Date(7).toISOString()));
out.push(String(new Date(-62198755200000)), new Date(-1e14).toUTCString(), String(new Date(8.64e15)),
  new Date(-8.64e15).toUTCString());
const held = new Date(42), alias = held;
await Task.run("t");
alias.setUTCFullYear(2001);
out.push(held.getTime(), held === alias, held instanceof Date, held.toISOString());
try { new Date(NaN).toISOString(); } catch (e) { out.push(e.name, e instanceof RangeError); }
return out;
""",
    # Map and Set: SameValueZero keys (NaN, -0, "1" vs 1), objects by identity, insertion order
    # (re-setting keeps the place, delete and add moves to the end), iteration, spread, forEach
    # deleting ahead, construction from iterables; aliasing and self-reference across an await.
    "maps_and_sets": """
const out = [];
const k1 = { id: 1 }, k2 = { id: 1 };
const m = new Map([["a", 1], [1, "num"], ["1", "str"], [NaN, "nan"], [-0, "zero"], [k1, "k1"]]);
m.set(k2, "k2").set("a", "again").set(0, "zero2");
out.push(m.size, m.get("a"), m.get(1), m.get("1"), m.get(NaN), m.get(0), m.get(-0), m.get(k1),
  m.get(k2), m.get({ id: 1 }), m.has(NaN), m.has("nope"), [...m.keys()], [...m.values()]);
out.push(m.delete("a"), m.delete("a"), m.size);
m.set("a", "back");
out.push([...m].map(([k, v]) => [typeof k, v]), Object.keys(m), JSON.stringify(m),
  JSON.stringify({ m, s: new Set([1]) }), String(m), typeof m);
for (const [k, v] of m) { if (typeof k === "string") out.push(k + "=" + v); }
const seen = [];
m.forEach((v, k, map) => { seen.push(v); if (k === 1) map.delete(k1); if (map !== m) seen.push("?"); });
out.push(seen, m.size);
const s = new Set([3, 1, 3, "3", NaN, NaN, -0, 0, k1, k1, k2]);
out.push(s.size, [...s].length, s.has(0), s.has(-0), s.has(NaN), s.has(k2), s.has({ id: 1 }));
out.push(s.add(1) === s, s.delete(3), s.delete(3), s.size, [...s.entries()].length, [...s.keys()].length);
s.add(3);
out.push([...s].filter(x => typeof x !== "object"), new Set("hello").size, [...new Set("hello")]);
const visited = [];
s.forEach((v, v2, set) => { visited.push(v === v2 && set === s); });
out.push(visited.length, visited.every(x => x));
const fromMap = new Map(m), fromSet = new Set(s);
fromMap.set("new", 1); fromSet.add("new");
out.push(fromMap.size - m.size, fromSet.size - s.size, new Map().size, new Set().size,
  new Map(null).size, new Set(undefined).size, [...new Map([[1, 2]]).entries()]);
for (const bad of [() => new Map([1]), () => new Map(5), () => new Set(5), () => m.forEach(5)]) {
  try { bad(); out.push("no error"); } catch (e) { out.push(e.name); }
}
const alias = m, self = new Map();
self.set("me", self);
const selfSet = new Set();
selfSet.add(selfSet);
m.clear();
m.set(k1, "after clear");
await Task.run("t");
alias.set("later", 2);
out.push(m.size, m.get(k1), m === alias, self.get("me") === self, selfSet.has(selfSet),
  [...m.keys()][0] === k1, m.get("later"), s.size);
s.clear();
out.push(s.size, [...s]);
return out;
""",
    # Every row of the table at the top of issue #10, written as a JavaScript developer would.
    "issue_10_table": f"""
const out = [];
const nums = [{", ".join(str(i) for i in range(1, 151))}];
const wide = {{ {", ".join(f"k{i}: {i}" for i in range(1, 121))} }};
out.push(nums.length, nums[149], Object.keys(wide).length, wide.k120);
out.push(Math.max({", ".join(str(i % 97) for i in range(110))}));
try {{ throw new Error("card declined"); }} catch (e) {{ out.push(e.message, e.name, e instanceof Error); }}
const order = {{ status: (await Task.run("t", {{ s: "paid" }})).inputs.s }};
switch (order.status) {{ case "paid": out.push("is paid"); break; default: out.push("not paid"); }}
function total(items) {{ let t = 0; for (const i of items) t += i.price; return t; }}
const amount = total([{{ price: 1.005 }}]);
out.push(amount.toFixed(2), (255).toString(16), Number.isInteger(5), Number.isInteger(amount));
const now = Date.now();
const iso = "2024-05-06T07:08:09.010Z";
out.push(typeof now, now > 0, new Date(iso).getTime(), new Date(1714979289010).toISOString());
const api = {{ f(x) {{ return x * 2; }} }};
const o = {{ k: 1, j: 2 }};
delete o.k;
out.push(api.f(21), o, 6 & 3, void 0, new TypeError("x") instanceof Error);
rows: for (const x of [1, 2, 3]) {{
  for (const y of [1, 2]) {{ if (y === 2) continue rows; if (x === 3) break rows; out.push([x, y]); }}
}}
const email = "ann@example.com";
out.push(/^\\S+@\\S+$/.test(email), /^\\S+@\\S+$/.test("no at sign"));
const items = [{{ id: 1 }}, {{ id: 2 }}, {{ id: 3 }}];
const rs = await Promise.all(items.map(async (item) => {{ const a = await Task.run("t", item); return Task.run("t", a); }}));
out.push(rs.map((r) => [r.n, r.inputs.inputs.id]));
return out;
""",
    # Async calls suspended side by side share one Map, Set, Date and Error: every suspension is
    # a JSON round trip of the state, and each call still sees the others' changes.
    "objects_shared_by_async_calls": """
const seen = new Map(), ids = new Set(), stamp = new Date(0), log = new Error("log", { cause: [] });
const work = async (name) => {
  const a = await Task.run("t", { name });
  seen.set(name, a.n);
  ids.add(a.n % 2);
  stamp.setUTCSeconds(stamp.getUTCSeconds() + a.n);
  log.cause.push(name);
  const b = await Task.run("t", { name });
  return [name, seen.size, ids.has(b.n % 2), seen.get(name) < b.n];
};
const all = await Promise.all([work("x"), work("y"), work("z")]);
return [all, [...seen.keys()].sort(), [...ids].sort(), stamp.toISOString(), log.cause.sort(),
  log instanceof Error, seen instanceof Map];
""",
    "awaits_everywhere": """
let a;
const o = { f: (x, y) => [x, y] };
return [`x${(await Task.run("t")).n}y${`n${(await Task.run("t", { a: 1 })).inputs.a}`}z`,
  { k: (await Task.run("t")).n, ...(await Task.run("t", { s: 1 })).inputs },
  a?.[(await Task.run("t")).n], o.f?.((await Task.run("t")).n, (await Task.run("t")).n),
  Math.max((await Task.run("t")).n, 1), (await Task.run("t")).n ?? await Task.run("t")];
""",
    # Regular expressions: properties, lastIndex with g and y, exec results (elements, index,
    # input, groups), a regex and a match result held across suspensions (aliasing kept).
    "regex_objects": r"""
const out = [];
const r = /a(\d)(?<tail>x)?/g;
const alias = r;
out.push(r.source, r.flags, r.global, r.ignoreCase, r.multiline, r.dotAll, r.unicode, r.sticky,
  String(r), `${/b/ysmu}`, typeof r, JSON.stringify(r), r.lastIndex, /[/]\//.source);
out.push(r.test("a1 a2x"), r.lastIndex);
const m = r.exec("a1 a2x");
await Task.run("t");
out.push(alias.lastIndex, r === alias, m, m.index, m.input, m.groups, m.groups.tail, m.length);
out.push(r.exec("a1 a2x"), r.lastIndex, r.test("zz"), r.lastIndex);
r.lastIndex = 4;
out.push(r.exec("a1a2a3")[0], r.lastIndex);
r.lastIndex = 99;
out.push(r.test("a1"), r.lastIndex);
const y = /b/y;
out.push(y.test("ab"), y.lastIndex, (y.lastIndex = 1, y.test("ab")), y.lastIndex, y.test("ab"));
const plain = /c/;
plain.lastIndex = 5;
out.push(plain.test("c"), plain.lastIndex, plain.exec("xc").index, /(z)?c/.exec("c"));
const n = /(?<y>\d{4})-(?<mo>\d\d)/.exec("on 2024-05!");
await Task.run("t");
out.push(n.groups, n.index, n.input, [...n], n.groups.y + n.groups.mo);
const keys = [];
for (const k in n) keys.push(k);
out.push(Object.keys(n), keys, { ...n }, Object.entries(m).length);
out.push(/x/.exec("abc"), "lastIndex" in r, "index" in m, RegExp("a+", "g").flags,
  RegExp(r) === r, RegExp(r, "i").flags, RegExp("a/b").source, RegExp("").source,
  String(RegExp("\n")), RegExp(undefined).source);
const dyn = (await Task.run("t")).name;
try { RegExp("(" + dyn, ""); } catch (e) { out.push(T(e)); }
try { RegExp("a", "gg" + dyn); } catch (e) { out.push(T(e)); }
try { RegExp(dyn, "q"); } catch (e) { out.push(T(e)); }
try { r.source = "b"; } catch (e) { out.push(T(e)); }
return out;
""",
    # Replacement patterns and functions, global and not, empty matches, replaceAll's check.
    "regex_replace": r"""
const out = [];
const s = "John Smith, Jane Doe";
out.push(s.replace(/(\w+) (\w+)/, "$2 $1"), s.replace(/(\w+) (\w+)/g, "$2, $1"),
  s.replace(/(?<first>\w+) (?<last>\w+)/g, "$<last>/$<first>/$<none>/$<first"),
  s.replace(/o/g, "[$&|$`|$']"), s.replace(/o/, "$$-$0-$00-$1-$01-$10-$2-$"),
  "abc".replace(/(b)/, "$01$10$11$1$2$9"), "abcdefghijkl".replace(/(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)(k)/, "$11-$10-$012-$1"),
  "abc".replace(/(?:)/g, "-"), "aaa".replace(/a*?/g, "X"), "aaa".replace(/a*/g, "X"),
  "xAxa".replace(/a/gi, (m, i, str) => `${m}${i}${str.length}`),
  "2024-05".replace(/(?<y>\d+)-(?<m>\d+)/, (...args) => JSON.stringify(args)),
  "a1b2".replace(/(\d)|(z)/g, (m, d, z, i) => `<${d}${z}${i}>`),
  "a.b.c".replaceAll(/\./g, "/"), "aaa".replace(/a/y, "b"), "baa".replace(/a/y, "b"),
  "a-b".replace(/-/, () => "$&"));
const g = /o/g;
g.lastIndex = 3;
out.push("foo boo".replace(g, "0"), g.lastIndex);
const st = /o/y;
st.lastIndex = 1;
out.push("foo".replace(st, "0"), st.lastIndex, "foo".replace(st, "0"), st.lastIndex);
try { "x".replaceAll(/a/, "b"); } catch (e) { out.push(T(e)); }
out.push((await Task.run("t")).n, "n=1".replace(/(\d)/, "[$1]"));
return out;
""",
    # split, match, matchAll, search with patterns (and strings read as patterns).
    "regex_split_match_search": r"""
const out = [];
out.push("a, b ,c".split(/\s*,\s*/), "a1b2c".split(/(\d)/), "a1b2c".split(/(\d)/, 2),
  "abc".split(/(?:)/), "".split(/a/), "".split(/(?:)/), "ab".split(/(?:)/, 1), "abc".split(/(z)?b/),
  "a,b,".split(/,/), "test".split(/(t)/), "aXbxc".split(/x/i), "a\nb\r\nc".split(/\r?\n/),
  "abc".split(/b/, 0), "abc".split(/$/), "abc".split(/^/m));
out.push("x1y22z333".match(/\d+/g), "x1y22".match(/(\d)(\d)?/), "xyz".match(/\d/g),
  "xyz".match(/\d/), "a.b".match("."), "a+b".match("\\+").index, "ab".match(/(?:)/g));
const all = [..."a1b22".matchAll(/(?<d>\d+)/g)];
out.push(all, all.map((m) => [m.index, m.groups.d, m.input]), [..."aaa".matchAll(/a*?/g)].length,
  [..."x".matchAll("x")].length);
const g = /b/g;
g.lastIndex = 2;
out.push([..."abcb".matchAll(g)].map((m) => m.index), g.lastIndex);
out.push("abc1".search(/\d/), "abc".search(/z/), "a.c".search("."), "aBc".search(/b/i));
g.lastIndex = 3;
out.push("abcb".search(g), g.lastIndex);
for (const m of "k1=v1;k2=v2".matchAll(/(\w+)=(\w+)/g)) {
  out.push(m[1] + ":" + m[2]);
  await Task.run("t");
}
try { "x".matchAll(/x/); } catch (e) { out.push(T(e)); }
return out;
""",
    # `/` divides after a value and starts a regex where an expression starts, as in JavaScript.
    "regex_or_division": r"""
const out = [];
const a = 8, b = 2, xs = [8];
let i = 4;
out.push(a / b / 2, (a) / 2 / 2, xs[0] / 2 / 1, a /b/ 2, `${a}` / 2, i++ / 2, i);
if (true) /t/g.test("t") && out.push("if");
out.push([/a/, { r: /b/ }].length, /=/.test("="), typeof /x/, !/x/.test("y"));
{ out.push("block"); }
/c/.test("c") && out.push("after block");
const f = (x) => x / 2;
out.push(f(a) / 2, /[/]/.test("/"), /\//.test("/"), 1 /* c */ / 1);
return out;
""",
    # Character classes, anchors and escapes with JavaScript's definitions (not Python's).
    "regex_semantics": r"""
const out = [];
out.push(/^\s+$/.test(" \t\n\v\f\r\u00a0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"),
  /\s/.test("\u0085"), /\s/.test("\u180e"), /\d/.test("\u0661"), /\w/.test("é"), /\w/u.test("é"),
  /\bé/.test("aé"), /a$/.test("a\n"), /a$/m.test("a\rb"), /^b/m.test("a\u2028b"), /a.b/.test("a\rb"),
  /a.b/.test("a\u2029b"), /a.b/s.test("a\nb"), /[^]/.test("\n"), /[]/.test("a"), /[^\S]/.test(" "),
  /[\S]/.test(" "), /[a\S]/.test("b"), /[^a\S]/.test(" "), /[^a\S]/.test("a"), /a{,2}/.test("a{,2}"),
  /x{2}/.test("xx"), /a{/.test("a{"), /a}/.test("a}"), /]/.test("]"), /(a)|b\1/.exec("b"),
  /(?<=\$)\d+/.exec("cost $42")[0], /(?<!\$)\b\d+/.exec("$4 5")[0], /(?=(a))a/.exec("ab"),
  /a+?/.exec("aaa")[0], /a{2,3}?/.exec("aaaa")[0], /ABC/i.test("abc"), /s/i.test("\u017f"),
  /k/i.test("\u212a"), /[a-z]+/i.exec("HeLLo")[0], /\cJ\x41\u0042\0/.test("\nAB\0"),
  /\u{1F600}/u.test("\u{1F600}"), /^.$/u.test("\u{1F600}"), /\ud83d\ude00/u.test("\u{1F600}"),
  /(a)\1/.test("aa"), /(?<n>a)\k<n>/.test("aa"), /[\b]/.test("\b"), /a|ab/.exec("abc")[0],
  /(a|ab)(c|bcd)(d*)/.exec("abcd"), /\$\^\.\*\+\?\(\)\[\]\{\}\|\//.test("$^.*+?()[]{}|/"),
  /[\-\]]/.test("-"), /\B/.test("ab"), /^(?:a|b)*$/.test("abba"), /(\d+)\.(\d+)/.exec("v1.25"));
return out;
""",
}


def _run_node(programs: list[str]) -> list[Any]:
    parts = [
        "let counter = 0;",
        "const Task = { run: async (name, inputs = {}) => "
        "({ name, inputs: JSON.parse(JSON.stringify(inputs)), n: ++counter }) };",
        "const programs = [",
    ]
    parts += [f"async () => {{\n{PRELUDE}{src}\n}}," for src in programs]
    parts.append("];")
    parts.append(
        """
for (const p of programs) {
  counter = 0;
  try {
    const r = await p();
    console.log(JSON.stringify({ ok: r === undefined ? null : r }));
  } catch (e) {
    console.log(JSON.stringify({ error: (e && e.name) || String(e) }));
  }
}
"""
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.mjs"
        path.write_text("\n".join(parts))
        # .flow's local time is UTC: Node runs in UTC too, so Date's local forms agree.
        proc = subprocess.run(
            ["node", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "TZ": "UTC"},
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.split("\n") if line]


def _run_rhythm(src: str) -> Any:
    counter = itertools.count(1)
    result = run_workflow(
        PRELUDE + src,
        tasks={"t": lambda inputs: {"name": "t", "inputs": inputs, "n": next(counter)}},
    )
    if result.status != "completed":
        error = result.error
        return {"error": error.get("type") if isinstance(error, dict) else error}
    return {"ok": result.output}


@pytest.fixture(scope="module")
def node_results() -> dict[str, Any]:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    names = list(CASES)
    return dict(zip(names, _run_node([CASES[n] for n in names]), strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_matches_node(name: str, node_results: dict[str, Any]) -> None:
    assert json.dumps(_run_rhythm(CASES[name])) == json.dumps(node_results[name])


def test_template_on_next_line_is_a_tagged_template() -> None:
    # JavaScript inserts no semicolon before a template: `s` + newline + `x` is s`x`, a tagged
    # template, which .flow rejects rather than reading two statements.
    with pytest.raises(FlowCompileError, match="tagged template"):
        compile_source('const s = "a"\nconst t = s\n`x${1}`\nreturn t\n')
    # After an arrow's block body the newline does end the statement, as in JavaScript.
    result = run_workflow("const f = () => {}\n`x`\nreturn 1\n")
    assert result.output == 1


def test_formatter_keeps_parentheses_that_end_an_optional_chain() -> None:
    source = "let a\nconst x = (a?.b).c\nconst y = (a?.b)()\nconst z = a?.b.c\nreturn [x, y, z]\n"
    assert format_source(source) == source
    assert format_source("const z = (a?.b?.c)?.d\n") == "const z = (a?.b?.c)?.d\n"


# Early errors that Node reports as a SyntaxError before running anything, and that .flow
# reports at compile time with file:line:col.
EARLY_ERRORS = {
    "a: for (;;) { break b; }": ("RY112", 1, 21),
    "a: { continue a; }": ("RY108", 1, 15),
    "a: for (;;) { [1].map(() => { for (;;) { break a; } }); break; }": ("RY112", 1, 48),
    "a: a: for (;;) { break a; }": ("RY113", 1, 4),
    "a: { a: { break a; } }": ("RY113", 1, 6),
    "a: const x = 1;": ("RY113", 1, 1),
    "continue;": ("RY108", 1, 1),
}


@pytest.mark.parametrize("source", list(EARLY_ERRORS))
def test_early_errors_like_node(source: str) -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "early.mjs"
        path.write_text(f"async function main() {{\n{source}\n}}\n")
        proc = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert proc.returncode != 0 and "SyntaxError" in proc.stderr, proc.stderr
    code, line, column = EARLY_ERRORS[source]
    from rhythm.core.analysis import analyze

    found = [d for d in analyze(source).diagnostics if d.code.value == code]
    assert found and (found[0].span.line, found[0].span.column) == (line, column), found
    with pytest.raises(FlowCompileError, match=rf"^w.flow:{line}:{column}: "):
        compile_source(source, "w.flow")


def test_this_in_a_method_is_a_compile_time_error() -> None:
    with pytest.raises(FlowCompileError, match=r"w.flow:1:26: 'this' is not supported in .flow"):
        compile_source("const o = { f() { return this.a } }\nreturn o.f()", "w.flow")
