"""rhythm.core.testing.run_workflow: tasks, timers, signals, child workflows, virtual time."""

from __future__ import annotations

from typing import Any

import pytest

from rhythm.core.compiler import FlowCompileError
from rhythm.core.effects import StartTask
from rhythm.core.testing import WorkflowResult, run_workflow


def ok(result: WorkflowResult) -> Any:
    assert result.status == "completed", result.error
    return result.output


def double(inputs: dict[str, Any]) -> int:
    return inputs["n"] * 2


def test_tasks_run_and_are_recorded_in_start_order() -> None:
    src = """
    const a = await Task.run("double", { n: Inputs.n });
    Task.run("double", { n: 100 });  // fire-and-forget
    const b = await Task.run("double", { n: a });
    return a + b;
    """
    r = run_workflow(src, {"n": 2}, tasks={"double": double})
    assert ok(r) == 12
    assert r.tasks == [("double", {"n": 2}), ("double", {"n": 100}), ("double", {"n": 4})]
    assert r.suspensions == 2


def test_parallel_tasks_start_before_the_first_await() -> None:
    src = """
    const handles = [1, 2, 3].map(n => Task.run("double", { n }));
    return await Promise.all(handles);
    """
    r = run_workflow(src, tasks={"double": double})
    assert ok(r) == [2, 4, 6]
    assert r.suspensions == 1
    assert [type(e) for e in r.effects] == [StartTask, StartTask, StartTask]
    assert [e.inputs for e in r.effects] == [{"n": 1}, {"n": 2}, {"n": 3}]


def test_failed_task_throws_type_message_and_task() -> None:
    def boom(inputs: dict[str, Any]) -> None:
        raise KeyError("missing")

    src = 'try { await Task.run("boom", {}); } catch (e) { return e; }'
    assert ok(run_workflow(src, tasks={"boom": boom})) == {
        "type": "KeyError",
        "message": "'missing'",
        "task": "boom",
    }
    r = run_workflow('await Task.run("boom", {});', tasks={"boom": boom})
    assert r.status == "failed"
    assert r.error["type"] == "KeyError" and r.output == r.error


def test_retries_call_the_task_again() -> None:
    calls: list[int] = []

    def flaky(inputs: dict[str, Any]) -> str:
        calls.append(1)
        if len(calls) < 3:
            raise RuntimeError("try again")
        return "done"

    src = 'return await Task.run("flaky", {}, { retries: 2 });'
    assert ok(run_workflow(src, tasks={"flaky": flaky})) == "done"
    calls.clear()
    r = run_workflow('return await Task.run("flaky", {}, { retries: 1 });', tasks={"flaky": flaky})
    assert r.status == "failed" and r.error["message"] == "try again"


def test_missing_task_fails_with_a_catchable_error() -> None:
    src = 'try { await Task.run("nope", {}); } catch (e) { return e; }'
    e = ok(run_workflow(src, tasks={"double": double}))
    assert e["type"] == "TaskNotFound" and e["task"] == "nope"
    assert "no task named 'nope'" in e["message"] and "double" in e["message"]


def test_task_outputs_must_be_json() -> None:
    src = 'try { await Task.run("bad", {}); } catch (e) { return e.type; }'
    assert ok(run_workflow(src, tasks={"bad": lambda i: object()})) == "TypeError"


def test_timers_advance_virtual_time() -> None:
    src = """
    const t0 = Context.now();
    await Timer.delay(3600);
    await Timer.delay(0.5);
    await Timer.until("2025-01-02T00:00:00Z");
    await Timer.until("2024-01-01T00:00:00Z");  // in the past: fires at once
    return Context.now() - t0;
    """
    r = run_workflow(src)
    assert ok(r) == 86_400_000
    assert r.elapsed == 86_400
    assert r.suspensions == 4


def test_signals_in_order_and_at_their_time() -> None:
    src = """
    const a = await Signal.next("go");
    const b = await Signal.next("go");
    return [a, b, Context.now()];
    """
    r = run_workflow(src, signals=[("go", 1), ("go", {"x": 2}, 30)], start_time=0)
    assert ok(r) == [1, {"x": 2}, 30_000]


def test_signal_when_times_out_with_type_timeout() -> None:
    src = """
    try {
      await Signal.when("approve", { timeout: "1h30m" });
      return "approved";
    } catch (e) {
      return [e.type, Context.now()];
    }
    """
    assert ok(run_workflow(src, start_time=0)) == ["Timeout", 5_400_000]
    assert ok(run_workflow(src, signals=[("approve", True, 60)])) == "approved"
    assert ok(run_workflow(src, signals=[("approve", True, 6000)], start_time=0)) == [
        "Timeout",
        5_400_000,
    ]
    for timeout, seconds in (("24h", 86400), ("15m", 900), ("30s", 30), (10, 10), ("1d", 86400)):
        assert (
            run_workflow(
                src.replace('"1h30m"', repr(timeout) if isinstance(timeout, str) else str(timeout))
            ).elapsed
            == seconds
        )


def test_waiting_forever_fails_clearly() -> None:
    r = run_workflow('await Signal.next("approve");')
    assert r.status == "failed"
    assert r.error["type"] == "WaitingForever"
    assert "signal 'approve'" in r.error["message"]
    r = run_workflow("await Promise.race([]);")
    assert r.status == "failed" and "nothing" in r.error["message"]


