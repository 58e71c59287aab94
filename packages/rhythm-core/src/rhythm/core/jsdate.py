"""Date arithmetic exactly as ECMAScript defines it (days from the epoch, MakeDay/MakeTime,
TimeClip, the ISO 8601 format), on plain floats, for every year a Date can hold (-271821 to
275760), which Python's datetime cannot. .flow has no time zones: local time is UTC."""

from __future__ import annotations

import math
import re

MS_PER_DAY = 86_400_000.0
MAX_TIME = 8.64e15
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days from 1970-01-01 to year `y`, month `m` (1-12), day `d` (proleptic Gregorian)."""
    y -= m <= 2
    era = y // 400  # floor division: the C original's adjustment for negatives is built in
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """(year, month 1-12, day) of the day `z` days after 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    return y + (m <= 2), m, d


def _finite(*xs: float) -> bool:
    return all(math.isfinite(x) for x in xs)


def _to_int(x: float) -> float:
    return float(math.trunc(x)) if math.isfinite(x) else x


def make_time(h: float, m: float, s: float, ms: float) -> float:
    if not _finite(h, m, s, ms):
        return math.nan
    return _to_int(h) * 3_600_000 + _to_int(m) * 60_000 + _to_int(s) * 1000 + _to_int(ms)


def make_day(year: float, month: float, date: float) -> float:
    if not _finite(year, month, date):
        return math.nan
    y, m, dt = _to_int(year), _to_int(month), _to_int(date)
    ym = y + math.floor(m / 12)
    if abs(ym) > 400_000:
        return math.nan
    mn = int(m % 12)
    return float(days_from_civil(int(ym), mn + 1, 1)) + dt - 1


def make_date(day: float, time: float) -> float:
    if not _finite(day, time):
        return math.nan
    tv = day * MS_PER_DAY + time
    return tv if math.isfinite(tv) else math.nan


def time_clip(t: float) -> float:
    if not math.isfinite(t) or abs(t) > MAX_TIME:
        return math.nan
    return float(math.trunc(t)) + 0.0


def from_components(parts: list[float]) -> float:
    """The time value of `Date.UTC(y, m, d, h, mi, s, ms)` / `new Date(y, m, ...)` (UTC), with
    missing parts defaulting to month 0, day 1, 0 for the rest, and years 0-99 meaning 1900-1999."""
    y = parts[0]
    defaults = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    rest = [parts[i + 1] if i + 1 < len(parts) else defaults[i] for i in range(6)]
    if math.isfinite(y) and 0 <= _to_int(y) <= 99:
        y = 1900 + _to_int(y)
    day = make_day(y, rest[0], rest[1])
    return time_clip(make_date(day, make_time(rest[2], rest[3], rest[4], rest[5])))


def fields(t: float) -> tuple[int, int, int, int, int, int, int, int]:
    """(year, month 0-11, day 1-31, hours, minutes, seconds, ms, weekday 0-6) of a valid time."""
    days = math.floor(t / MS_PER_DAY)
    ms_in_day = int(t - days * MS_PER_DAY)
    y, m, d = civil_from_days(int(days))
    h, rem = divmod(ms_in_day, 3_600_000)
    mi, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    return y, m - 1, d, h, mi, s, ms, int((days + 4) % 7)


def _year_text(y: int) -> str:
    if 0 <= y <= 9999:
        return f"{y:04d}"
    return f"{'-' if y < 0 else '+'}{abs(y):06d}"


def to_iso_string(t: float) -> str:
    """`toISOString` of a valid time: "2024-01-31T12:00:00.000Z" (±YYYYYY outside 0-9999)."""
    y, m, d, h, mi, s, ms, _ = fields(t)
    return f"{_year_text(y)}-{m + 1:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"


def _signed_year(y: int) -> str:
    return f"-{abs(y):04d}" if y < 0 else f"{y:04d}"


def date_to_string(t: float) -> str:
    """`String(date)`, as Node prints it with the time zone set to UTC."""
    if t != t:
        return "Invalid Date"
    y, m, d, h, mi, s, _, wd = fields(t)
    return (
        f"{_DAYS[wd]} {_MONTHS[m]} {d:02d} {_signed_year(y)} {h:02d}:{mi:02d}:{s:02d} "
        "GMT+0000 (Coordinated Universal Time)"
    )


def to_utc_string(t: float) -> str:
    """`toUTCString`: "Wed, 31 Jan 2024 12:00:00 GMT"."""
    if t != t:
        return "Invalid Date"
    y, m, d, h, mi, s, _, wd = fields(t)
    return f"{_DAYS[wd]}, {d:02d} {_MONTHS[m]} {_signed_year(y)} {h:02d}:{mi:02d}:{s:02d} GMT"


_ISO = re.compile(
    r"(?P<y>[+-]\d{6}|\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:T(?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<ms>\d+))?)?"
    r"(?P<z>Z|[+-]\d{2}:\d{2})?)?"
)


def parse_iso(text: str) -> float:
    """`Date.parse` for the ECMAScript date-time string format (ISO 8601: "2024-01-31",
    "2024-01-31T12:00", "...:00.000Z", "...+02:00", "+275760-09-13"); NaN for anything else.
    A date-time without an offset is local time, which is UTC in .flow."""
    m = _ISO.fullmatch(text)
    if m is None or m.group("y") == "-000000":
        return math.nan
    y = int(m.group("y"))
    mo = int(m.group("mo") or 1)
    d = int(m.group("d") or 1)
    h = int(m.group("h") or 0)
    mi = int(m.group("mi") or 0)
    s = int(m.group("s") or 0)
    ms = int((m.group("ms") or "0")[:3].ljust(3, "0"))
    # Like V8, a day up to 31 in any month is accepted and carries over ("2023-02-29" is
    # March 1st).
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi <= 59 and s <= 59):
        return math.nan
    if h > 24 or (h == 24 and (mi or s or ms)):
        return math.nan
    t = days_from_civil(y, mo, d) * MS_PER_DAY + make_time(h, mi, s, ms)
    z = m.group("z")
    if z and z != "Z":
        oh, om = int(z[1:3]), int(z[4:6])
        if oh > 23 or om > 59:
            return math.nan
        offset = (oh * 60 + om) * 60_000
        t = t - offset if z[0] == "+" else t + offset
    return time_clip(t)
