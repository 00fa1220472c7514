"""RFC 3339 date-times as EIP-4361 writes them: parsed strictly, formatted the way wallets and libraries emit them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from ..errors import SiweError

# RFC 3339 date-time (full-date "T" full-time), as EIP-4361 requires.
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def parse_rfc3339(value: str, what: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC ``datetime``; :class:`SiweError` naming ``what`` if malformed."""
    if not RFC3339_RE.match(value):
        raise SiweError(f"{what} is not an RFC 3339 date-time: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise SiweError(f"{what} is not a valid date-time: {value!r}") from exc
    return parsed.astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    """``2026-01-02T03:04:05.678Z`` (UTC, millisecond precision) — the form most wallets and libraries emit."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
