"""`new` and the builtin constructors (Error & co, Date, Map, Set) beyond what the Node comparison
(test_conformance.py) shows: compile-time refusals, the workflow's failure value, task failures
as Errors, the state's JSON round trip with aliasing kept, Date.now from the runtime's clock and
how a suspension describes these values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from rhythm.core import vm
from rhythm.core.analysis import analyze
from rhythm.core.compiler import FlowCompileError, compile_source
from rhythm.core.diagnostics import Severity
from rhythm.core.formatter import format_source
from rhythm.core.suspension import describe_suspension
from rhythm.core.testing import run_workflow

CTX = {"executionId": "e1", "workflowName": "w", "now": 1_700_000_000.5}


def roundtrip(state: dict[str, Any]) -> dict[str, Any]:
    """JSON text and back, with every object's keys sorted like a JSONB column does."""
    text = json.dumps(state, allow_nan=False)
    return json.loads(text, object_pairs_hook=lambda pairs: dict(sorted(pairs)))


def out(source: str, **kwargs: Any) -> Any:
    result = run_workflow(source, **kwargs)
    assert result.status == "completed", result.error
    return result.output


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("function Order(x) { return { x }; }\nreturn new Order(1);", "'Order' is a function"),
        ("const make = (x) => x;\nreturn new make(1);", "'make' is a function"),
        ("return new Math.max(1);", "Math.max is not a constructor"),
        ("return new parseInt('1');", "parseInt is not a constructor"),
        ("return new Task();", "Task is not a constructor"),
        ("return Map();", "Map must be called with 'new'"),
        ("return Set([1]);", "Set must be called with 'new'"),
        ("return new Date().getTme();", "'getTme' is not a member of date: did you mean 'getTime'"),
    ],
)
def test_what_cannot_be_constructed_is_a_compile_error(source: str, message: str) -> None:
    with pytest.raises(FlowCompileError, match=message):
        compile_source(source)


def test_a_constructor_given_too_many_arguments_is_a_warning() -> None:
    found = analyze("return new Error(1, {}, 3);").diagnostics
    assert [(d.severity, d.message.split(" (")[0]) for d in found] == [
        (Severity.WARNING, "Error expects 0 to 2 arguments, got 3")
    ]


def test_new_on_a_value_known_only_at_run_time_is_a_type_error() -> None:
    src = """
    const out = [];
    const things = { f: (x) => x, n: 5 };
    let g = (x) => x;
    for (const make of [() => new things.f(1), () => new things.n(), () => new g(2)]) {
      try { make(); } catch (e) { out.push(e.name, e.message); }
    }
    const D = Date;
    out.push(new D(0).toISOString(), D.now() > 0, typeof D.parse);
    return out;
    """
    result = out(src)
    assert result[0::2][:3] == ["TypeError"] * 3
    assert result[1].startswith("things.f is not a constructor: .flow constructs only")
    assert result[3].startswith("things.n is not a constructor (line")
    assert result[5].startswith("g is not a constructor: .flow constructs only")
    assert result[6:] == ["1970-01-01T00:00:00.000Z", True, "function"]


def test_an_uncaught_error_fails_the_workflow_with_type_message_and_cause() -> None:
    result = run_workflow(
        'const e = new TypeError("card declined", { cause: new Error("expired") });\n'
        "e.code = 402;\nthrow e;"
    )
    assert result.status == "failed"
    assert result.error == {
        "type": "TypeError",
        "message": "card declined",
        "code": 402,
        "cause": {"type": "Error", "message": "expired"},
    }
    e = run_workflow("const o = null;\nreturn o.x;").error
    assert e["type"] == "TypeError" and e["message"].endswith("(line 2)")
    assert run_workflow('throw new RangeError("r")').error == {"type": "RangeError", "message": "r"}
    # A self-referencing cause is written once.
    e = run_workflow('const e = new Error("loop", { cause: 1 }); e.self = 1; throw e;').error
    assert e == {"type": "Error", "message": "loop", "self": 1, "cause": 1}


def test_a_failed_task_throws_an_error_that_keeps_its_fields() -> None:
    def boom(inputs: dict[str, Any]) -> None:
        raise KeyError("missing")

    src = """
    try { await Task.run("boom", {}); } catch (e) {
      return [e instanceof Error, e.name, e.type, e.task, typeof e.message, Object.keys(e),
        JSON.parse(JSON.stringify(e)).type, String(e).startsWith("Error: "), e.cause];
    }
    """
    result = out(src, tasks={"boom": boom})
    assert result[:5] == [True, "Error", "KeyError", "boom", "string"]
    assert "type" in result[5] and "message" in result[5] and "task" in result[5]
    assert result[6:] == ["KeyError", True, None]
    # A child workflow's TypeError arrives as a TypeError.
    child = 'throw new TypeError("bad input");'
    src = (
        'try { await Workflow.run("child", {}); } catch (e) '
        "{ return [e instanceof TypeError, e.name, e.type, e.message]; }"
    )
    assert out(src, workflows={"child": child}) == [True, "TypeError", "TypeError", "bad input"]


