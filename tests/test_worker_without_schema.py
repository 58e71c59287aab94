"""`rhythm worker` on a database without Rhythm's schema: one line saying to run
`rhythm migrate`, exit status 1, instead of a worker that starts and logs warnings forever."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rhythm.client.testing import create_database, drop_database

HERE = Path(__file__).parent


def test_worker_on_an_empty_database_says_to_migrate(postgres_admin_url: str) -> None:
    url = create_database(postgres_admin_url, "no_schema")
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
        env["PYTHONPATH"] = str(HERE)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "rhythm.client.cli",
                "worker",
                "--app",
                "queue_app",
                *["--database-url", url],
            ],
            cwd=HERE,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        drop_database(postgres_admin_url, url)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: the database at ")
    assert lines[0].endswith("has no Rhythm schema: run `rhythm migrate` first"), lines[0]
    assert "Traceback" not in result.stderr
