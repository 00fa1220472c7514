"""The value types of settings that arrive as text: durations, comma lists, hex secrets, rate limits, URLs.

Every setting can come from an environment variable, so each type accepts its one-line text form as well as the
native TOML value (``"PT15M"``, ``900`` or ``"900"``; ``"a, b"`` or ``["a", "b"]``; ``"5:10"`` or
``{per_second = 5, burst = 10}``). Secrets are :class:`~pydantic.SecretStr`: shown as ``**********`` in reprs and
never put in an error message. URLs, which often carry credentials (a database password, an RPC provider's API key
in the path, a Redis password), are shown through :func:`display_url`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr
from pydantic_settings import NoDecode

_NUMBER = re.compile(r"^\s*-?[0-9]+(\.[0-9]*)?\s*$")


def display_url(url: str | None) -> str | None:
    """A URL safe to print: ``scheme://host[:port]`` when it names a host (user info, path and query may hold
    passwords and API keys); host-less ones (``sqlite:///file``, ``embedded:/dir``) unchanged."""
    if url is None:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<unparsable URL>"
    if not host:
        return url
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


def _seconds_or_iso(value: Any) -> Any:
    """``"900"`` means 900 seconds (pydantic alone would refuse it); ISO 8601 (``PT15M``) and numbers pass through."""
    if isinstance(value, str) and _NUMBER.match(value):
        return float(value)
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration (seconds, or ISO 8601 such as PT15M)")
    return value


#: A positive duration: seconds (``900``, ``"900"``) or ISO 8601 (``"PT15M"``).
Duration = Annotated[timedelta, BeforeValidator(_seconds_or_iso), AfterValidator(_positive)]


def _split_commas(value: Any) -> Any:
    """``"a, b"`` -> ``("a", "b")``; a JSON array (``'["a", "b"]'``) or a TOML list is taken as it is."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return value


#: A tuple of strings: comma separated in the environment, a list in TOML.
CommaList = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_split_commas)]


def _hex_secret(value: SecretStr) -> SecretStr:
    text = value.get_secret_value().strip()
    text = text[2:] if text[:2] in ("0x", "0X") else text
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        if len(text) % 2 and all(c in "0123456789abcdefABCDEF" for c in text):
            raise ValueError(f"must be hex of whole bytes, got an odd number ({len(text)}) of hex digits") from None
        raise ValueError("must be hex") from None
    if len(raw) < 32:
        raise ValueError("must be at least 32 bytes (64 hex characters)")
    return SecretStr(text.lower())


#: A secret given as hex (optionally ``0x``-prefixed), at least 32 bytes; normalised to lower-case hex without ``0x``.
HexSecret = Annotated[SecretStr, AfterValidator(_hex_secret)]


def secret_bytes(secret: SecretStr | None) -> bytes | None:
    """The bytes of a :data:`HexSecret` (``None`` stays ``None``)."""
    return None if secret is None else bytes.fromhex(secret.get_secret_value())


class RateLimitSetting(BaseModel):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``; ``per_second = 0`` disables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_second: float = Field(ge=0)
    burst: int = Field(ge=1)


def _rate_limit(value: Any) -> Any:
    """``"5:10"`` -> per_second 5, burst 10; ``"5"`` -> burst = max(1, per_second)."""
    if isinstance(value, str):
        per_second, _, burst = value.strip().partition(":")
        try:
            rate = float(per_second)
            return {"per_second": rate, "burst": int(burst) if burst else max(1, int(rate))}
        except ValueError:
            raise ValueError("expected PER_SECOND[:BURST], e.g. 50:100") from None
    return value


#: A rate limit: ``"PER_SECOND:BURST"`` in the environment, a table in TOML.
RateLimitText = Annotated[RateLimitSetting, NoDecode, BeforeValidator(_rate_limit)]
