"""Suggestions for misspelt names: the closest known name to the one written."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(name: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The candidate closest to `name`, or None when nothing is close enough."""
    pool = sorted(set(candidates))
    if not name or not pool:
        return None
    matches = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    if matches:
        return matches[0]
    lowered = {c.lower(): c for c in pool}
    return lowered.get(name.lower())
