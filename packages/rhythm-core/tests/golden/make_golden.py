"""Writes the golden snapshot files next to this script: each workflow below is started and
resumed with the results of `before` until it suspends, and that state is saved with the results
still to come (`after`) and the output a person worked out for it (`expected`).

Run it only to ADD a case. Never regenerate an existing file to make the test pass: these files
stand for states saved by an older rhythm-core, which a newer one must still resume (or refuse
with IncompatibleSnapshot, see rhythm.core.snapshot). `uv run --all-packages python
packages/rhythm-core/tests/golden/make_golden.py NAME` writes only the named cases."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rhythm.core import vm
from rhythm.core.compiler import compile_source

HERE = Path(__file__).parent
CONTEXT = {"executionId": "golden-1", "workflowName": "golden", "now": 1_700_000_000.0}


def done(output: Any) -> dict[str, Any]:
    return {"status": "completed", "output": output}


def failed(type_: str, message: str) -> dict[str, Any]:
    return {"status": "failed", "error": {"type": type_, "message": message}}


CASES: dict[str, dict[str, Any]] = {
    # Suspended in the middle of a loop, inside try/finally, with a closure over a counter.
    "loop_of_tasks": {
        "source": """
let calls = 0;
const add = (acc, x) => { calls += 1; return acc + x; };
let total = 0;
const log = [];
for (const n of Inputs.numbers) {
  try {
    const r = await Task.run("square", { n });
    total = add(total, r.value);
  } finally {
    log.push(n);
  }
}
return { total, calls, log };
""",
        "inputs": {"numbers": [1, 2, 3]},
        "before": [{1: done({"value": 1})}],
        "after": [{2: done({"value": 4})}, {3: done({"value": 9})}],
        "expected": done({"total": 14, "calls": 3, "log": [1, 2, 3]}),
    },
    # Suspended at a race between a signal with a timeout and a timer; the signal times out.
    "race_and_signal_timeout": {
        "source": """
const shared = { seen: [] };
const holder = [shared, shared];
const started = Task.run("prepare", {});
const winner = await Promise.race([Signal.when("go", { timeout: "1h" }), Timer.delay(7200)]);
holder[0].seen.push("after-race");
let outcome;
try {
  outcome = await Signal.when("go", { timeout: 60 });
} catch (e) {
  outcome = e.type;
}
const prepared = await started;
return { winner, outcome, prepared, same: holder[1].seen.length, random: Math.random() < 1 };
""",
        "inputs": {},
        "before": [],
        "after": [
            {1: done("ready"), 2: done({"go": True})},
            {5: failed("Timeout", "no signal 'go' arrived within 60 seconds")},
        ],
        "expected": done(
            {
                "winner": {"go": True},
                "outcome": "Timeout",
                "prepared": "ready",
                "same": 1,
                "random": True,
            }
        ),
    },
    # Suspended on a child workflow inside a catch block, after a failed task.
    "child_in_catch": {
        "source": """
const order = Inputs.order;
try {
  await Task.run("charge", { id: order.id, amount: order.amount });
  return "charged";
} catch (err) {
  const refund = await Workflow.run("compensate", { id: order.id, reason: err.type });
  const [a, b] = await Promise.all([Timer.delay(1), Task.run("notify", { refund })]);
  return { refund, b, task: err.task, type: err.type };
}
""",
        "inputs": {"order": {"id": "o-7", "amount": 42}},
        "before": [{1: failed("CardDeclined", "no funds")}],
        "after": [{2: done({"refunded": 42})}, {3: done(None), 4: done("sent")}],
        "expected": done(
            {"refund": {"refunded": 42}, "b": "sent", "task": "charge", "type": "CardDeclined"}
        ),
    },
}


def write(name: str, case: dict[str, Any]) -> None:
    wf = compile_source(case["source"], f"{name}.flow")
    step = vm.start(wf, case["inputs"], CONTEXT)
    for results in case["before"]:
        step = vm.resume(wf, step.state, results, CONTEXT)  # type: ignore[arg-type]
    assert step.status == "suspended", (name, step.error)
    golden = {
        "source": case["source"],
        "inputs": case["inputs"],
        "context": CONTEXT,
        "state": step.state,
        "after": [{str(k): v for k, v in results.items()} for results in case["after"]],
        "expected": case["expected"],
    }
    (HERE / f"{name}.json").write_text(json.dumps(golden, indent=1, allow_nan=False) + "\n")
    print(f"wrote {name}.json")


if __name__ == "__main__":
    wanted = sys.argv[1:] or list(CASES)
    for name in wanted:
        write(name, CASES[name])
