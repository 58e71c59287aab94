"""The examples keep working: examples/orders/run.py end to end on a real Postgres."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def test_orders_example_runs_end_to_end_and_is_idempotent(migrated_url: str) -> None:
    env = dict(os.environ, RHYTHM_DATABASE_URL=migrated_url)
    runs = [
        subprocess.run(
            [sys.executable, str(EXAMPLES / "orders" / "run.py")],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(2)
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
        schema, *lines = run.stdout.splitlines()
        assert schema == "schema: up to date"  # the fixture migrated it already
        assert lines[0].startswith("o-1: charge-card completed: {'amount': 25.0, 'receipt': ")
        assert lines[1] == "o-2: charge-card failed: amount 1500.00 is over the card limit"
        assert lines[2].startswith("o-3: charge-card completed: {'amount': 99.5, 'receipt': ")
    # The second run found the first run's executions by idempotency key: nothing ran twice.
    assert runs[0].stdout == runs[1].stdout
    with psycopg.connect(migrated_url) as conn:
        rows = conn.execute(
            "SELECT idempotency_key, attempt FROM rhythm.executions ORDER BY idempotency_key"
        ).fetchall()
    assert rows == [("charge-o-1", 1), ("charge-o-2", 1), ("charge-o-3", 1)]
