"""`rhythm-lsp` and `rhythm lsp` start the same server; both speak LSP on stdio."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from rhythm.lsp.cli import lsp_command


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return f"Content-Length: {len(body)}\r\n\r\n".encode() + body


def _session() -> bytes:
    return b"".join(
        _frame(m)
        for m in (
            {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}},
            {"jsonrpc": "2.0", "method": "initialized", "params": {}},
            {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
            {"jsonrpc": "2.0", "method": "exit"},
        )
    )


@pytest.mark.parametrize(
    "command",
    [
        [sys.executable, "-m", "rhythm.lsp"],
        ["rhythm-lsp"],
        ["rhythm", "lsp", "--log-level", "info"],
    ],
    ids=["python -m", "rhythm-lsp", "rhythm lsp"],
)
def test_commands_answer_initialize(command: list[str]) -> None:
    script = shutil.which(command[0]) if command[0] != sys.executable else sys.executable
    if script is None:
        pytest.skip(f"{command[0]} is not on PATH")
    done = subprocess.run(
        [script, *command[1:]], input=_session(), capture_output=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert '"name": "rhythm-lsp"' in out or '"name":"rhythm-lsp"' in out
    assert "completionProvider" in out and "semanticTokensProvider" in out
    assert "renameProvider" in out and "documentFormattingProvider" in out


def test_cli_help_and_bad_option() -> None:
    runner = CliRunner()
    result = runner.invoke(lsp_command, ["--help"])
    assert result.exit_code == 0 and "LSP over stdin/stdout" in result.output
    result = runner.invoke(lsp_command, ["--log-level", "loud"])
    assert result.exit_code != 0 and "loud" in result.output


def test_console_script_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "rhythm.lsp", "--version"], capture_output=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.decode().startswith("rhythm-lsp ")
