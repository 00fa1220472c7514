"""RFC 3339 date-times as EIP-4361 writes them: parsed strictly, formatted the way wallets and libraries emit them.

The grammar (RFC 3339 section 5.6; "T" and "Z" may be lower case, section 5.6's note)::

    date-time = full-date "T" full-time
    full-date = 4DIGIT "-" 2DIGIT "-" 2DIGIT                  ; a real calendar day
    full-time = 2DIGIT ":" 2DIGIT ":" 2DIGIT [ "." 1*DIGIT ] ( "Z" / ( "+" / "-" ) 2DIGIT ":" 2DIGIT )

Two values the grammar admits are refused because no clock can compare them: year 0000 and the leap second 60.
Fractions beyond microseconds are kept in the signed text and truncated for comparisons. A parsed time keeps its
own offset (converting ``9999-12-31T23:59:59-01:00`` to UTC would leave the calendar); comparisons of aware
datetimes need no conversion.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from ..errors import SiweError
from ._grammar import show

RFC3339_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})[Tt]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]+))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)


def _offset(match: re.Match[str], what: str, value: str) -> timezone:
    if match["utc"]:
        return UTC
    hours, minutes = int(match["off_hour"]), int(match["off_minute"])
    if hours > 23 or minutes > 59:
        raise SiweError(f"{what} {show(value)} has an offset out of range (hours 00-23, minutes 00-59)")
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if match["sign"] == "-" else delta)


def parse_rfc3339(value: str, what: str) -> datetime:
    """An RFC 3339 date-time as an aware ``datetime`` in its own offset; :class:`SiweError` naming ``what``."""
    match = RFC3339_RE.fullmatch(value)
    if match is None:
        raise SiweError(f"{what} {show(value)} is not an RFC 3339 date-time (YYYY-MM-DDThh:mm:ss[.frac]Z or +hh:mm)")
    if match["second"] == "60":
        raise SiweError(f"{what} {show(value)} is a leap second, which cannot be compared with a clock: use :59")
    if match["year"] == "0000":
        raise SiweError(f"{what} {show(value)} is in year 0000, before any clock")
    fraction = (match["fraction"] or "0")[:6].ljust(6, "0")
    try:
        return datetime(
            int(match["year"]), int(match["month"]), int(match["day"]),
            int(match["hour"]), int(match["minute"]), int(match["second"]), int(fraction),
            tzinfo=_offset(match, what, value),
        )  # fmt: skip
    except ValueError as exc:  # day 31 of a 30-day month, hour 24, minute 60, ...
        raise SiweError(f"{what} {show(value)} is not a valid date-time: {exc}") from exc


def format_rfc3339(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z`` (UTC, millisecond precision) — the form most wallets and libraries emit."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
