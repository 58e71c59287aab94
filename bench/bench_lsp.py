"""Language server latency, incremental analysis beside the full re-analysis, through a real LSP
client over stdio.

Starts `python -m rhythm.lsp` (the same server `rhythm-lsp` runs) several times for each file size
(a generated 2,000-line and a 200-line workflow, in a workspace with a tasks file): servers with
incremental analysis (the default) and servers started with `"incremental": false` in
initializationOptions, which analyse every text from scratch and make every request wait for it
(how the server worked before). Every figure is taken from both kinds of server in the same run,
one sample from each in turn, and reported as p50/p95:

- diagnostics after an edit: from sending an incremental didChange (one character typed or
  deleted in the middle of the file) to receiving the publishDiagnostics for that version. With
  each server's default debounce (now: 15 ms after a pause, 50 ms of quiet ending a burst of
  typing, and every sampled edit follows a pause; the full re-analysis server gets the plain
  200 ms it had before) and with the debounce set to 0 (the analysis cost, plus transport);
- re-analysis of that edit, in this process: `rhythm.core.incremental.reanalyze` beside
  `rhythm.core.analysis.analyze` (all re-analyses first, then the full analyses: as in a server,
  where re-analyses follow one another without a full analysis's garbage in between);
- completion, hover and signature help on a quiet document, and right after an edit (the request
  sent just after the didChange, with the default debounce).

Prints the figures with the load average, and appends them to bench/RESULTS.md.

    uv run --all-packages python bench/bench_lsp.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from rhythm.core.analysis import analyze
from rhythm.core.incremental import analyze_units, reanalyze

TASKS = '''\
from rhythm.worker import task


@task("charge_card")
def charge_card(amount: int) -> dict:
    """Charge a card."""
    return {"total": amount}
'''


def generate_flow(lines: int = 2000) -> str:
    out = ["const results = [];"]
    i = 0
    while len(out) < lines - 1:
        out += [
            f'const a{i} = await Task.run("charge_card", {{ amount: {i} }});',
            f"let t{i} = a{i}.total + {i};",
            f"if (t{i} > 10) {{",
            f"  t{i} = Math.max(t{i}, 3);",
            "} else {",
            f"  t{i} = t{i} * 2;",
            "}",
            f"const s{i} = `item ${{t{i}}}`;",
            f"// block {i}: {s_comment(i)}",
            f"results.push({{ id: {i}, total: t{i}, label: s{i}.toUpperCase() }});",
        ]
        i += 1
    out = out[: lines - 1]
    out.append("return results;")
    return "\n".join(out) + "\n"


def s_comment(i: int) -> str:
    return "even" if i % 2 == 0 else "odd"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> tuple[float, float]:
    return statistics.median(values) * 1000, percentile(values, 0.95) * 1000


class Bench:
    """One server with one open document."""

    def __init__(
        self, root: Path, name: str, text: str, delay: float | None, incremental: bool
    ) -> None:
        """`delay`: None for the server's default debounce, else the same delay after a pause
        and in a burst (a plain debounce, as before the typing-aware one)."""
        self.root = root
        self.text = text
        self.delay = delay
        self.incremental = incremental
        self.uri = from_fs_path(str(root / name)) or ""
        self.version = 1
        self.client: LanguageClient = make_test_lsp_client()
        self.published: dict[int, float] = {}

    async def start(self) -> None:
        await self.client.start_io(sys.executable, "-m", "rhythm.lsp")
        original = self.client.protocol.fm.features.get(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            if params.version is not None:
                self.published.setdefault(params.version, time.perf_counter())
            if original is not None:
                original(params)

        self.client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = on_diagnostics

        @self.client.feature(types.CLIENT_REGISTER_CAPABILITY)
        def register(params: types.RegistrationParams) -> None:
            """The server registers file watchers; accept them."""

        options: dict[str, object] = {"incremental": self.incremental}
        if self.delay is not None:
            options["diagnosticsDelay"] = self.delay
            options["diagnosticsFirstDelay"] = self.delay
        await self.client.initialize_session(
            types.InitializeParams(
                capabilities=client_capabilities("visual-studio-code"),
                root_uri=from_fs_path(str(self.root)),
                initialization_options=options,
            )
        )
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="rhythm", version=1, text=self.text
                )
            )
        )
        await self.wait_for(1)
        for kind, points in self.points().items():  # first-use costs are not what is measured
            await self.request(kind, points[0])

    async def stop(self) -> None:
        await self.client.shutdown_session()
        await self.client.stop()

    async def wait_for(self, version: int, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while version not in self.published:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no diagnostics for version {version}")
            await asyncio.sleep(0.0005)
        return self.published[version]

    def position(self, needle: str, delta: int = 0) -> types.Position:
        offset = self.text.index(needle) + delta
        line = self.text.count("\n", 0, offset)
        return types.Position(line=line, character=offset - (self.text.rfind("\n", 0, offset) + 1))

    def change(self, line: int, insert: bool) -> None:
        """Type a space at the start of `line`, or delete it again."""
        start = types.Position(line=line, character=0)
        end = start if insert else types.Position(line=line, character=1)
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[
                    types.TextDocumentContentChangePartial(
                        range=types.Range(start=start, end=end), text=" " if insert else ""
                    )
                ],
            )
        )

    async def edit_latency(self, i: int) -> float:
        """One character typed (or deleted) in the middle of the file -> its diagnostics."""
        sent = time.perf_counter()
        self.change(self.text.count("\n") // 2, i % 2 == 0)
        return await self.wait_for(self.version) - sent

    def points(self) -> dict[str, list[types.Position]]:
        return {
            "completion": [
                self.position("Task.run", 5),  # stdlib members
                self.position("label: s0.", 10),  # string methods
                self.position("Math.max(t", 9),  # identifiers in scope
                self.position('"charge_card"', 3),  # task names
            ],
            "hover": [
                self.position("Math.max", 6),  # a stdlib member
                self.position("t0 > 10", 1),  # a variable
                self.position('"charge_card"', 3),  # a task name
            ],
            "signature help": [self.position("Math.max(t0, 3)", 13)],
        }

    async def request(self, kind: str, position: types.Position) -> None:
        doc = types.TextDocumentIdentifier(uri=self.uri)
        if kind == "completion":
            await self.client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=position)
            )
        elif kind == "hover":
            await self.client.text_document_hover_async(
                types.HoverParams(text_document=doc, position=position)
            )
        else:
            await self.client.text_document_signature_help_async(
                types.SignatureHelpParams(text_document=doc, position=position)
            )

    async def request_latency(self, kind: str, i: int) -> float:
        points = self.points()[kind]
        sent = time.perf_counter()
        await self.request(kind, points[i % len(points)])
        return time.perf_counter() - sent

    async def request_after_edit_latency(self, kind: str, i: int) -> float:
        """Type a character (a third of the way down), then ask at once."""
        points = self.points()[kind]
        self.change(self.text.count("\n") // 3, i % 2 == 0)
        sent = time.perf_counter()
        await self.request(kind, points[i % len(points)])
        elapsed = time.perf_counter() - sent
        await self.wait_for(self.version)  # the next sample starts from a checked document
        return elapsed


def reanalysis_latency(text: str, rounds: int) -> tuple[list[float], list[float]]:
    """One character typed or deleted in the middle: reanalyze() rounds, then analyze() rounds.
    Not interleaved: in the server only re-analyses follow one another, and a full analysis in
    between would leave its garbage to be collected during the next re-analysis."""
    middle = text.index("\n", len(text) // 2) + 1
    edited = text[:middle] + " " + text[middle:]
    current = analyze_units(text)
    incremental: list[float] = []
    full: list[float] = []
    for i in range(rounds):
        new = edited if i % 2 == 0 else text
        started = time.perf_counter()
        result = reanalyze(current, new)
        incremental.append(time.perf_counter() - started)
        assert result is not None
        current = result
    del current
    for i in range(rounds):
        new = edited if i % 2 == 0 else text
        started = time.perf_counter()
        analyze(new)
        full.append(time.perf_counter() - started)
    return incremental, full


Sample = Callable[[Bench, int], Awaitable[float]]


async def side_by_side(
    now: Bench, before: Bench, sample: Sample, rounds: int
) -> tuple[list[float], list[float]]:
    """`rounds` samples from each server, taken in turn."""
    a: list[float] = []
    b: list[float] = []
    for i in range(rounds):
        a.append(await sample(now, i))
        b.append(await sample(before, i))
    return a, b


Row = tuple[str, float, float, float, float]  # name, p50, p95 now, p50, p95 before


def row(name: str, now: list[float], before: list[float]) -> Row:
    return (name, *summary(now), *summary(before))


async def measure(root: Path, name: str, text: str, rounds: int) -> list[Row]:
    (root / name).write_text(text)
    servers = {
        (incremental, debounced): Bench(
            root,
            name,
            text,
            None if debounced and incremental else (0.2 if debounced else 0.0),
            incremental,
        )
        for incremental in (True, False)
        for debounced in (True, False)
    }
    for bench in servers.values():
        await bench.start()
    rows: list[Row] = []
    try:
        for debounced, label in (
            (True, "default debounce: 15 ms after a pause; before, 200 ms"),
            (False, "no debounce"),
        ):
            now, before = servers[True, debounced], servers[False, debounced]
            rows.append(
                row(
                    f"diagnostics after an edit ({label})",
                    *await side_by_side(now, before, Bench.edit_latency, rounds),
                )
            )
        now, before = servers[True, False], servers[False, False]
        for kind in ("completion", "hover", "signature help"):

            async def quiet(bench: Bench, i: int, kind: str = kind) -> float:
                return await bench.request_latency(kind, i)

            rows.append(row(kind, *await side_by_side(now, before, quiet, rounds)))
        now, before = servers[True, True], servers[False, True]
        for kind in ("completion", "hover", "signature help"):

            async def after_edit(bench: Bench, i: int, kind: str = kind) -> float:
                return await bench.request_after_edit_latency(kind, i)

            rows.append(
                row(
                    f"{kind} right after an edit",
                    *await side_by_side(now, before, after_edit, rounds),
                )
            )
    finally:
        for bench in servers.values():
            await bench.stop()
    rows.insert(
        2,
        row("re-analysis of a one-character edit (in process)", *reanalysis_latency(text, rounds)),
    )
    return rows


async def run(rounds: int) -> dict[str, list[Row]]:
    results: dict[str, list[Row]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "tasks.py").write_text(TASKS)
        for lines in (2000, 200):
            text = generate_flow(lines)
            assert text.count("\n") == lines
            results[f"{lines:,}-line file"] = await measure(root, f"w{lines}.flow", text, rounds)
    return results


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def machine() -> str:
    return (
        f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    ).replace("  ", " ")


def table(results: dict[str, list[Row]]) -> list[str]:
    lines = []
    for title, rows in results.items():
        lines += [
            f"**{title}**",
            "",
            "| measurement | p50 (ms) | p95 (ms) | before: p50 | before: p95 |",
            "|---|---:|---:|---:|---:|",
            *[f"| {n} | {a:.1f} | {b:.1f} | {c:.1f} | {d:.1f} |" for n, a, b, c, d in rows],
            "",
        ]
    return lines


def record(results: dict[str, list[Row]], rounds: int, loads: tuple[str, str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        "## Language server: incremental analysis",
        "",
        f"{stamp} — {machine()}. `bench/bench_lsp.py --rounds {rounds}`: `python -m rhythm.lsp` "
        'driven over stdio by pytest-lsp\'s client; "before" is the same server started with '
        '`"incremental": false` (every text analysed from scratch, every request waiting for it, '
        "the old plain 200 ms debounce), sampled in turn with the incremental one in the same run. "
        f"Load average (1 / 5 / 15 min) at the start: {loads[0]}; at the end: {loads[1]}.",
        "",
        *table(results),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    started = load()
    results = asyncio.run(run(args.rounds))
    loads = (started, load())
    print(f"load average at the start: {loads[0]}; at the end: {loads[1]}")
    print("\n".join(table(results)))
    if not args.no_record:
        results_file = Path(__file__).with_name("RESULTS.md")
        with results_file.open("a", encoding="utf-8") as out:
            out.write(record(results, args.rounds, loads))
        print(f"appended to {results_file}")


if __name__ == "__main__":
    main()
