"""Reading the client's messages from stdin on the event loop itself.

pygls reads stdin in a worker thread, one `readline` or `read` per header line and body: every
message costs several hand-overs between the thread and the event loop, and on a busy machine each
can wait for the scheduler. Read from a pipe transport instead, a burst of messages that arrived
together is handled in one go, before any timer the first of them set can fire: the debounce
(rhythm.lsp.debounce) sees a burst of keystrokes as the burst it is."""

from __future__ import annotations

import asyncio
import logging
from typing import BinaryIO

from pygls.io_ import StdinAsyncReader

log = logging.getLogger(__name__)


class PipeReader:
    """pygls's reader interface over an asyncio stream: b"" at the end of input."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self.stream = stream

    async def readline(self) -> bytes:
        return await self.stream.readline()

    async def readexactly(self, n: int) -> bytes:
        try:
            return await self.stream.readexactly(n)
        except asyncio.IncompleteReadError:
            return b""


async def stdin_reader(
    stdin: BinaryIO, fallback: StdinAsyncReader
) -> PipeReader | StdinAsyncReader:
    """A reader of `stdin` driven by the event loop; `fallback` (pygls's threaded reader) when
    stdin is not a pipe, socket or terminal (a regular file, say)."""
    loop = asyncio.get_running_loop()
    stream = asyncio.StreamReader(limit=1 << 20)
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stream), stdin)
    except (ValueError, OSError) as error:
        log.info("reading stdin in a thread: %s", error)
        return fallback
    return PipeReader(stream)
