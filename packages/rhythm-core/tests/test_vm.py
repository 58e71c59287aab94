"""The VM: every construct of the language, run through the harness (so every await is a JSON
round trip into a fresh VM)."""

from __future__ import annotations

from typing import Any

import pytest

from rhythm.core.testing import run_workflow


def out(source: str, **kwargs: Any) -> Any:
    result = run_workflow(source, **kwargs)
    assert result.status == "completed", result.error
    return result.output


def err(source: str, **kwargs: Any) -> Any:
    result = run_workflow(source, **kwargs)
    assert result.status == "failed", result.output
    assert result.output == result.error
    return result.error


def test_no_return_is_null_and_literals() -> None:
    assert out("const a = 1;") is None
    assert out("return;") is None
    assert out("return [1, 2.5, \"s\", 'q', true, false, null, undefined];") == [
        1,
        2.5,
        "s",
        "q",
        True,
        False,
        None,
        None,
    ]
    assert out("return 1 / 2;") == 0.5
    assert out("return { a: undefined, b: 1 };") == {"b": 1}


def test_arithmetic_and_strings() -> None:
    assert out(
        'return ["a" + 1, 1 + 2 * 3, (1 + 2) * 3, 7 % 3, -7 % 3, 2 ** 10, 2 ** 3 ** 2];'
    ) == [
        "a1",
        7,
        9,
        1,
        -1,
        1024,
        512,
    ]
    assert out('return [0.1 + 0.2, 1e21, 10 / 3, -(5), +"3", !0, typeof null];') == [
        0.30000000000000004,
        1e21,
        3.3333333333333335,
        -5,
        3,
        True,
        "object",
    ]
    assert out("return `a${1 + 1}b${[1, 2]}c${{}}`;") == "a2b1,2c[object Object]"
    assert out("return String(1 / 0) + String(-1 / 0) + String(0 / 0);") == "Infinity-InfinityNaN"


def test_comparisons_and_logic() -> None:
    assert out(
        'return [1 < 2, "b" > "a", "10" < "9", 1 == "1", 1 === "1", null == undefined, '
        "null === undefined, NaN == NaN, 1 != 2, 1 !== 1];"
    ) == [True, True, True, True, False, True, False, False, True, False]
    assert out('return [0 || "x", 1 && "y", null ?? "z", 0 ?? "w", "" || null];') == [
        "x",
        "y",
        "z",
        0,
        None,
    ]
    assert out('return ["a" in { a: 1 }, 1 in [5, 6], 2 in [5, 6]];') == [True, True, False]
    assert out("return true ? 1 : 2;") == 1


def test_variables_scopes_and_tdz() -> None:
    assert out("let x = 1; { let x = 2; } return x;") == 1
    assert out("let x = 1; { x = 2; } return x;") == 2
    e = err("const f = () => y; const r = f(); let y = 1; return r;")
    assert e["type"] == "ReferenceError"
    assert "before initialization" in e["message"]
    assert "line 1" in e["message"]


def test_assignment_operators() -> None:
    assert out("let a = 10; a += 5; a -= 3; a *= 2; a /= 4; a %= 4; a **= 3; return a;") == 8
    assert out(
        "let a = null; a ??= 1; let b = 0; b ||= 2; let c = 1; c &&= 3; let d = 5; d ??= 9; "
        "return [a, b, c, d];"
    ) == [1, 2, 3, 5]
    assert out(
        "const o = { n: 1, l: [1] }; o.n += 1; o.l[0] += 5; o.m ??= 7; o.n ||= 0; o.k &&= 1;"
        "return o;"
    ) == {"n": 2, "l": [6], "m": 7}
    assert out("let i = 0; const a = [i++, i++, ++i, i--, --i]; return [a, i];") == [
        [0, 1, 3, 3, 1],
        1,
    ]
    assert out('const o = { c: 0 }; o.c++; ++o["c"]; o.c--; return o.c;') == 1
    assert out("let a, b; a = b = 3; return [a, b];") == [3, 3]


