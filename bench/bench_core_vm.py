"""VM speed and snapshot cost of rhythm.core.

1. Instructions per second on a loop-heavy workflow (arithmetic, array and object access, calls of
   arrows, string building), next to the same loop in plain CPython as the peer.
2. The cost of one snapshot round trip for a realistic state (a few hundred orders held in
   variables, closures, nested scopes, pending handles): dump the state to JSON text, load it, and
   resume a fresh VM from it.

Usage: uv run --all-packages python bench/bench_core_vm.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from rhythm.core import vm
from rhythm.core.compiler import compile_source

LOOP = """
const prices = [];
for (let i = 0; i < 200; i++) prices.push({ id: i, price: (i * 7) % 13 + 0.5 });
const tax = (x) => x * 1.2;
let total = 0;
let text = "";
for (let round = 0; round < 60; round++) {
  for (const p of prices) {
    if (p.price > 3) {
      total += tax(p.price);
    } else {
      total -= p.price / 2;
    }
  }
  text = `${round}:${Math.round(total)}`;
}
return [total, text];
"""


def python_peer() -> tuple[float, str]:
    prices = [{"id": i, "price": (i * 7) % 13 + 0.5} for i in range(200)]

    def tax(x: float) -> float:
        return x * 1.2

    total = 0.0
    text = ""
    for rnd in range(60):
        for p in prices:
            if p["price"] > 3:
                total += tax(p["price"])
            else:
                total -= p["price"] / 2
        text = f"{rnd}:{round(total)}"
    return total, text


STATEFUL = """
const orders = [];
for (let i = 0; i < Inputs.orders; i++) {
  orders.push({
    id: `order-${i}`,
    customer: { id: i % 17, name: "Customer " + (i % 17), tags: ["a", "b"] },
    items: [{ sku: "x" + i, qty: 1 + (i % 3), price: 9.99 }, { sku: "y" + i, qty: 2, price: 1.5 }],
  });
}
const byCustomer = {};
for (const o of orders) {
  (byCustomer[o.customer.id] ??= []).push(o);
}
const pricer = (o) => o.items.reduce((s, it) => s + it.qty * it.price, 0);
const pending = orders.slice(0, 20).map(o => Task.run("charge", { id: o.id, amount: pricer(o) }));
let charged = 0;
for (const h of pending) {
  try {
    const r = await h;
    charged += r.amount;
  } finally {
    charged += 0;
  }
}
return [charged, Object.keys(byCustomer).length];
"""


def bench_speed(runs: int) -> None:
    wf = compile_source(LOOP)
    rates = []
    counts = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        step = vm.start(wf, {}, {"now": 0}, budget=10_000_000)
        dt = time.perf_counter() - t0
        assert step.status == "completed", step.error
        counts = step.instructions
        rates.append(step.instructions / dt)
    t0 = time.perf_counter()
    for _ in range(runs):
        python_peer()
    peer = (time.perf_counter() - t0) / runs
    med = statistics.median(rates)
    print(
        f"VM: {counts:,} instructions per run, median {med:,.0f} instructions/s "
        f"({counts / med * 1000:.1f} ms per run)"
    )
    print(
        f"peer: the same loop in plain CPython takes {peer * 1000:.2f} ms "
        f"({counts / med / peer:.0f}x faster than the VM)"
    )


def bench_snapshot(runs: int) -> None:
    wf = compile_source(STATEFUL)
    step = vm.start(wf, {"orders": 300}, {"now": 0})
    assert step.status == "suspended", step.error
    state = step.state
    assert state is not None
    dumps, loads, resumes = [], [], []
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        text = json.dumps(state, separators=(",", ":"))
        t1 = time.perf_counter()
        loaded = json.loads(text)
        t2 = time.perf_counter()
        nxt = vm.resume(
            wf, loaded, {step.waiting_on[0]: {"status": "completed", "output": {"amount": 1}}}
        )
        t3 = time.perf_counter()
        assert nxt.status == "suspended", nxt.error
        size = len(text)
        dumps.append(t1 - t0)
        loads.append(t2 - t1)
        resumes.append(t3 - t2)
    d, lo, r = (statistics.median(x) * 1000 for x in (dumps, loads, resumes))
    print(f"snapshot: state of {size / 1024:.0f} KiB JSON ({len(state['heap'])} heap objects)")
    print(
        f"  json.dumps {d:.2f} ms, json.loads {lo:.2f} ms, resume (decode + run to the next "
        f"await + encode) {r:.2f} ms; round trip {d + lo + r:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    bench_speed(args.runs)
    bench_snapshot(args.runs)


if __name__ == "__main__":
    main()
