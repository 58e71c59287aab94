"""Tools for fault tests: a private Postgres cluster a test may stop, restart or crash, and a TCP
proxy on 127.0.0.1 that can pass traffic, black-hole it, or cut every connection.

Only ever restart a server you started yourself: PrivatePostgres runs its own cluster in a
temporary folder on a free port (never the shared server on 5432) and removes it on close()."""

from __future__ import annotations

import contextlib
import os
import pwd
import selectors
import shutil
import socket
import subprocess
import tempfile
import threading
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


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `blackhole()` makes it swallow every byte in both
    directions on open and new connections (their TCP stays up: a silent partition as a client
    sees it); `heal()` forwards again; `cut()` closes every open connection."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._peers: dict[socket.socket, socket.socket | None] = {}
        self._lock = threading.Lock()
        self._black = False
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="rhythm-test-proxy", daemon=True)
        self._thread.start()

    def url(self, dbname: str = "postgres", user: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://{user}{secret}@127.0.0.1:{self.port}/{dbname}"

    def blackhole(self) -> None:
        self._black = True

    def heal(self) -> None:
        self._black = False

    def cut(self) -> None:
        with self._lock:
            socks = list(self._peers)
        for sock in socks:
            self._drop(sock)

    def close(self) -> None:
        self._closed = True
        self.cut()
        self._thread.join(timeout=2)
        self._listener.close()

    def _run(self) -> None:
        while not self._closed:
            for key, _ in self._selector.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is self._listener:
                    self._accept()
                else:
                    self._pump(sock)

    def _accept(self) -> None:
        client, _ = self._listener.accept()
        upstream: socket.socket | None = None
        if not self._black:
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                return
        with self._lock:
            self._peers[client] = upstream
            self._selector.register(client, selectors.EVENT_READ, None)
            if upstream is not None:
                self._peers[upstream] = client
                self._selector.register(upstream, selectors.EVENT_READ, None)

    def _pump(self, sock: socket.socket) -> None:
        try:
            data = sock.recv(65536)
        except OSError:
            data = b""
        if not data:
            self._drop(sock)
            return
        peer = self._peers.get(sock)
        if self._black or peer is None:
            return  # swallowed
        try:
            peer.sendall(data)
        except OSError:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            peer = self._peers.pop(sock, None)
            pair = [sock] if peer is None else [sock, peer]
            if peer is not None:
                self._peers.pop(peer, None)
        for s in pair:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(s)
            with contextlib.suppress(OSError):
                s.close()
