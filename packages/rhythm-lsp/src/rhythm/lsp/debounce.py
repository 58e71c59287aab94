"""When to check a document after an edit: typing-aware debouncing, without I/O.

An edit that follows a pause (no edit of that document for `quiet` seconds) is checked after
`first` seconds, a short wait that only lets a second keystroke arrive. An edit that arrives
sooner than `quiet` after the previous one is part of a typing burst: the document is checked
once the burst ends, `quiet` seconds after its last edit. So a lone change shows its diagnostics
almost at once, while fast typing is checked once per pause, not once per keystroke. The server
abandons a check that a newer edit supersedes (rhythm.lsp.server)."""

from __future__ import annotations

from dataclasses import dataclass, field

# Quiet time that ends a burst of typing (the `diagnosticsDelay` option).
QUIET_SECONDS = 0.05
# Wait after an edit that follows a pause (the `diagnosticsFirstDelay` option): long enough for
# the next keystroke of a burst to reach the server, short enough to feel instant.
FIRST_SECONDS = 0.015


@dataclass(slots=True)
class TypingDebounce:
    quiet: float = QUIET_SECONDS
    first: float = FIRST_SECONDS
    _last_edit: dict[str, float] = field(default_factory=dict)

    def delay(self, uri: str, now: float) -> float:
        """Seconds to wait before checking `uri` after an edit received at `now`."""
        previous = self._last_edit.get(uri)
        self._last_edit[uri] = now
        if previous is not None and now - previous < self.quiet:
            return self.quiet  # typing: wait for the burst to end
        return min(self.first, self.quiet)

    def forget(self, uri: str) -> None:
        self._last_edit.pop(uri, None)
