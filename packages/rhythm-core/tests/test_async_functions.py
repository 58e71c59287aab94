"""Async arrow functions: calls that run until their first `await` and return a promise, several
suspended at once, each resumed with its own result. Programs are checked against Node.js, where
tasks settle in a later macrotask (`setImmediate`) and timers after their delay, as the runtime
delivers them after the workflow step that started them; every suspension goes through a JSON
round trip (run_workflow does that)."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import vm
from rhythm.core.analysis import analyze
from rhythm.core.compiler import FlowCompileError, compile_source
from rhythm.core.diagnostics import Code
from rhythm.core.formatter import format_source
from rhythm.core.testing import run_workflow

NODE_PRELUDE = """
let counter = 0;
const Task = {
  run: (name, inputs = {}) => {
    const r = { name, inputs: JSON.parse(JSON.stringify(inputs)), n: ++counter };
    return new Promise((resolve) => setImmediate(() => resolve(r)));
  },
};
const Timer = { delay: (s) => new Promise((resolve) => setTimeout(() => resolve(null), s * 100)) };
"""

CASES: dict[str, str] = {
    # The fan-out shape: a small sequence per item, all items in parallel.
    "fan_out_sequences": """
const out = [];
const items = [1, 2, 3];
const rs = await Promise.all(items.map(async (item) => {
  out.push("start" + item);
  const a = await Task.run("a", { item });
  out.push("mid" + item + ":" + a.n);
  return Task.run("b", { a: a.n });
}));
return { out, rs: rs.map((r) => [r.n, r.inputs.a]) };
""",
    # A call runs synchronously until its first await; the caller continues then.
    "runs_until_first_await": """
const out = [];
const f = async (x) => { out.push("f" + x); await null; out.push("g" + x); return x * 2; };
const p = f(1);
out.push("after");
const q = f(2);
out.push("before await");
out.push(await p, await q);
const sync = async (x) => x + 1;
out.push(await sync(1), await sync(await sync(5)));
return out;
""",
    # Timers of different lengths: the calls resume in an interleaved order.
    "interleaved_timers": """
const out = [];
const worker = async (name, delays) => {
  for (const d of delays) {
    await Timer.delay(d);
    out.push(name + d);
  }
  return name;
};
const a = worker("a", [1, 4, 1]);
const b = worker("b", [2, 1, 5]);
const c = worker("c", [4]);
out.push(await Promise.all([a, b, c]));
return out;
""",
    # Async methods whose loops are labelled, suspended side by side on timers of different
    # lengths and tasks, resumed interleaved (a JSON round trip of the state at every one).
    "interleaved_methods_and_labels": """
const out = [];
const w = {
  async walk(name, delays) {
    rows: for (const d of delays) {
      for (let i = 0; i < 3; i++) {
        await Timer.delay(d);
        if (i === 1) continue rows;
        const t = await Task.run("t", { name, d, i });
        out.push(name + d + i + ":" + t.n);
        if (d > 3) break rows;
      }
    }
    return name;
  },
};
out.push(await Promise.all([w.walk("a", [1, 4, 1]), w.walk("b", [2, 1, 5]), w.walk("c", [3])]));
return out;
""",
    # An uncaught error rejects the call's promise; await rethrows it where it is caught.
    "errors_reject": """
const out = [];
const boom = async (x) => {
  const t = await Task.run("t", { x });
  if (x > 1) throw { type: "Bad", message: "no " + x };
  return t.n;
};
try { await boom(2); } catch (e) { out.push("caught " + e.message); }
out.push(await boom(1));
const settled = await Promise.allSettled([boom(1), boom(3), boom(0)]);
out.push(settled.map((s) => s.status + ":" + (s.value ?? s.reason.message)));
try { await Promise.all([boom(5), boom(1)]); } catch (e) { out.push(e.message); }
out.push(await Promise.any([boom(7), boom(1)]));
return out;
""",
    # race: the first call to settle wins; the others keep running.
    "race_and_nested_calls": """
const out = [];
const slow = async (x) => { await Timer.delay(3); out.push("slow done"); return "slow" + x; };
const fast = async (x) => { await Timer.delay(1); return "fast" + x; };
const both = async () => [await fast(1), await fast(2)];
out.push(await Promise.race([slow(1), fast(1)]));
out.push(await both());
await Timer.delay(5);
return out;
""",
    # async function declarations are hoisted, close over their block, call each other.
    "async_function_declarations": """
