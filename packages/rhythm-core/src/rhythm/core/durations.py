"""Duration strings, one grammar for the whole of Rhythm: `Signal.when(name, { timeout: "24h" })`
in a workflow and `rhythm prune --older-than 7d` on the command line read them the same way."""

from __future__ import annotations

import re

UNITS: dict[str, float] = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|w|d|h|m|s))+")
_PLAIN = re.compile(r"\d+(?:\.\d+)?")

DURATION_HELP = "a number of seconds or a duration such as 30s, 15m, 24h, 7d or 1h30m"


def parse_duration(text: str, *, require_unit: bool = False) -> float | None:
    """Seconds for `"90"`, `"30s"`, `"15m"`, `"24h"`, `"7d"`, `"2w"`, `"500ms"` or a combination
    such as `"1h30m"` (case and spaces ignored); None when the text is not a duration. With
    `require_unit`, a bare number ("7": seven what?) is not a duration either."""
    cleaned = text.strip().lower().replace(" ", "")
    if not require_unit and _PLAIN.fullmatch(cleaned):
        return float(cleaned)
    if cleaned and _WHOLE.fullmatch(cleaned):
        return sum(float(n) * UNITS[u] for n, u in _PART.findall(cleaned))
    return None
