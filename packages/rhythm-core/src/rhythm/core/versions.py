"""The version of a workflow: the one function that computes it, for the compiler and clients."""

from __future__ import annotations

import hashlib


def version_hash(source: str) -> str:
    """The SHA-256 hex digest of the UTF-8 encoded .flow source: a workflow's version."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()
