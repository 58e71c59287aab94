from __future__ import annotations

import pytest

from rhythm.core.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("15m", 900.0),
        ("24h", 86400.0),
        ("7d", 604800.0),
        ("2w", 1209600.0),
        ("500ms", 0.5),
        ("1h30m", 5400.0),
        (" 1H 30M ", 5400.0),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "-1d", "7x", "1.5.2h", "7 days", "h1", "1e3s"])
def test_not_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_require_unit_refuses_bare_numbers() -> None:
    assert parse_duration("7", require_unit=True) is None
    assert parse_duration("7d", require_unit=True) == 604800.0
