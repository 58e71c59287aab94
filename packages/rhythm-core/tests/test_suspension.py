"""describe_suspension: the span of the await a workflow waits at, what it waits on and its
variables, read from real states saved by vm.start / vm.resume (after a JSONB-like round trip)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from rhythm.core import opcodes as op
from rhythm.core import vm
from rhythm.core.analysis import analyze
from rhythm.core.compiler import CompiledWorkflow, compile_program, compile_source
from rhythm.core.suspension import Suspension, SuspensionError, Waiting, describe_suspension, show

_spec = importlib.util.spec_from_file_location(
    "flow_samples_data", Path(__file__).with_name("flow_samples_data.py")
)
assert _spec is not None and _spec.loader is not None
_samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_samples)
SAMPLES: list[str] = _samples.SAMPLES

CTX = {"executionId": "e1", "workflowName": "w", "now": 1_000.0}


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(state, allow_nan=False)
    return json.loads(text, object_pairs_hook=lambda pairs: dict(sorted(pairs)))


def suspend(source: str, inputs: Any = None) -> tuple[CompiledWorkflow, dict[str, Any]]:
    wf = compile_source(source)
    step = vm.start(wf, inputs or {}, CTX)
    assert step.status == "suspended", step.error
    return wf, roundtrip(step.state)


def text_of(source: str, s: Suspension) -> str:
    lines = source.split("\n")
    if s.line == s.end_line:
        return lines[s.line - 1][s.column - 1 : s.end_column - 1]
    first = lines[s.line - 1][s.column - 1 :]
    middle = lines[s.line : s.end_line - 1]
    last = lines[s.end_line - 1][: s.end_column - 1]
    return "\n".join([first, *middle, last])


SOURCE = """const order = Inputs.order;
let total = 0;
const fee = (x) => x * 0.1;
for (const item of order.items) {
  total += item.price;
  if (item.price > 5) {
    const total = -1;
    const [charge, pause] = await Promise.all([
      Task.run("charge", { item }),
      Timer.delay(5),
    ]);
  }
}
let later = 1;
return total;
"""


def test_span_waiting_on_and_variables_of_a_workflow_waiting_in_a_loop() -> None:
    wf, state = suspend(SOURCE, {"order": {"id": "o1", "items": [{"price": 3}, {"price": 9}]}})
    s = describe_suspension(wf, state)
    assert (s.line, s.column, s.end_line, s.end_column) == (8, 29, 11, 7)
    assert text_of(SOURCE, s).startswith("await Promise.all([")
    assert text_of(SOURCE, s).endswith("])")
    assert s.waiting_on == [Waiting(1, "task", "charge"), Waiting(2, "timer", "")]
    # `total` in the block hides the outer one; `charge`, `pause` and `later` are not
    # initialised yet, so they are left out.
    assert s.variables == {
        "order": {"id": "o1", "items": [{"price": 3}, {"price": 9}]},
        "fee": "<function at line 3>",
        "item": {"price": 9},
        "total": -1,
    }
    assert list(s.variables) == ["order", "fee", "item", "total"]
    assert json.loads(json.dumps(s.to_json())) == s.to_json()
    assert s.to_json()["waiting_on"] == [
        {"handle": 1, "kind": "task", "name": "charge"},
        {"handle": 2, "kind": "timer", "name": ""},
    ]


def test_after_a_partial_result_only_the_unsettled_handle_is_listed() -> None:
    wf, state = suspend(SOURCE, {"order": {"items": [{"price": 9}]}})
    step = vm.resume(wf, state, {1: {"status": "completed", "output": "ok"}}, CTX)
    assert step.status == "suspended"
    s = describe_suspension(wf, roundtrip(step.state))
    assert s.waiting_on == [Waiting(2, "timer", "")]
    assert s.line == 8


def test_each_kind_of_wait_and_later_awaits() -> None:
    source = """
    const first = await Signal.next("approve");
    const h = Task.run("audit", {});
    try {
      const r = await Signal.when("confirm", { timeout: "1h" });
    } catch (e) {
      const child = await Workflow.run("escalate", { first, reason: e.type });
    }
    """
    wf, state = suspend(source)
    s = describe_suspension(wf, state)
    assert s.waiting_on == [Waiting(1, "signal", "approve")]
    assert text_of(source, s) == 'await Signal.next("approve")'
    assert s.variables == {}
    step = vm.resume(wf, state, {1: {"status": "completed", "output": {"ok": True}}}, CTX)
    s = describe_suspension(wf, roundtrip(step.state))
    assert s.waiting_on == [Waiting(3, "signal", "confirm")]
    assert s.variables == {"first": {"ok": True}, "h": "<task 'audit' (handle 2): pending>"}
    timeout = {"status": "failed", "error": {"type": "Timeout", "message": "no signal"}}
    step = vm.resume(wf, roundtrip(step.state), {3: timeout}, CTX)
    s = describe_suspension(wf, roundtrip(step.state))
    assert text_of(source, s) == 'await Workflow.run("escalate", { first, reason: e.type })'
    assert s.waiting_on == [Waiting(4, "workflow", "escalate")]
    assert s.variables["e"] == {"type": "Timeout", "message": "no signal"}


def test_values_json_cannot_hold_are_described() -> None:
    source = """
    const shared = { n: 1 };
    const cyc = [shared, shared];
    cyc.push(cyc);
    const odd = [undefined, 0 / 0, 1 / 0, -1 / 0, 1.5, Math, Math.max, null];
    const all = Promise.all([Task.run("a"), 5]);
    await Timer.delay(1);
    """
    wf, state = suspend(source)
    v = describe_suspension(wf, state).variables
    assert v["cyc"] == [{"n": 1}, {"n": 1}, "<circular>"]
    assert v["odd"] == [
        "<undefined>",
        "<NaN>",
        "<Infinity>",
        "<-Infinity>",
        1.5,
        "<Math>",
        "<builtin Math.max>",
        None,
    ]
    assert v["all"] == "<Promise.all of 2>"
    deep: list[Any] = []
    for _ in range(100):
        deep = [deep]
    shown = show(deep)
    for _ in range(64):
        shown = shown[0]
    assert shown == "<...>"


def test_states_that_cannot_be_described_are_refused_clearly() -> None:
    wf, state = suspend("await Timer.delay(1);")
    other = compile_source("await Timer.delay(2);")
    with pytest.raises(SuspensionError, match="workflow version"):
        describe_suspension(other, state)
    with pytest.raises(SuspensionError, match="not a workflow state"):
        describe_suspension(wf, {"nothing": 1})
    damaged = dict(state)
    del damaged["heap"]
    with pytest.raises(SuspensionError, match="damaged"):
        describe_suspension(wf, damaged)
    moved = json.loads(json.dumps(state))
    moved["frames"][-1]["pc"] = 0
    with pytest.raises(SuspensionError, match="not stopped at an await"):
        describe_suspension(wf, moved)


def test_every_await_maps_to_the_span_of_its_await_expression() -> None:
    sources = [*SAMPLES, SOURCE]
    checked = 0
    for source in sources:
        result = analyze(source)
        wf = compile_program(result.program, source)
        for pc, ins in enumerate(wf.instructions):
            if ins[0] == op.AWAIT:
                span = wf.span_of(pc)
                assert source[span.start : span.end].startswith("await"), (source, span)
                assert pc in wf.await_scopes
                checked += 1
    assert checked >= 3
