"""The VS Code extension (editors/vscode) under the repository's test command.

Runs the extension's own checks as subprocesses and fails when they fail: the TypeScript type check
and esbuild bundle, the unit tests of server discovery and Run Workflow (node's test runner), the
TextMate grammar tests (vscode-tmgrammar-test, on the repository's examples too), `npm run package`
(the .vsix), and the end-to-end test in code-server driven through headless Chromium. Missing Node,
npm packages, code-server or Chromium skip the affected tests with a message; `.ci/run` installs them.
The snippets are checked here too: each expands to .flow code that rhythm.core parses and checks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from rhythm.core.checker import check
from rhythm.core.diagnostics import Severity
from rhythm.core.parser import parse

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
E2E_OUTPUT = EXTENSION / "test-output" / "e2e"
SKIPPED = 77  # test/e2e/run.mjs's exit code when code-server or Chromium is missing


def _npm() -> str:
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip(
            "node/npm are not installed: the VS Code extension's tests need Node 20 (.ci/run installs it)"
        )
    if not (EXTENSION / "node_modules" / ".bin" / "esbuild").exists():
        pytest.skip(
            "editors/vscode/node_modules is missing: run `npm ci` in editors/vscode (as .ci/run does)"
        )
    return npm


def _run(
    args: list[str], timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=EXTENSION,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def _npm_script(script: str, timeout: float = 300) -> str:
    done = _run([_npm(), "run", script], timeout)
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"`npm run {script}` failed ({done.returncode}):\n{output[-6000:]}"
    return output


def test_typescript_type_checks() -> None:
    _npm_script("typecheck")


def test_unit_tests_of_server_discovery_and_run_workflow() -> None:
    output = _npm_script("test:unit")
    assert re.search(r"^# pass [1-9]\d*$", output, re.M), output[-3000:]
    assert re.search(r"^# fail 0$", output, re.M), output[-3000:]


def test_grammar_tests_cover_every_token_class_and_the_examples() -> None:
    output = _npm_script("test:grammar")
    assert "tokens.flow run successfuly" in output, output[-3000:]
    assert "orders-order.flow run successfuly" in output, output[-3000:]
    assert re.search(r"^# fail 0$", output, re.M), output[-3000:]


@pytest.fixture(scope="module")
def vsix() -> Path:
    """`npm run package`: the bundle and the .vsix, built once for this module."""
    _npm_script("package", timeout=600)
    version = json.loads((EXTENSION / "package.json").read_text())["version"]
    path = EXTENSION / f"rhythm-flow-{version}.vsix"
    assert path.exists(), f"`npm run package` did not write {path}"
    return path


def test_package_builds_a_vsix_with_everything_the_extension_loads(vsix: Path) -> None:
    with zipfile.ZipFile(vsix) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("extension/package.json"))
    for needed in (
        "extension/package.json",
        "extension/out/extension.js",
        "extension/language-configuration.json",
        "extension/syntaxes/rhythm-flow.tmLanguage.json",
        "extension/snippets/rhythm-flow.code-snippets",
        "extension/readme.md",
    ):
        assert needed in names, f"{needed} is missing from {vsix.name}: {sorted(names)}"
    assert not any("/node_modules/" in n or n.startswith("extension/src/") for n in names), sorted(
        names
    )
    commands = {c["command"] for c in manifest["contributes"]["commands"]}
    assert {"rhythm.restartServer", "rhythm.runWorkflow"} <= commands
    settings = set(manifest["contributes"]["configuration"]["properties"])
    assert settings == {"rhythm.server.path", "rhythm.server.args", "rhythm.trace.server"}


def test_in_code_server_and_chromium_end_to_end(vsix: Path) -> None:
    """Colouring, a rhythm-lsp diagnostic and task-name completion in a real editor in a real browser."""
    done = _run(
        ["node", "test/e2e/run.mjs"],
        timeout=600,
        env={**os.environ, "RHYTHM_E2E_OUTPUT": str(E2E_OUTPUT)},
    )
    output = done.stdout + done.stderr
    if done.returncode == SKIPPED:
        pytest.skip(output.strip().splitlines()[-1])
    assert done.returncode == 0, f"the end-to-end test failed:\n{output[-8000:]}"
    assert (E2E_OUTPUT / "rhythm-flow.png").stat().st_size > 10_000
    assert "PASSED" in output


def _expand(body: str) -> str:
    """A snippet body as the text VS Code inserts when every placeholder keeps its default."""
    defaults: dict[str, str] = {}

    def keep_default(match: re.Match[str]) -> str:
        defaults.setdefault(match[1], match[2])
        return match[2]

    previous = None
    while previous != body:  # innermost first: `${4:return { status: "x" \\}}` nests braces
        previous = body
        body = re.sub(r"\$\{(\d+):((?:[^}\\$]|\\.|\$(?!\{))*)\}", keep_default, body)
    # `$1` repeats placeholder 1's text; `${3}` and `$0` are empty tab stops.
    body = re.sub(r"\$\{(\d+)\}|\$(\d+)", lambda m: defaults.get(m[1] or m[2], ""), body)
    return body.replace("\\}", "}").replace("\\{", "{").replace("\\$", "$")


def test_snippets_expand_to_flow_code_that_parses_and_checks() -> None:
    snippets = json.loads((EXTENSION / "snippets" / "rhythm-flow.code-snippets").read_text())
    assert {"Task call", "Signal with timeout", "Try / catch", "Fan-out with Promise.all"} <= set(
        snippets
    )
    for name, snippet in snippets.items():
        text = _expand("\n".join(snippet["body"]))
        # Names the snippets leave for the user to fill in are declared so the checker can see them.
        source = "const items = Inputs.items ?? []\nconst item = 1\n" + text + "\nreturn null\n"
        parsed = parse(source)
        errors = [
            d for d in parsed.diagnostics + check(parsed.program) if d.severity is Severity.ERROR
        ]
        assert not errors, f"snippet {name!r} expands to invalid .flow:\n{source}\n" + "\n".join(
            d.format("snippet") for d in errors
        )
