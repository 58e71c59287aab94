"""No password is ever shown: URLs from the flag, the environment and pyproject.toml, in every
error message (rhythm.client.redaction is the one function that masks them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from rhythm.client.cli import cli
from rhythm.client.database import connect, database_url
from rhythm.client.errors import ConfigError, DatabaseUnavailable
from rhythm.client.redaction import redact, redact_url

BAD_URLS = [
    # a misspelt parameter, libpq's own complaint
    "postgresql://app:S3cretPW@host/db?sslmod=require",
    # a '%' in the password: libpq quotes the token it cannot decode
    "postgresql://app:S3cret%PW@127.0.0.1:5432/db",
    # libpq quotes the whole URL
    "postgresql://app:S3cretPW@[::1:5432/db",
    # unreachable
    "postgresql://app:S3cretPW@127.0.0.1:1/db",
    "postgresql://app:S3cretPW@127.0.0.1:1/db?password=S3cretPW2",
    "host=127.0.0.1 port=1 user=app password=S3cretPW dbname=x",
    "host=127.0.0.1 password='S3cret PW' bogus=1",
]


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("postgresql://app:S3cretPW@host/db", "postgresql://app:***@host/db"),
        ("postgres://app:p@ss@host:5/db?x=1", "postgres://app:***@host:5/db?x=1"),
        (
            "postgresql://app@host/db?password=S3cretPW&x=1",
            "postgresql://app@host/db?password=***&x=1",
        ),
        ("host=h password=S3cretPW dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = 'S3 cret\\'PW' dbname=d", "host=h password = *** dbname=d"),
        ("postgresql://app@host/db", "postgresql://app@host/db"),
        ("postgresql://host:5432/db", "postgresql://host:5432/db"),
    ],
)
def test_redact_url_forms(text: str, shown: str) -> None:
    assert redact_url(text) == shown


def test_redact_masks_the_password_wherever_a_message_quotes_it() -> None:
    url = "postgresql://app:S3cret%25PW@h/db"
    message = 'invalid percent-encoded token: "S3cret%25PW", decoded S3cret%PW'
    assert "S3cret" not in redact(message, url)
    # a one-letter password is not hunted through ordinary text
    assert redact("a database at a host", "postgresql://u:a@h/db") == "a database at a host"


@pytest.mark.parametrize("url", BAD_URLS)
def test_library_errors_never_show_the_password(url: str) -> None:
    with pytest.raises((ConfigError, DatabaseUnavailable)) as caught:
        connect(database_url(url), connect_timeout=2)
    assert "S3cret" not in str(caught.value)


@pytest.mark.parametrize("source", ["flag", "environment", "pyproject.toml"])
@pytest.mark.parametrize("command", ["status", "migrate", "ls"])
@pytest.mark.parametrize("url", BAD_URLS)
def test_cli_never_prints_the_password(
    url: str, command: str, source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RHYTHM_DATABASE_URL", raising=False)
    args = [command]
    env: dict[str, str] = {}
    if source == "flag":
        args += ["--database-url", url]
    elif source == "environment":
        env["RHYTHM_DATABASE_URL"] = url
    else:
        quoted = url.replace("\\", "\\\\").replace('"', '\\"')
        (tmp_path / "pyproject.toml").write_text(f'[tool.rhythm]\ndatabase_url = "{quoted}"\n')
    result = CliRunner().invoke(cli, args, env=env)
    assert result.exit_code == 1, result.output
    assert "S3cret" not in result.output
    assert result.output.startswith("Error: ") and len(result.output.strip().splitlines()) == 1
    if "invalid database URL" in result.output:
        assert f"(from {source})" in result.output
