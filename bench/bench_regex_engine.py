""".flow's regular expressions on the engine that runs them (the `regex` module, with a time
limit and the GIL released) beside Python's `re` on the very same translated pattern text: the
cost of matching in the bounded engine, for patterns a workflow typically runs on short strings,
and for two classic catastrophic patterns.

Usage: uv run --all-packages python bench/bench_regex_engine.py [--rounds N]
"""

from __future__ import annotations

import argparse
import functools
import re
import statistics
import time

from rhythm.core import regex

# (JavaScript source, flags, subject, how many times one run matches it)
TYPICAL = [
    (r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$", "", "ada.lovelace+orders@example.co.uk", 20_000),
    (r"\s+", "g", "  order   42 shipped \t to   Ada  ", 20_000),
    (r",\s*", "", "apples, pears,plums,   figs", 20_000),
    (r"(\d{4})-(\d{2})-(\d{2})", "", "due 2026-11-29 at noon", 20_000),
    (r"^inv-(?<year>\d{4})-(?<n>\d+)$", "i", "INV-2026-000123", 20_000),
]
CATASTROPHIC = [(r"(a+)+$", "a" * 24 + "!"), (r"(a|a)+$", "a" * 18 + "!")]


def run_typical(use_re: bool) -> float:
    """Seconds for every TYPICAL pattern's searches (all matches for `g`)."""
    started = time.perf_counter()
    for source, flags, subject, times in TYPICAL:
        compiled = regex.translate(source, flags).pattern
        if use_re:
            re_flags = re.ASCII | (re.IGNORECASE if "i" in flags else 0)
            search = re.compile(compiled.pattern, re_flags).search
        else:  # as rhythm.core.regexp_methods.run_match calls it
            search = functools.partial(compiled.search, timeout=2.0, concurrent=True)

        for _ in range(times):
            pos = 0
            while True:
                m = search(subject, pos)
                if m is None or "g" not in flags:
                    break
                pos = m.end() if m.end() > m.start() else m.end() + 1  # type: ignore[attr-defined]
    return time.perf_counter() - started


def run_catastrophic(source: str, subject: str, use_re: bool) -> float:
    compiled = regex.translate(source, "").pattern
    started = time.perf_counter()
    if use_re:
        re.compile(compiled.pattern, re.ASCII).search(subject)
    else:
        compiled.search(subject, timeout=60.0, concurrent=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    matches = sum(times for *_, times in TYPICAL)
    engine, plain = [], []
    for _ in range(args.rounds):  # alternated, so that the machine's load falls on both alike
        engine.append(run_typical(use_re=False))
        plain.append(run_typical(use_re=True))
    print(f"typical patterns, {matches:,} searches per round, median of {args.rounds} rounds:")
    print(f"  regex (time limit, GIL released): {statistics.median(engine) * 1e6 / matches:.2f} µs")
    print(f"  re (no limit, holds the GIL):     {statistics.median(plain) * 1e6 / matches:.2f} µs")
    for source, subject in CATASTROPHIC:
        ours = run_catastrophic(source, subject, use_re=False)
        theirs = run_catastrophic(source, subject, use_re=True)
        print(
            f"/{source}/ on {len(subject)} characters: regex {ours * 1000:,.1f} ms,"
            f" re {theirs * 1000:,.1f} ms"
        )


if __name__ == "__main__":
    main()