def test_destructuring() -> None:
    assert out(
        "const { a, b: bee = 2, c: { d } = { d: 4 }, ...rest } = { a: 1, x: 9, y: 8 };"
        "return [a, bee, d, rest];"
    ) == [1, 2, 4, {"x": 9, "y": 8}]
    assert out("const [p, , q = 5, ...r] = [1, 2, undefined, 4, 5]; return [p, q, r];") == [
        1,
        5,
        [4, 5],
    ]
    assert out("let a = 1, b = 2; [a, b] = [b, a]; return [a, b];") == [2, 1]
    assert out('const [x, y] = "hi"; return x + y;') == "hi"
    e = err("const { a } = null;")
    assert e["type"] == "TypeError"


def test_if_and_loops() -> None:
    assert out(
        "const r = []; for (let i = 0; i < 5; i++) { if (i === 1) continue; if (i === 4) break; "
        "r.push(i); } return r;"
    ) == [0, 2, 3]
    assert out("let i = 0; while (i < 3) { i++; } return i;") == 3
    assert out("let i = 10; do { i++; } while (i < 3); return i;") == 11
    assert out('const r = []; for (const c of "abc") r.push(c); return r;') == ["a", "b", "c"]
    assert out('const r = []; for (const k in { b: 1, "1": 2, a: 3 }) r.push(k); return r;') == [
        "1",
        "b",
        "a",
    ]
    assert out("const r = []; for (const i in [7, 8]) r.push(i); return r;") == ["0", "1"]
    assert out(
        "const r = []; for (const [k, v] of Object.entries({ a: 1, b: 2 })) r.push(k + v); return r;"
    ) == ["a1", "b2"]
    assert out("let x; const r = []; for (x of [1, 2]) r.push(x); return [x, r];") == [2, [1, 2]]
    assert out(
        "const r = []; for (let i = 0; i < 3; i++) { for (let j = 0; j < 3; j++) { "
        "if (j > i) break; r.push(`${i}${j}`); } } return r;"
    ) == ["00", "10", "11", "20", "21", "22"]
    assert out("if (0) { return 1; } else if (1) { return 2; } else { return 3; }") == 2


def test_closures_capture_per_iteration_bindings() -> None:
    assert out(
        "const fs = []; for (let i = 0; i < 3; i++) { fs.push(() => i); } return fs.map(f => f());"
    ) == [0, 1, 2]
    assert out(
        "const fs = []; for (const x of [5, 6]) { fs.push(() => x * 2); } return fs.map(f => f());"
    ) == [10, 12]
    assert out("let n = 0; const inc = () => { n += 1; return n; }; inc(); inc(); return n;") == 2
    assert out(
        "const make = (start) => { let c = start; return () => { c++; return c; }; };"
        "const a = make(10); const b = make(0); a(); a(); b(); return [a(), b()];"
    ) == [13, 2]


def test_arrow_parameters_and_recursion() -> None:
    assert out(
        "const f = (a, b = a * 2, ...rest) => [a, b, rest]; return [f(1), f(1, 5, 6, 7)];"
    ) == [[1, 2, []], [1, 5, [6, 7]]]
    assert out("const f = ({ x, y = 3 }, [z]) => x + y + z; return f({ x: 1 }, [10]);") == 14
    assert out("const fact = (n) => n <= 1 ? 1 : n * fact(n - 1); return fact(10);") == 3628800
    assert out("const f = () => {}; return f();") is None
    assert out("const o = { f: (x) => x + 1 }; return o.f(1);") == 2
    e = err("const f = (n) => f(n + 1); f(0);")
    assert e["type"] == "RangeError"


