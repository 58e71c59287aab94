"""The overview's chart of completions and failures per minute over the last hour, as inline
SVG built here (no I/O, no third-party files). Every number is ours, so nothing needs escaping
but the title, which the template escapes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 600
HEIGHT = 120
MINUTES = 60


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    completed_height: float
    failed_height: float
    minute: str
    completed: int
    failed: int


def minute_bars(rows: list[dict], now: datetime) -> tuple[list[Bar], int]:
    """One bar per minute of the last hour ending at `now` (missing minutes are zero), scaled to
    the busiest minute; returns the bars and that peak."""
    by_minute = {r["minute"]: (r["completed"], r["failed"]) for r in rows}
    last = now.replace(second=0, microsecond=0)
    minutes = [last - timedelta(minutes=MINUTES - 1 - i) for i in range(MINUTES)]
    counts = [by_minute.get(m, (0, 0)) for m in minutes]
    peak = max((c + f for c, f in counts), default=0)
    scale = (HEIGHT - 10) / peak if peak else 0.0
    width = WIDTH / MINUTES
    bars = [
        Bar(
            x=round(i * width, 2),
            width=round(width - 1, 2),
            completed_height=round(c * scale, 2),
            failed_height=round(f * scale, 2),
            minute=m.strftime("%H:%M"),
            completed=c,
            failed=f,
        )
        for i, (m, (c, f)) in enumerate(zip(minutes, counts, strict=True))
    ]
    return bars, peak