const out = [];
out.push(await twice(3));
async function twice(x) { return 2 * (await once(x)); }
async function once(x, ...rest) {
  const t = await Task.run("t", { x });
  out.push("once" + x + rest.length);
  return t.inputs.x + rest.length;
}
{
  async function local(y = 1) { await Timer.delay(1); return y; }
  out.push(await local(), await Promise.all([local(2), once(1, 1, 1), twice(0)]));
}
return out;
""",
    # try/finally and loops inside async calls, closures over their variables.
    "control_flow_inside": """
const out = [];
const total = { n: 0 };
const run = async (k) => {
  let sum = 0;
  for (let i = 0; i < k; i++) {
    try {
      const t = await Task.run("t", { i, k });
      if (i === 1) continue;
      sum += t.inputs.i;
    } finally {
      out.push("fin" + k + i);
    }
  }
  total.n += sum;
  return () => sum;
};
const fs = await Promise.all([run(3), run(2)]);
out.push(fs.map((f) => f()), total.n);
return out;
""",
}


def _run_node(programs: list[str]) -> list[Any]:
    parts = [NODE_PRELUDE, "const programs = ["]
    parts += [f"async () => {{\n{src}\n}}," for src in programs]
    parts.append("];")
    parts.append(
        """
for (const p of programs) {
  counter = 0;
  try {
    const r = await p();
    console.log(JSON.stringify({ ok: r === undefined ? null : r }));
  } catch (e) {
    console.log(JSON.stringify({ error: (e && e.message) || String(e) }));
  }
}
"""
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.mjs"
        path.write_text("\n".join(parts))
        proc = subprocess.run(
            ["node", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.split("\n") if line]


def _run_rhythm(src: str) -> Any:
    counter = itertools.count(1)

    def task(name: str) -> Any:
        return lambda inputs: {"name": name, "inputs": inputs, "n": next(counter)}

    result = run_workflow(src, tasks={n: task(n) for n in ("a", "b", "t")})
    if result.status != "completed":
        return {"error": result.error}
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


def test_state_holds_every_suspended_call() -> None:
    # Three calls suspended at once: each resume delivers one result to the call awaiting it,
    # through a JSON round trip of the state every time.
    src = """
const one = async (name, s) => { const a = await Timer.delay(s); return name + s; };
return await Promise.all([one("x", 3), one("y", 1), one("z", 2)]);
"""
    wf = compile_source(src)
    step = vm.start(wf, {}, {"now": 0.0})
    assert step.status == "suspended"
    fibers = step.state["fibers"]
    assert sum(1 for f in fibers if "main" in f) == 1 and len(fibers) == 4
    handles = [e.handle for e in step.effects]
    assert sorted(step.waiting_on) == sorted(handles)
    # Deliver the timers one at a time, out of start order.
    for h in (handles[1], handles[2]):
        state = json.loads(json.dumps(step.state))
        step = vm.resume(wf, state, {h: {"status": "completed", "output": None}})
        assert step.status == "suspended"
        assert h not in step.waiting_on
    state = json.loads(json.dumps(step.state))
    step = vm.resume(wf, state, {handles[0]: {"status": "completed", "output": None}})
    assert step.status == "completed"
    assert step.output == ["x3", "y1", "z2"]


def test_unawaited_rejection_does_not_fail_the_workflow() -> None:
    src = """
const fail = async () => { await Task.run("t"); throw { type: "Boom", message: "lost" }; };
fail();
const p = fail();
await Task.run("t");
await Task.run("t");
return "done";
"""
    result = run_workflow(src, tasks={"t": lambda i: 1})
    assert result.status == "completed" and result.output == "done"


def test_uncaught_error_at_top_level_fails_the_workflow() -> None:
    src = """
const fail = async (x) => { await Task.run("t"); throw { type: "Boom", message: "m" + x }; };
await fail(1);
"""
    result = run_workflow(src, tasks={"t": lambda i: 1})
    assert result.status == "failed"
    assert result.error["type"] == "Boom" and result.error["message"].startswith("m1")


def test_task_failure_inside_an_async_call_keeps_its_shape() -> None:
    def bad(_: Any) -> Any:
        raise ValueError("card declined")

    src = """
