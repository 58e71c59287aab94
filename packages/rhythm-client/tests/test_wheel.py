"""The rhythm-client wheel must carry the SQL files and migrate from a venv that has only the
wheels and their dependencies (no repository checkout on the path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from rhythm.client.migrations import load_migrations
from rhythm.client.testing import create_database, drop_database

ROOT = Path(__file__).resolve().parents[3]
UV = shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="uv is needed to build wheels")


def _uv(*args: str, cwd: Path) -> None:
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    result = subprocess.run([UV, *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]


def test_wheel_ships_migrations_and_migrates(postgres_admin_url: str, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    # `uv build` builds the sdist first and the wheel from it: both paths of the build hook.
    for package in ("rhythm-core", "rhythm-client"):
        _uv("build", "--package", package, "--out-dir", str(dist), cwd=ROOT)
    wheel = next(dist.glob("rhythm_client-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for migration in load_migrations():
        assert f"rhythm/client/migrations/{migration.filename}" in names
    assert not any(n.endswith("rhythm/__init__.py") for n in names), "rhythm is a namespace"

    venv = tmp_path / "venv"
    _uv("venv", "--python", os.sys.executable, str(venv), cwd=tmp_path)
    python = venv / "bin" / "python"
    _uv("pip", "install", "--python", str(python), *map(str, dist.glob("*.whl")), cwd=tmp_path)

    url = create_database(postgres_admin_url, "wheel")
    try:
        script = (
            "import sys; from rhythm.client.migrations import migrate, migrations_dir;"
            "print(migrations_dir()); print(len(migrate(sys.argv[1])))"
        )
        result = subprocess.run(
            [str(python), "-c", script, url], cwd=tmp_path, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        folder, count = result.stdout.split()
        assert "site-packages" in folder
        assert int(count) == len(load_migrations())
    finally:
        drop_database(postgres_admin_url, url)
