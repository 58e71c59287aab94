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

from rhythm.core import stdlib
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
    assert re.search(r"^# pass [1-9]\d*$", output, re.M), output[-3000:]
    assert re.search(r"^# fail 0$", output, re.M), output[-3000:]


# What the grammar must say about each token of rhythm.core's own lexer: an oracle independent of the
# grammar, so the examples are checked token by token whatever they contain now or later.
_TOKEN_SCOPES = {
    **dict.fromkeys(["LET", "CONST"], "storage.type"),
    **dict.fromkeys(["IF", "ELSE"], "keyword.control.conditional"),
    **dict.fromkeys(["FOR", "WHILE", "DO", "BREAK", "CONTINUE"], "keyword.control.loop"),
    **dict.fromkeys(["RETURN", "THROW"], "keyword.control.flow"),
    **dict.fromkeys(["TRY", "CATCH", "FINALLY"], "keyword.control.trycatch"),
    "AWAIT": "keyword.control.await",
    "TYPEOF": "keyword.operator.expression.typeof",
    "IN": "keyword.operator.expression.in",
    **dict.fromkeys(["TRUE", "FALSE"], "constant.language.boolean"),
    "NULL": "constant.language.null",
    "UNDEFINED": "constant.language.undefined",
    **dict.fromkeys(
        ["TEMPLATE_FULL", "TEMPLATE_HEAD", "TEMPLATE_MIDDLE", "TEMPLATE_TAIL"], "string.template"
    ),
    "REGEX": "string.regexp",
    "ARROW": "storage.type.function.arrow",
    "ELLIPSIS": "keyword.operator.spread",
    **dict.fromkeys(["SEQ", "SNE", "EQ", "NE"], "keyword.operator.comparison"),
    **dict.fromkeys(["LT", "LE", "GT", "GE"], "keyword.operator.relational"),
    **dict.fromkeys(["ANDAND", "OROR", "QQ", "BANG"], "keyword.operator.logical"),
    **dict.fromkeys(
        ["PLUS", "MINUS", "STAR", "SLASH", "PERCENT", "STARSTAR"], "keyword.operator.arithmetic"
    ),
    "ASSIGN": "keyword.operator.assignment",
    "ASSIGN_OP": "keyword.operator.assignment.compound",
    "INC": "keyword.operator.increment",
    "DEC": "keyword.operator.decrement",
    "QMARK": "keyword.operator.ternary",
    "DOT": "punctuation.accessor",
    "QDOT": "punctuation.accessor.optional",
    "COMMA": "punctuation.separator.comma",
    "SEMI": "punctuation.terminator.statement",
    **dict.fromkeys(["LPAR", "ARROW_LPAR", "RPAR"], "meta.brace.round"),
    **dict.fromkeys(["LSQB", "RSQB"], "meta.brace.square"),
    **dict.fromkeys(["LBRACE", "LBRACE_OBJ", "RBRACE"], "meta.brace.curly"),
}
_NAMED_CALLS = {"Task": "entity.name.function.task", "Workflow": "entity.name.function.workflow"}