def test_child_workflows() -> None:
    child = (
        'const d = await Task.run("double", { n: Inputs.n }); await Timer.delay(10); return d + 1;'
    )
    src = 'const r = await Workflow.run("child", { n: 5 }); return [r, Context.now()];'
    r = run_workflow(src, tasks={"double": double}, workflows={"child": child}, start_time=0)
    assert ok(r) == [11, 10_000]
    assert r.tasks == [("double", {"n": 5})]
    failing = 'throw { type: "ChildError", message: "bad" };'
    src = 'try { await Workflow.run("child", {}); } catch (e) { return e; }'
    assert ok(run_workflow(src, workflows={"child": failing})) == {
        "type": "ChildError",
        "message": "bad",
    }
    e = ok(run_workflow(src, workflows={}))
    assert e["type"] == "WorkflowNotFound" and "child" in e["message"]


def test_promise_combinators() -> None:
    def fail(inputs: dict[str, Any]) -> None:
        raise ValueError(f"no {inputs['n']}")

    tasks = {"double": double, "fail": fail}
    src = """
    const all = await Promise.all([Task.run("double", { n: 1 }), 5]);
    const settled = await Promise.allSettled([Task.run("double", { n: 2 }), Task.run("fail", { n: 1 })]);
    const any = await Promise.any([Task.run("fail", { n: 2 }), Task.run("double", { n: 3 })]);
    let aggregate;
    try { await Promise.any([Task.run("fail", { n: 3 }), Task.run("fail", { n: 4 })]); } catch (e) {
      // An AggregateError: name, message and errors are not enumerable (as in JavaScript).
      aggregate = { name: e.name, type: e.type, message: e.message, errors: e.errors, isError: e instanceof Error };
    }
    let first;
    try { await Promise.all([Task.run("fail", { n: 5 }), Task.run("double", { n: 1 })]); } catch (e) { first = e.message; }
    const race = await Promise.race([Timer.delay(60), Task.run("double", { n: 4 })]);
    const late = await Promise.race([Timer.delay(60), Signal.next("never")]);
    return { all, settled, any, aggregate, first, race, late, empty: await Promise.all([]) };
    """
    assert ok(run_workflow(src, tasks=tasks)) == {
        "all": [2, 5],
        "settled": [
            {"status": "fulfilled", "value": 4},
            {
                "status": "rejected",
                "reason": {"type": "ValueError", "message": "no 1", "task": "fail"},
            },
        ],
        "any": 6,
        "aggregate": {
            "name": "AggregateError",
            "isError": True,
            "type": "AggregateError",
            "message": "All promises were rejected",
            "errors": [
                {"type": "ValueError", "message": "no 3", "task": "fail"},
                {"type": "ValueError", "message": "no 4", "task": "fail"},
            ],
        },
        "first": "no 5",
        "race": 8,
        "late": None,
        "empty": [],
    }


def test_awaiting_a_plain_value_and_the_same_handle_twice() -> None:
    src = 'const h = Task.run("double", { n: 1 }); const a = await h; const b = await h; return [a, b, await 7];'
    r = run_workflow(src, tasks={"double": double})
    assert ok(r) == [2, 2, 7]
    assert len(r.tasks) == 1


def test_await_in_every_position_survives_round_trips() -> None:
    src = """
    const t = (n) => Task.run("double", { n });
    let total = 0;
    for (let i = 0; i < 3; i++) {
      if (i % 2 === 0) { total += await t(i); } else { total -= await t(i); }
    }
    const obj = { a: await t(10), b: [await t(20), { c: await t(30) }] };
    const s = `x${await t(1)}y`;
    const f = Math.max(await t(2), await t(3));
    let w = 0;
    while (w < 2) { w += (await t(1)) / 2; }
    try { throw await t(4); } catch (e) { total += e; } finally { total += await t(5); }
    return [total, obj, s, f, w, (await t(6)) ?? 0, (await t(0)) || "zero"];
    """
    r = run_workflow(src, tasks={"double": double})
    assert ok(r) == [2 + 8 + 10, {"a": 20, "b": [40, {"c": 60}]}, "x2y", 6, 2, 12, "zero"]
    assert r.suspensions == len(r.tasks) == 15


def test_compile_errors_and_bad_signals_raise() -> None:
    with pytest.raises(FlowCompileError) as e:
        run_workflow("const x = ;\nlet y = 1; y = ;", name="broken")
    message = str(e.value)
    assert message.startswith("broken.flow:1:")
    assert "broken.flow:2:" in message
    with pytest.raises(ValueError, match="each signal must be"):
        run_workflow("return 1;", signals=[("only-name",)])


def test_async_task_stand_ins_and_live_array_iteration() -> None:
    async def fetch(inputs: dict[str, Any]) -> str:
        return "async " + inputs["id"]

    src = 'const a = [1, 2]; for (const x of a) { if (a.length < 4) a.push(x * 10); } return [a, await Task.run("fetch", { id: "x" })];'
    assert ok(run_workflow(src, tasks={"fetch": fetch})) == [[1, 2, 10, 20], "async x"]
