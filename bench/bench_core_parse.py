"""Parse + check time of a realistic 2,000-line .flow file (rhythm.core's front end).

Usage: uv run --all-packages python bench/bench_core_parse.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import time

from rhythm.core.analysis import analyze
from rhythm.core.checker import check
from rhythm.core.formatter import format_source
from rhythm.core.parser import parse

CHUNK = """// step {i}: fetch, transform and store a batch
const batch{i} = await Task.run("fetch-batch", {{ page: {i}, size: Inputs.size ?? 100 }})
let total{i} = 0
for (const item of batch{i}.items) {{
  if (item.skip) continue
  total{i} += item.price * (item.qty ?? 1)
}}
const names{i} = batch{i}.items.map(x => x.name.trim().toUpperCase()).filter(n => n.length > 0)
const {{ id: id{i}, meta: {{ tags: tags{i} = [] }} = {{}}, ...rest{i} }} = batch{i}
let attempts{i} = 0
while (attempts{i} < 3) {{
  try {{
    await Task.run("store", {{ id: id{i}, total: total{i}, names: names{i}, tags: tags{i}, rest: rest{i} }})
    break
  }} catch (err) {{
    attempts{i}++
    if (attempts{i} >= 3) throw err
    await Timer.delay(2 ** attempts{i})
  }} finally {{
    total{i} = Math.round(total{i} * 100) / 100
  }}
}}
const label{i} = total{i} > 1_000 ? `big ${{id{i}}}: ${{total{i}.toFixed(2)}}` : "small"
for (let k = 0; k < names{i}.length; k++) {{ names{i}[k] = `${{label{i}}}-${{k}}` }}
"""


def make_source(lines: int = 2000) -> str:
    parts: list[str] = []
    count = 0
    i = 0
    while count < lines:
        chunk = CHUNK.format(i=i)
        parts.append(chunk)
        count += chunk.count("\n")
        i += 1
    parts.append("return { done: true }\n")
    return "".join(parts)


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    source = make_source()
    lines = source.count("\n")
    result = analyze(source)
    assert not result.has_errors, [d.format("bench") for d in result.diagnostics[:5]]
    parsed = parse(source)
    rows = [
        ("parse", lambda: parse(source)),
        ("check (on a parsed tree)", lambda: check(parsed.program)),
        ("parse + check (analyze)", lambda: analyze(source)),
        ("format", lambda: format_source(source)),
    ]
    print(f"{lines} lines, {len(source):,} characters, {len(parsed.tokens):,} tokens")
    for name, fn in rows:
        best, median = timed(fn, args.runs)
        print(f"  {name:28s} best {best * 1000:8.1f} ms   median {median * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