def _expected_scopes(source: str) -> list[tuple[int, int, int, str]]:
    """(line index, start column, end column, scope) for the tokens and comments of a .flow file."""
    parsed = parse(source)
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", source)]

    def pieces(start: int, end: int, scope: str) -> list[tuple[int, int, int, str]]:
        # A token over several lines (a template, a block comment) is asserted line by line.
        out = []
        for index, line_start in enumerate(starts):
            line_end = starts[index + 1] if index + 1 < len(starts) else len(source)
            text_end = len(source[line_start:line_end].rstrip("\r\n")) + line_start
            lo, hi = max(start, line_start), min(end, text_end)
            if lo < hi:
                out.append((index, lo - line_start, hi - line_start, scope))
        return out

    expected = []
    for span, text in parsed.program.comments:
        kind = "comment.line.double-slash" if text.startswith("//") else "comment.block"
        expected += pieces(span.start, span.end, kind)
    tokens = [t for t in parsed.tokens if t.value != ""]
    in_template = 0
    for i, tok in enumerate(tokens):
        prev = [t.value for t in tokens[max(0, i - 4) : i]]
        scope = _TOKEN_SCOPES.get(tok.type)
        if tok.type == "NUMBER":
            radix = {"x": "hex", "o": "octal", "b": "binary"}.get(tok.value[1:2].lower(), "decimal")
            scope = f"constant.numeric.{'decimal' if tok.value[:1] != '0' else radix}"
        elif tok.type == "STRING":
            scope = "string.quoted.double" if tok.value.startswith('"') else "string.quoted.single"
        if tok.type == "NAME":
            after_dot = i > 0 and tokens[i - 1].type in ("DOT", "QDOT")
            owner = tokens[i - 2].value if after_dot and i > 1 else None
            if not after_dot and isinstance(stdlib.GLOBALS.get(tok.value), stdlib.StdObject):
                scope = "support.class.stdlib"
            elif owner in stdlib.GLOBALS and isinstance(stdlib.GLOBALS[owner], stdlib.StdObject):
                member = stdlib.GLOBALS[owner].members.get(tok.value)
                if member is not None and (i < 2 or tokens[i - 3].type not in ("DOT", "QDOT")):
                    scope = (
                        "support.function.stdlib"
                        if member.kind == "function"
                        else "support.constant.stdlib"
                    )
            elif not after_dot and tok.value in ("NaN", "Infinity"):
                scope = f"constant.language.{tok.value.lower()}"
        if (
            tok.type == "STRING"
            and len(prev) == 4
            and prev[0] in _NAMED_CALLS
            and prev[1:] == [".", "run", "("]
        ):
            expected += pieces(tok.start_pos + 1, tok.end_pos - 1, _NAMED_CALLS[prev[0]])
        if in_template and tok.type not in ("TEMPLATE_MIDDLE", "TEMPLATE_TAIL"):
            expected += pieces(tok.start_pos, tok.end_pos, "meta.template.expression")
        if scope is not None:
            expected += pieces(tok.start_pos, tok.end_pos, scope)
        in_template += {"TEMPLATE_HEAD": 1, "TEMPLATE_TAIL": -1}.get(tok.type, 0)
    return [(line, start, end, f"{scope}.rhythm-flow") for line, start, end, scope in expected]


def _grammar_test_file(name: str, source: str) -> str:
    """The source with vscode-tmgrammar-test assertions under each line, from _expected_scopes."""
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for line, start, end, scope in _expected_scopes(source):
        by_line.setdefault(line, []).append((start, end, scope))
    out = [f'// SYNTAX TEST "source.rhythm-flow" "{name}: scopes from rhythm.core\'s lexer"']
    for index, line in enumerate(source.splitlines()):
        out.append(line)
        for start, end, scope in sorted(by_line.get(index, [])):
            # An assertion line starts with `//`: column 0 is written `<-`, column 1 cannot be.
            if start == 0:
                out.append(f"// <{'-' * (end - start)} {scope}")
            elif start >= 2:
                out.append(f"//{' ' * (start - 2)}{'^' * (end - start)} {scope}")
    return "\n".join(out) + "\n"


def test_grammar_agrees_with_the_lexer_on_every_example(tmp_path: Path) -> None:
    npm = _npm()
    examples = sorted((ROOT / "examples").rglob("*.flow"))
    assert examples, "no .flow files under examples/"
    count = 0
    for example in examples:
        text = _grammar_test_file(str(example.relative_to(ROOT)), example.read_text())
        count += len(re.findall(r"^//\s*(?:\^|<-)", text, re.M))
        (tmp_path / example.name).write_text(text)
    done = _run(
        [
            npm,
            "exec",
            "--",
            "vscode-tmgrammar-test",
            "-g",
            "syntaxes/rhythm-flow.tmLanguage.json",
            f"{tmp_path}/*.flow",
        ],
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"the grammar disagrees with the lexer:\n{output[-8000:]}"
    assert output.count("run successfuly") == len(examples), output[-3000:]
    assert count > 50 * len(examples) // 2, f"only {count} assertions over {len(examples)} examples"


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


def test_npm_dependencies_are_pinned_and_the_lockfile_names_no_download_address() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text())
    for section in ("dependencies", "devDependencies"):
        for name, version in manifest[section].items():
            assert re.fullmatch(r"\d+\.\d+\.\d+", version), (
                f"{name}@{version} is not an exact version"
            )
    assert manifest["devDependencies"]["@vscode/vsce"] == "3.9.2"
    lock = json.loads((EXTENSION / "package-lock.json").read_text())
    assert not [name for name, entry in lock["packages"].items() if "resolved" in entry]
    assert "omit-lockfile-registry-resolved=true" in (EXTENSION / ".npmrc").read_text()
