"""Helpers for tests that drive real `rhythm worker` processes, as a user or an operator would,
and a fault-injecting TCP proxy to put between a worker and Postgres (FaultProxy).

    procs = WorkerProcesses(database_url, app="queue_app", app_dir=tests_dir, log_dir=tmp_path)
    proc = procs.start("-q", "slow", env={"RHYTHM_FAILPOINT": "task-after-run"})
    ...
    procs.stop_all()

Each process logs to its own file (`proc.log_path`); start() returns once it logged "ready:"."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


class WorkerProcess:
    """One `rhythm worker` subprocess and its log file."""

    def __init__(self, popen: subprocess.Popen[bytes], log_path: Path) -> None:
        self.popen = popen
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def poll(self) -> int | None:
        return self.popen.poll()

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout)

    def signal(self, sig: int = signal.SIGTERM) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)


class WorkerProcesses:
    """Starts `rhythm worker --app APP` processes; stop_all() kills whichever still run."""

    def __init__(
        self,
        database_url: str,
        app: str,
        app_dir: Path,
        log_dir: Path,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.app = app
        self.app_dir = app_dir
        self.log_dir = log_dir
        self.env = dict(env or {})
        self.started: list[WorkerProcess] = []

    def start(
        self,
        *args: str,
        env: Mapping[str, str] | None = None,
        database_url: str | None = None,
        ready_timeout: float = 30.0,
    ) -> WorkerProcess:
        log_path = self.log_dir / f"worker-{len(self.started)}.log"
        # RHYTHM_* of the test runner's environment must not leak in (failpoints, URLs).
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("RHYTHM_")}
        full_env["PYTHONPATH"] = str(self.app_dir)
        full_env.update(self.env)
        full_env.update(env or {})
        command = [
            sys.executable,
            "-m",
            "rhythm.client.cli",
            "worker",
            "--app",
            self.app,
            "--database-url",
            database_url or self.database_url,
            "--poll-interval",
            "0.2",
            *args,
        ]
        with open(log_path, "wb") as log_file:
            popen = subprocess.Popen(
                command,
                cwd=self.app_dir,
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=log_file,
            )
        proc = WorkerProcess(popen, log_path)
        self.started.append(proc)
        deadline = time.monotonic() + ready_timeout
        while "ready:" not in proc.log():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{proc.log()}")
            time.sleep(0.05)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.popen.kill()
        for proc in self.started:
            proc.popen.wait(10)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` every 50 ms; AssertionError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class FaultProxy:
    """A TCP proxy from 127.0.0.1:<port> to a Postgres server, for fault tests, that can:

    - `drop_reply_to(marker)`: forward the next request containing `marker` (a piece of SQL),
      then throw the server's reply away and close both sides: the server did the work (and,
      in autocommit, committed it) but the client never hears of it. A statement prepared in
      a request of its own (Parse, no Execute: the worker prepares its statements) is not run
      by that request: the reply dropped is then the one to its first execution (a Bind naming
      it, on the same connection);
    - `blackhole()` / `heal()`: swallow every byte both ways, new connections included, while
      every TCP connection stays up (a silent partition, as a client sees it);
    - `delay(seconds)`: hold every chunk this long before passing it on;
    - `cut()`: close every open connection.

    It runs its own asyncio loop in a daemon thread and only ever listens on 127.0.0.1."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._black = False
        self._delay = 0.0
        self._markers: list[bytes] = []
        self.dropped = 0  # replies thrown away so far
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="rhythm-fault-proxy", daemon=True
        )
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.port = int(self._server.sockets[0].getsockname()[1])

    def url(self, dbname: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def drop_reply_to(self, marker: bytes | str, times: int = 1) -> None:
        raw = marker.encode() if isinstance(marker, str) else marker
        self._markers.extend([raw] * times)

    def blackhole(self) -> None:
        self._black = True

    def heal(self) -> None:
        self._black = False

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def cut(self) -> None:
        async def cut_all() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        self._call(cut_all())

    def close(self) -> None:
        async def shut() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.transport.abort()

        with contextlib.suppress(Exception):
            self._call(shut())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            if self._black:  # a partition: the connection opens, nothing ever comes back
                while await reader.read(65536):
                    pass
                return
            try:
                up_reader, up_writer = await asyncio.open_connection(*self.target)
            except OSError:
                return
            self._writers.add(up_writer)
            pair = _Pair()
            try:
                await asyncio.gather(
                    self._pump(reader, up_writer, pair, upstream=True),
                    self._pump(up_reader, writer, pair, upstream=False),
                )
            finally:
                up_writer.transport.abort()
                self._writers.discard(up_writer)
        finally:
            writer.transport.abort()
            self._writers.discard(writer)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: _Pair,
        upstream: bool,
    ) -> None:
        try:
            while data := await reader.read(65536):
                if self._black:
                    continue
                if self._delay:
                    await asyncio.sleep(self._delay)
                if upstream:
                    self._watch(data, pair)
                elif pair.drop_reply:
                    self.dropped += 1
                    writer.transport.abort()  # the reply never reaches the client
                    pair.closing.set()
                    return
                writer.write(data)
                await writer.drain()
                if pair.closing.is_set():
                    return
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            pair.closing.set()
            writer.transport.abort()

    def _watch(self, data: bytes, pair: _Pair) -> None:
        """Arm `pair.drop_reply` for the request in `data` that runs a marked statement."""
        messages = _frontend_messages(data)
        if pair.prepared is not None:
            for kind, body in messages:
                if kind == b"B" and body.split(b"\0", 2)[1:2] == [pair.prepared]:
                    pair.prepared = None
                    pair.drop_reply = True
                    return
        hit = next((m for m in self._markers if m in data), None)
        if hit is None:
            return
        self._markers.remove(hit)
        kinds = {kind for kind, _ in messages}
        if messages and not kinds & {b"E", b"Q"}:  # prepared here, run by a later request
            for kind, body in messages:
                name = body.split(b"\0", 1)[0]
                if kind == b"P" and hit in body and name:
                    pair.prepared = name
                    return
        pair.drop_reply = True


def _frontend_messages(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of each whole protocol message at the start of `data`, a chunk a client
    sent; it stops at the first thing that is not one (a start-up packet, a message cut off)."""
    out: list[tuple[bytes, bytes]] = []
    i = 0
    while i + 5 <= len(data):
        length = int.from_bytes(data[i + 1 : i + 5], "big")
        if length < 4 or i + 1 + length > len(data) or not data[i : i + 1].isalpha():
            break
        out.append((data[i : i + 1], data[i + 5 : i + 1 + length]))
        i += 1 + length
    return out


class _Pair:
    """The state shared by the two directions of one proxied connection."""

    def __init__(self) -> None:
        self.drop_reply = False
        self.prepared: bytes | None = None  # a marked statement prepared, not yet run
        self.closing = asyncio.Event()