def test_spread_and_optional_chaining() -> None:
    assert out('const a = [1, 2]; return [0, ...a, ..."xy", 3];') == [0, 1, 2, "x", "y", 3]
    assert out("const o = { a: 1, b: 2 }; return { ...o, b: 3, ...null, c: 4 };") == {
        "a": 1,
        "b": 3,
        "c": 4,
    }
    assert out("return Math.max(...[1, 5, 3]);") == 5
    assert out("const f = (...xs) => xs.length; return f(...[1, 2], 3);") == 3
    assert out(
        'const o = { a: { b: null } }; return [o?.a?.b?.c, o.x?.y.z, o.a?.["b"], '
        'o.f?.(1), o.a.b ?? "d"];'
    ) == [None, None, None, None, "d"]
    assert out('const k = "dyn"; return { [k + 1]: 1, "quoted key": 2, 3: 4 };') == {
        "3": 4,
        "dyn1": 1,
        "quoted key": 2,
    }


def test_object_identity_is_shared() -> None:
    assert out("const a = { x: 1 }; const b = a; b.x = 2; return a.x;") == 2
    assert out("const a = [1]; const b = a; b.push(2); return a;") == [1, 2]
    assert out(
        "const a = [1]; const b = { list: a }; await Timer.delay(1); b.list.push(2); return a;"
    ) == [1, 2]


def test_try_catch_finally() -> None:
    assert out('try { throw "x"; } catch (e) { return "caught " + e; }') == "caught x"
    assert out("try { throw { code: 1 }; } catch ({ code }) { return code; }") == 1
    assert out('try { throw 1; } catch { return "no binding"; }') == "no binding"
    assert out("const r = []; try { r.push(1); } finally { r.push(2); } return r;") == [1, 2]
    assert out(
        'const r = []; const f = () => { try { return 1; } finally { r.push("f"); } };'
        "return [f(), r];"
    ) == [1, ["f"]]
    # finally overrides return
    assert out("const f = () => { try { return 1; } finally { return 2; } }; return f();") == 2
    # finally runs on break and continue
    assert out(
        "const r = []; for (let i = 0; i < 3; i++) { try { if (i === 0) continue; if (i === 2) "
        'break; r.push(i); } finally { r.push("f" + i); } } return r;'
    ) == ["f0", 1, "f1", "f2"]
    # nested finally blocks all run, outermost last
    assert out(
        'const r = []; const f = () => { try { try { return "v"; } finally { r.push(1); } } '
        "finally { r.push(2); } }; return [f(), r];"
    ) == ["v", [1, 2]]
    # a rethrow from catch still runs finally
    assert out(
        'const r = []; try { try { throw 1; } catch (e) { r.push("c"); throw e + 1; } finally '
        '{ r.push("f"); } } catch (e2) { r.push(e2); } return r;'
    ) == ["c", "f", 2]
    # a break in finally cancels the throw
    assert (
        out("let n = 0; while (true) { try { throw 1; } finally { n++; break; } } return n;") == 1
    )
    # top-level return through finally
    assert out("const r = []; try { return r; } finally { r.push(1); }") == [1]


def test_runtime_errors_are_catchable_objects() -> None:
    e = out(
        "try { const u = undefined; u.x; } catch (e) { return { type: e.type, name: e.name, message: e.message }; }"
    )
    assert e["type"] == "TypeError"
    assert "reading 'x'" in e["message"] and "line 1" in e["message"]
    e = out(
        "try { const n = 5; n(); } catch (e) { return { type: e.type, name: e.name, message: e.message }; }"
    )
    assert e["type"] == "TypeError" and "not a function" in e["message"]
    e = out("try { null.x = 1; } catch (e) { return e.type; }")
    assert e == "TypeError"
    e = out("try { for (const x of 5) {} } catch (e) { return e.message; }")
    assert "not iterable" in e
    e = out('try { JSON.parse("{"); } catch (e) { return e.type; }')
    assert e == "SyntaxError"
    e = out('try { "a".repeat(-1); } catch (e) { return e.type; }')
    assert e == "RangeError"


