"""The VM API (start/resume) and its JSON state: identity, closures and every value kind survive a
round trip into a fresh VM, even through a store that reorders object keys (JSONB)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rhythm.core import vm
from rhythm.core.compiler import compile_source
from rhythm.core.effects import StartTask, StartTimer, StartWorkflow, TaskOptions, WaitSignal

CTX = {"executionId": "e1", "workflowName": "w", "now": 1_000.0}


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """JSON text and back, with every object's keys sorted like a JSONB column does."""
    text = json.dumps(state, allow_nan=False)
    return json.loads(text, object_pairs_hook=lambda pairs: dict(sorted(pairs)))


def completed(output: Any) -> dict[str, Any]:
    return {"status": "completed", "output": output}


def test_start_suspends_with_effects_and_resume_finishes() -> None:
    wf = compile_source(
        'const a = Task.run("t1", { x: 1 }, { queue: "q", retries: 2 });\n'
        'const b = Task.run("t2");\nconst [x, y] = await Promise.all([a, b]);\nreturn x + y;'
    )
    step = vm.start(wf, {}, CTX)
    assert step.status == "suspended"
    assert step.effects == [
        StartTask(1, "t1", {"x": 1}, TaskOptions(queue="q", retries=2)),
        StartTask(2, "t2", {}, TaskOptions()),
    ]
    assert type(step.effects[0].options.retries) is int
    assert step.waiting_on == [1, 2]
    state = roundtrip(step.state)
    # one result only: still waiting, on the other one
    step2 = vm.resume(wf, state, {"1": completed(10)})
    assert step2.status == "suspended" and step2.waiting_on == [2] and step2.effects == []
    step3 = vm.resume(wf, roundtrip(step2.state), {2: completed(5)})
    assert step3.status == "completed" and step3.output == 15 and step3.state is None


def test_identity_and_closures_survive_the_round_trip() -> None:
    src = """
    const shared = { n: 1 };
    const holder = { a: shared, b: [shared] };
    let counter = 0;
    const bump = () => { counter += 1; shared.n += 1; return counter; };
    const cyc = [];
    cyc.push(cyc);
    await Timer.delay(1);
    holder.b[0].n = 10;
    bump();
    await Timer.delay(1);
    bump();
    return [shared.n, holder.a === holder.b[0], counter, cyc[0] === cyc, holder.a.n];
    """
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    while step.status == "suspended":
        step = vm.resume(wf, roundtrip(step.state), {h: completed(None) for h in step.waiting_on})
    assert step.status == "completed"
    assert step.output == [12, True, 2, True, 12]


def test_special_values_survive() -> None:
    src = """
    const v = [undefined, NaN, Infinity, -Infinity, -0, null, "s", 1.5, { u: undefined }];
    const m = Math;
    const f = [1].map;
    await Timer.delay(1);
    return [v.map(x => typeof x), 1 / v[4], v[1] !== v[1], m.max(1, 2), f === [1].map,
            "u" in v[8], String(v[2])];
    """
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    step = vm.resume(wf, roundtrip(step.state), {step.waiting_on[0]: completed(None)})
    assert step.output == [
        [
            "undefined",
            "number",
            "number",
            "number",
            "number",
            "object",
            "string",
            "number",
            "object",
        ],
        None,  # -Infinity prints as null in JSON: the -0 survived
        True,
        2,
        False,
        True,
        "Infinity",
    ]


def test_finally_completion_survives_an_await_inside_finally() -> None:
    src = """
    const log = [];
    const f = () => 1;
    for (let i = 0; i < 3; i++) {
      try {
        if (i === 1) break;
        log.push(i);
      } finally {
        await Timer.delay(1);
        log.push("f" + i);
      }
    }
    try {
      return log;
    } finally {
      await Timer.delay(1);
      log.push("last");
    }
    """
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    n = 0
    while step.status == "suspended":
        n += 1
        step = vm.resume(wf, roundtrip(step.state), {h: completed(None) for h in step.waiting_on})
    assert step.output == [0, "f0", "f1", "last"]
    assert n == 3


def test_resuming_the_same_state_twice_is_deterministic() -> None:
    src = 'const r = Math.random(); const x = await Task.run("t"); return [r, x, Math.random()];'
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    state = roundtrip(step.state)
    a = vm.resume(wf, json.loads(json.dumps(state)), {1: completed("x")})
    b = vm.resume(wf, json.loads(json.dumps(state)), {1: completed("x")})
    assert a.output == b.output and a.status == "completed"


