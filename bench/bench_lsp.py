"""Language server latency on a 2,000-line .flow file, measured through a real LSP client over stdio.

Starts `python -m rhythm.lsp` (the same server `rhythm-lsp` runs), opens a generated 2,000-line
workflow in a workspace with a tasks file, and measures p50/p95 of:

- diagnostics after an edit: from sending an incremental didChange to receiving the
  publishDiagnostics for that version. Measured twice: with the server's default debounce (what an
  editor sees) and with the debounce set to 0 through initializationOptions (the analysis cost);
- completion (after `Task.`, after a string variable's `.`, on a bare identifier, inside
  `Task.run("`);
- hover (a stdlib member, a variable, a task name).

Prints the figures and appends them to bench/RESULTS.md under "Language server".

    uv run --all-packages python bench/bench_lsp.py [--rounds 60]
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
from datetime import UTC, datetime
from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

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
    def __init__(self, root: Path, text: str, delay: float | None) -> None:
        self.root = root
        self.text = text
        self.delay = delay
        self.uri = from_fs_path(str(root / "big.flow")) or ""
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

        options = {"diagnosticsDelay": self.delay} if self.delay is not None else None
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

    async def edit_latency(self, rounds: int) -> list[float]:
        """Type and delete a character in the middle of the file; time until diagnostics."""
        samples = []
        line = self.text.count("\n") // 2
        for i in range(rounds):
            insert = i % 2 == 0
            start = types.Position(line=line, character=0)
            end = start if insert else types.Position(line=line, character=1)
            self.version += 1
            sent = time.perf_counter()
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
            received = await self.wait_for(self.version)
            samples.append(received - sent)
        return samples

    async def completion_latency(self, rounds: int) -> list[float]:
        doc = types.TextDocumentIdentifier(uri=self.uri)
        points = [
            self.position("Task.run", 5),  # stdlib members
            self.position("label: s0.", 10),  # string methods
            self.position("Math.max(t", 9),  # identifiers in scope
            self.position('"charge_card"', 3),  # task names
        ]
        samples = []
        for i in range(rounds):
            sent = time.perf_counter()
            await self.client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=points[i % len(points)])
            )
            samples.append(time.perf_counter() - sent)
        return samples

    async def completion_after_edit_latency(self, rounds: int) -> list[float]:
        """Type a character, then ask for completion at once (before any debounced check)."""
        doc = types.TextDocumentIdentifier(uri=self.uri)
        line = self.text.count("\n") // 3
        samples = []
        for i in range(rounds):
            insert = i % 2 == 0
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
            sent = time.perf_counter()
            await self.client.text_document_completion_async(
                types.CompletionParams(text_document=doc, position=self.position("Task.run", 5))
            )
            samples.append(time.perf_counter() - sent)
            await self.wait_for(self.version)
        return samples

    async def hover_latency(self, rounds: int) -> list[float]:
        doc = types.TextDocumentIdentifier(uri=self.uri)
        points = [
            self.position("Math.max", 6),  # a stdlib member
            self.position("t0 > 10", 1),  # a variable
            self.position('"charge_card"', 3),  # a task name
        ]
        samples = []
        for i in range(rounds):
            sent = time.perf_counter()
            await self.client.text_document_hover_async(
                types.HoverParams(text_document=doc, position=points[i % len(points)])
            )
            samples.append(time.perf_counter() - sent)
        return samples


async def run(rounds: int) -> list[tuple[str, float, float]]:
    text = generate_flow()
    assert text.count("\n") == 2000
    rows: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "tasks.py").write_text(TASKS)
        (root / "big.flow").write_text(text)

        for label, delay in (("default debounce", None), ("no debounce", 0.0)):
            bench = Bench(root, text, delay)
            await bench.start()
            try:
                samples = await bench.edit_latency(rounds)
                rows.append((f"diagnostics after an edit ({label})", *summary(samples)))
                if delay is None:
                    continue
                rows.append(("completion", *summary(await bench.completion_latency(rounds))))
                rows.append(
                    (
                        "completion right after an edit (re-analyses the file)",
                        *summary(await bench.completion_after_edit_latency(rounds)),
                    )
                )
                rows.append(("hover", *summary(await bench.hover_latency(rounds))))
            finally:
                await bench.stop()
    return rows


def machine() -> str:
    return (
        f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    ).replace("  ", " ")


def record(rows: list[tuple[str, float, float]], rounds: int) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "",
        "## Language server",
        "",
        f"{stamp} — {machine()}. `bench/bench_lsp.py --rounds {rounds}`: a 2,000-line .flow file, "
        "`python -m rhythm.lsp` driven over stdio by pytest-lsp's client.",
        "",
        "| measurement | p50 (ms) | p95 (ms) |",
        "|---|---:|---:|",
        *[f"| {name} | {p50:.1f} | {p95:.1f} |" for name, p50, p95 in rows],
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    rows = asyncio.run(run(args.rounds))
    print(f"{'measurement':<50} {'p50 ms':>8} {'p95 ms':>8}")
    for name, p50, p95 in rows:
        print(f"{name:<50} {p50:8.1f} {p95:8.1f}")
    if not args.no_record:
        results = Path(__file__).with_name("RESULTS.md")
        if not results.exists():
            results.write_text("# Benchmark results\n", encoding="utf-8")
        with results.open("a", encoding="utf-8") as out:
            out.write(record(rows, args.rounds))
        print(f"appended to {results}")


if __name__ == "__main__":
    main()