def test_uncaught_errors_fail_the_workflow() -> None:
    assert err('throw { type: "Custom", message: "m" };') == {"type": "Custom", "message": "m"}
    assert err('throw "plain";') == "plain"
    e = err("const o = undefined;\nreturn o.x;")
    assert e["type"] == "TypeError" and "line 2" in e["message"]


def test_budget_stops_runaway_loops() -> None:
    e = err("let i = 0;\nwhile (true) {\n  i++;\n}", budget=10_000)
    assert e["type"] == "BudgetExceeded"
    assert "10000 instructions" in e["message"] and "line" in e["message"]
    # the budget is per step: waiting resets it
    src = "let n = 0; for (let i = 0; i < 3; i++) { for (let j = 0; j < 400; j++) n++; await Timer.delay(1); } return n;"
    assert out(src, budget=5_000) == 1200
    # not catchable
    e = err("try { while (true) {} } catch (e) { return 1; }", budget=1000)
    assert e["type"] == "BudgetExceeded"


def test_value_size_limit() -> None:
    e = err('let s = "x"; while (true) { s = s + s; }')
    assert e["type"] == "ValueTooLarge"


def test_results_that_cannot_become_json_fail_clearly() -> None:
    e = err("const a = {}; a.self = a; return a;")
    assert e == {"type": "TypeError", "message": "Converting circular structure to JSON"}
    e = err("let a = []; for (let i = 0; i < 5000; i++) { a = [a]; } return a;")
    assert e["type"] == "RangeError"
    # deep structures are fine inside the state
    src = "let a = []; for (let i = 0; i < 5000; i++) { a = [a]; } await Timer.delay(1); return 1;"
    assert out(src) == 1


def test_typeof_of_undeclared_and_functions() -> None:
    assert out(
        "const f = () => 1; return [typeof f, typeof Math.max, typeof Task, typeof Inputs];"
    ) == [
        "function",
        "function",
        "object",
        "object",
    ]


@pytest.mark.parametrize(
    ("code", "type_", "fragment"),
    [
        ("const u = undefined; u.x", "TypeError", "Cannot read properties of undefined"),
        ("const n = null; n[0]", "TypeError", "Cannot read properties of null"),
        ("const u = undefined; u.x = 1", "TypeError", "Cannot set properties of undefined"),
        ('const s = "abc"; s.x = 1', "TypeError", "Cannot create property 'x'"),
        ("const a = [1]; a.tag = 1", "TypeError", "Cannot set property 'tag' of an array"),
        ("const a = [1]; a[-1] = 1", "TypeError", "Cannot set property '-1' of an array"),
        ("const a = [1]; a.length = -1", "RangeError", "Invalid array length"),
        ('const k = 1; "x" in k', "TypeError", "Cannot use 'in' operator"),
        ("const f = 3; f()", "TypeError", "is not a function"),
        ("const o = {}; o.nope()", "TypeError", "object.nope is not a function"),
        ("const n = 5; [...n]", "TypeError", "is not iterable"),
        ("const n = 5; const [a] = n", "TypeError", "is not iterable"),
        ("const { a } = undefined", "TypeError", "Cannot destructure 'undefined'"),
        ("const o = null; Object.assign(o, {})", "TypeError", "Cannot convert undefined or null"),
        ('JSON.parse("[1,")', "SyntaxError", "JSON.parse"),
        ('"x".padStart(1e12)', "RangeError", "Invalid string length"),
        ("const f = (n) => f(n + 1); f(0)", "RangeError", "Maximum call stack size exceeded"),
        ("const f = (n) => [1].map(() => f(n + 1)); f(0)", "RangeError", "Maximum call stack"),
    ],
)
def test_runtime_error_paths(code: str, type_: str, fragment: str) -> None:
    e = out(
        f"try {{\n{code};\n}} catch (e) {{ return {{ type: e.type, message: e.message }}; }} "
        "return 'no error';"
    )
    assert isinstance(e, dict), e
    assert e["type"] == type_, e
    assert fragment in e["message"], e
    assert "(line 2)" in e["message"], e