def test_task_failure_from_results_gets_the_task_name() -> None:
    wf = compile_source('try { await Task.run("pay"); } catch (e) { return e; }')
    step = vm.start(wf, {}, CTX)
    error = {"type": "CardDeclined", "message": "no funds"}
    done = vm.resume(wf, roundtrip(step.state), {1: {"status": "failed", "error": error}})
    assert done.output == {"type": "CardDeclined", "message": "no funds", "task": "pay"}


def test_context_now_comes_from_the_caller() -> None:
    wf = compile_source(
        "const a = Context.now(); await Timer.delay(5); return [a, Context.now(), Context.executionId];"
    )
    step = vm.start(wf, {}, {"executionId": "e9", "now": 10.0})
    assert step.effects == [StartTimer(1, 5.0, None)]
    done = vm.resume(wf, roundtrip(step.state), {1: completed(None)}, {"now": 15.25})
    assert done.output == [10_000, 15_250, "e9"]
    wf = compile_source('await Timer.until("2030-01-01T09:00:00+02:00");')
    step = vm.start(wf, {}, CTX)
    assert step.effects == [StartTimer(1, None, "2030-01-01T07:00:00+00:00")]


def test_signal_effects() -> None:
    wf = compile_source('Signal.next("a"); await Signal.when("b", { timeout: "2m" });')
    step = vm.start(wf, {}, CTX)
    assert step.effects == [WaitSignal(1, "a", None), WaitSignal(2, "b", 120.0)]
    assert step.waiting_on == [2]
    wf = compile_source('await Workflow.run("child", { a: [1] });')
    step = vm.start(wf, {}, CTX)
    assert step.effects == [StartWorkflow(1, "child", {"a": [1]})]


def test_version_mismatch_and_damaged_state_fail_clearly() -> None:
    wf = compile_source("await Timer.delay(1);")
    step = vm.start(wf, {}, CTX)
    other = compile_source("await Timer.delay(2);")
    bad = vm.resume(other, roundtrip(step.state), {})
    assert bad.status == "failed" and bad.error["type"] == "VersionMismatch"
    assert vm.resume(wf, {"heap": []}, {}).error["type"] == "InvalidState"
    assert vm.resume(wf, [], {}).error["type"] == "InvalidState"  # type: ignore[arg-type]
    future = vm.resume(wf, {**step.state, "format": 99}, {})
    assert future.error["type"] == "IncompatibleSnapshot"
    assert "snapshot format 99" in future.error["message"]
    damaged = roundtrip(step.state)
    del damaged["heap"]
    assert vm.resume(wf, damaged, {}).error["type"] == "InvalidState"
    bad_result = vm.resume(wf, roundtrip(step.state), {1: {"status": "maybe"}})
    assert bad_result.error["type"] == "InvalidResults"
    assert "status" in bad_result.error["message"]
    # results for unknown handles are ignored
    again = vm.resume(wf, roundtrip(step.state), {99: completed(1)})
    assert again.status == "suspended"


def test_state_size_limit() -> None:
    wf = compile_source(
        "const big = []; for (let i = 0; i < 1000; i++) big.push(i); await Timer.delay(1);"
    )
    step = vm.start(wf, {}, CTX, max_state_bytes=4000)
    assert step.status == "failed"
    assert step.error["type"] == "StateTooLarge"
    assert "over the limit of 4000 bytes" in step.error["message"]
    assert vm.start(wf, {}, CTX).status == "suspended"


def test_budget_and_inputs() -> None:
    wf = compile_source("let n = 0;\nfor (let i = 0; i < 10000; i++) { n += i; }\nreturn n;")
    step = vm.start(wf, {}, CTX, budget=500)
    assert step.status == "failed" and step.error["type"] == "BudgetExceeded"
    assert "line 2" in step.error["message"]
    done = vm.start(wf, {}, CTX)
    assert done.output == 49995000 and done.instructions > 10000
    wf = compile_source("return Inputs.a.b + Inputs.missing;")
    assert vm.start(wf, {"a": {"b": "x"}}, CTX).output == "xundefined"
    with pytest.raises(ValueError, match="JSON values"):
        vm.start(wf, {"a": object()}, CTX)


def test_await_inside_an_arrow_is_refused_at_compile_time() -> None:
    from rhythm.core.compiler import FlowCompileError

    with pytest.raises(FlowCompileError):
        compile_source("const f = () => { await Timer.delay(1); };")