const pay = async () => await Task.run("pay", {});
try { await pay(); } catch (e) { return [e.type, e.message, e.task]; }
"""
    result = run_workflow(src, tasks={"pay": bad})
    assert result.output == ["ValueError", "card declined", "pay"]


def test_a_call_left_running_still_starts_its_tasks() -> None:
    src = """
const bg = async () => { await Timer.delay(1); await Task.run("late"); };
bg();
await Timer.delay(5);
return 1;
"""
    result = run_workflow(src, tasks={"late": lambda i: 1})
    assert result.status == "completed" and [name for name, _ in result.tasks] == ["late"]


def test_await_needs_an_async_function() -> None:
    diags = analyze('const f = () => await Task.run("x")\nf()').diagnostics
    assert [d.code for d in diags] == [Code.AWAIT_IN_ARROW]
    assert "async" in diags[0].message
    assert analyze('const f = async () => await Task.run("x")\nawait f()').diagnostics == []
    # Inside an async arrow, a nested plain arrow still cannot await.
    diags = analyze("const f = async () => [1].map((x) => await x)\nawait f()").diagnostics
    assert [d.code for d in diags] == [Code.AWAIT_IN_ARROW]
    with pytest.raises(FlowCompileError, match="async"):
        compile_source("const g = (x) => { await x }\ng(1)")


def test_formatter_keeps_async() -> None:
    source = "const f = async (x) => {\n  return await x\n}\nconst g = async (y) => y\n"
    assert format_source(source) == source


def test_programs_without_async_keep_their_fingerprint() -> None:
    # The function table's async flag is only written for async functions.
    wf = compile_source("const f = (x) => x\nreturn f(1)\n")
    assert all(not f.is_async for f in wf.functions)
    step = vm.start(compile_source('await Task.run("t")'), {})
    assert "fibers" not in step.state


def test_formatter_keeps_function_declarations() -> None:
    source = (
        "return f(1)\n"
        "function f(a, b = 2, ...rest) {\n  return a + b + rest.length\n}\n"
        "async function g({ x }) {\n  return await x\n}\n"
    )
    assert format_source(source) == source


def test_formatter_keeps_new_operators() -> None:
    source = "let a = (1, 2)\na = ~a | 3 & 4 ^ 5 << 6 >> 7 >>> 8\nreturn [void a, delete a.b, typeof a]\n"
    assert format_source(source) == source


def test_function_declarations_are_checked_like_arrows() -> None:
    diags = analyze("function f() { await Task.run('x') }\nf()").diagnostics
    assert [d.code for d in diags] == [Code.AWAIT_IN_ARROW]
    # Hoisted: a declaration after `return` is not unreachable code, and is used before it.
    assert analyze("return f()\nfunction f() { return 1 }").diagnostics == []
    diags = analyze("function unused() {}").diagnostics
    assert [d.message for d in diags] == [
        "function 'unused' is never used (prefix it with '_' to keep it)"
    ]


def test_switch_is_checked_and_formatted() -> None:
    assert [d.message for d in analyze("switch (1) { case 1: continue }").diagnostics] == [
        "'continue' outside a loop"
    ]
    assert (
        analyze("const o = { default: 1 }\nswitch (o.default) { case 1: break }").diagnostics == []
    )
    source = (
        'let x\nswitch (x) {\n  case "a":\n    {\n      break\n    }\n  default:\n    x = 1\n}\n'
    )
    assert format_source(source) == source
    assert (
        format_source("let x\nswitch (x) { default: }\n") == "let x\nswitch (x) {\n  default:\n}\n"
    )


def test_describe_suspension_sees_through_async_calls() -> None:
    from rhythm.core.suspension import describe_suspension

    src = (
        'const f = async (x) => { const t = await Task.run("a", { x }); return t }\n'
        "const ps = [1, 2].map(f)\n"
        "return await Promise.all(ps)\n"
    )
    wf = compile_source(src)
    step = vm.start(wf, {})
    found = describe_suspension(wf, json.loads(json.dumps(step.state))).to_json()
    assert [(w["kind"], w["name"]) for w in found["waiting_on"]] == [("task", "a"), ("task", "a")]
    assert found["variables"]["ps"] == ["<async call: pending>", "<async call: pending>"]
