"""Value types of options shared by several commands: a bad value is a usage error (exit 2) that says what is
expected, before anything is started or connected."""

from __future__ import annotations

import argparse
import urllib.parse

#: The variable every command that talks to a chain reads its JSON-RPC URL from.
RPC_URL_ENV = "ANACOSTIA_RPC_URL"


def rpc_url(text: str) -> str:
    """An ``http(s)://host[:port][/path]`` JSON-RPC URL. The message never repeats the URL's path, query or user
    info (API keys often live there)."""
    url = text.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname:
        try:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad port in RPC URL {_shown(url)!r}") from None
        return url
    raise argparse.ArgumentTypeError(f"not an http(s) JSON-RPC URL: {_shown(url)!r} (expected e.g. http://127.0.0.1:8545)")


def _shown(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, or its first characters when it has no such form (never user info)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return url.rpartition("@")[2][:40]
    authority = rest.split("/", 1)[0].split("?", 1)[0].rpartition("@")[2]
    return f"{scheme}://{authority}"
