"""Server-side file watching, for clients that do not offer `workspace/didChangeWatchedFiles`
(Neovim on Linux, for one): the workspace's `.py` and `.flow` files are listed every few seconds
and what changed on disk is reported as the client would have reported it."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rhythm.lsp.index import iter_workspace_files

# How often the workspace is listed. Listing is one os.walk with a stat per file (the same walk
# the index makes at start-up), done off the event loop.
WATCH_SECONDS = 1.0

Snapshot = dict[Path, tuple[int, int]]  # path -> (modification time in ns, size)


@dataclass(frozen=True, slots=True)
class FileChange:
    path: Path
    deleted: bool


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """The `.py` and `.flow` files under `roots`, with what tells a changed file apart."""
    found: Snapshot = {}
    for root in roots:
        for path in iter_workspace_files(root):
            try:
                stat = os.stat(path)
            except OSError:  # removed while listing
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def changes(before: Snapshot, after: Snapshot) -> list[FileChange]:
    """What differs between two snapshots: created or modified files, then deleted ones."""
    found = [FileChange(path, False) for path, seen in after.items() if before.get(path) != seen]
    found += [FileChange(path, True) for path in before if path not in after]
    return found