def test_values_survive_the_json_round_trip_with_aliasing_kept() -> None:
    src = """
    const key = { id: 7 };
    const m = new Map([[key, "by identity"], [NaN, "nan"]]);
    m.set("self", m);
    const alias = m;
    const s = new Set([key, 1]);
    s.add(s);
    const d = new Date(Date.UTC(2024, 1, 29));
    const sameDate = d;
    const e = new RangeError("too far", { cause: key });
    e.extra = [m, d];
    const holder = { m, s, d, e };
    await Task.run("t");
    alias.set("later", 1);
    sameDate.setUTCDate(1);
    await Task.run("t");
    return [m.size, m.get("self") === m, m.get(key), m.get(NaN), holder.m === m, s.has(s),
      s.has(key), e.cause === key, e.extra[0] === m, e.extra[1] === d, d.toISOString(),
      holder.d === d, e instanceof RangeError, Object.keys(e), e.message, [...m.keys()][0] === key];
    """
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    while step.status == "suspended":
        state = roundtrip(step.state)
        results = {h: {"status": "completed", "output": None} for h in step.waiting_on}
        step = vm.resume(wf, state, results, CTX)
    assert step.status == "completed", step.error
    assert step.output == [
        4, True, "by identity", "nan", True, True, True, True, True, True,
        "2024-02-01T00:00:00.000Z", True, True, ["extra"], "too far", True,
    ]  # fmt: skip


def test_date_now_and_new_date_read_the_runtime_clock_of_the_step() -> None:
    src = """
    const a = Date.now(), b = new Date().getTime(), c = Context.now();
    await Timer.delay(60);
    return [a, b, c, Date.now() - a, typeof Date(), Date().endsWith("(Coordinated Universal Time)")];
    """
    assert out(src, start_time=1_700_000_000.25) == [
        1_700_000_000_250,
        1_700_000_000_250,
        1_700_000_000_250,
        60_000,
        "string",
        True,
    ]


def test_a_suspension_describes_dates_maps_sets_and_errors() -> None:
    src = """
    const d = new Date(0), bad = new Date(NaN), m = new Map([["a", 1]]), s = new Set([2]);
    const e = new Error("x");
    await Task.run("t");
    return [d, bad, m, s, e];
    """
    wf = compile_source(src)
    step = vm.start(wf, {}, CTX)
    found = describe_suspension(wf, roundtrip(step.state)).variables
    assert found == {
        "d": "<Date 1970-01-01T00:00:00.000Z>",
        "bad": "<Invalid Date>",
        "m": {"<Map>": [["a", 1]]},
        "s": {"<Set>": [2]},
        "e": {"message": "x"},
    }


def test_the_formatter_writes_new_with_parentheses() -> None:
    assert format_source("const m = new Map\nconst x = m instanceof  Map\n") == (
        "const m = new Map()\nconst x = m instanceof Map\n"
    )
    source = "const t = new Date(Date.UTC(2024, 0, 1)).getTime()\n"
    assert format_source(source) == source


def test_a_state_holding_these_objects_is_format_3_and_others_stay_format_2() -> None:
    plain = compile_source('const a = [1]; await Task.run("t"); return a;')
    assert vm.start(plain, {}, CTX).state["format"] == 2
    for holder in ("new Map()", "new Set()", "new Date(0)", 'new Error("x")'):
        wf = compile_source(f'const a = [{holder}]; await Task.run("t"); return a.length;')
        step = vm.start(wf, {}, CTX)
        assert step.state["format"] == 3
        assert vm.resume(wf, roundtrip(step.state), {1: {"status": "completed"}}).output == 1
    # A caught VM error held across an await is an Error too.
    wf = compile_source(
        'let e; try { null.x; } catch (x) { e = x; } await Task.run("t"); return e.name;'
    )
    step = vm.start(wf, {}, CTX)
    assert step.state["format"] == 3
    assert vm.resume(wf, roundtrip(step.state), {1: {"status": "completed"}}).output == "TypeError"


def test_timer_until_takes_a_date() -> None:
    src = """
    const at = new Date(Date.now() + 90 * 1000);
    await Timer.until(at);
    const before = Date.now();
    try { Timer.until(new Date(NaN)); } catch (e) { return [before - at.getTime(), e.name]; }
    """
    assert out(src, start_time=1_700_000_000) == [0, "TypeError"]
