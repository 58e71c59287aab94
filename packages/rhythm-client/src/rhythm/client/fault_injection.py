"""Tools for fault tests: a private Postgres cluster a test may stop, restart or crash. (The TCP
proxy that drops replies, black-holes or delays traffic is rhythm.worker.testing.FaultProxy.)

Only ever restart a server you started yourself: PrivatePostgres runs its own cluster in a
temporary folder on a free port (never the shared server on 5432) and removes it on close()."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DEBIAN_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_bin_dir() -> Path:
    """pgserver's bundled binaries, else Debian's Postgres 15."""
    with contextlib.suppress(ImportError):
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin"
        if (bundled / "pg_ctl").exists():
            return bundled
    if (DEBIAN_BIN / "pg_ctl").exists():
        return DEBIAN_BIN
    raise RuntimeError("no Postgres binaries found (pgserver or /usr/lib/postgresql/15/bin)")


def _server_user() -> str | None:
    """initdb and postgres refuse to run as root: then run them as a system user that exists."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "pgserver"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root and no 'postgres' or 'pgserver' user to run Postgres as")


class PrivatePostgres:
    """A throwaway cluster listening on 127.0.0.1:<free port>, trust authentication, no fsync.
    `bin_dir`: the Postgres binaries to use (default: postgres_bin_dir())."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin = bin_dir or postgres_bin_dir()
        self.user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="rhythm-private-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, program: str, *args: str, timeout: float = 60) -> None:
        result = subprocess.run(
            [str(self.bin / program), *args],
            user=self.user,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stderr.strip() or result.stdout}")

    def _ctl(self, action: str, *args: str) -> None:
        self._pg("pg_ctl", action, "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.folder} -c fsync=off"
        )
        self._ctl("start", "-l", str(self.folder / "log"), "-o", options)
        return self

    def stop(self, mode: str = "fast") -> None:
        """mode: smart, fast (disconnect clients cleanly) or immediate (like a crash)."""
        self._ctl("stop", "-m", mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
