"""Where npm ``siwe@3`` and PyPI ``siwe`` 4.4.0 answer differently, and which side this package takes.

Each kind has a detector (does a message show the feature?), a neutraliser (the same message without it), an
example, both references' verdicts and ours. The rule is the EIP's ABNF (with RFC 3986 and RFC 3339 it imports),
except for two values no clock can compare (leap second, year 0000). docs/marketplace.md shows this table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

BASE = (
    "example.com wants you to sign in with your Ethereum account:\n"
    "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2\n\nI accept\n\nURI: https://example.com/login\nVersion: 1\n"
    "Chain ID: 1\nNonce: 32891756\nIssued At: 2021-09-30T16:25:24Z"
)

_TIME_LINE = re.compile(r"^((?:Issued At|Expiration Time|Not Before): )(.*)$", re.M)
_SCHEME_SLASHES = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_BAD_V4_IN_V6 = re.compile(r"(\[[0-9A-Fa-f:]*:)((?:[0-9]*\.){3}[0-9]*)\]")
_IPVFUTURE_URI = re.compile(r"((?:\nURI: |\n- )[A-Za-z][A-Za-z0-9+.-]*://(?:[^@/?#\s]*@)?)\[v[^\]]*\]")
_BIG_PORT_URI = re.compile(r"((?:\nURI: |\n- )[A-Za-z][A-Za-z0-9+.-]*://[^/?#\s]*:)([0-9]{6,}|6553[6-9]|655[4-9][0-9]|65[6-9][0-9]{2}|6[6-9][0-9]{3}|[7-9][0-9]{4})(?=[/?#\n]|$)")


def _times(text: str) -> list[str]:
    return [match[2] for match in _TIME_LINE.finditer(text)]


def _map_times(text: str, fix: Callable[[str], str]) -> str:
    return _TIME_LINE.sub(lambda match: match[1] + fix(match[2]), text)


def _empty_statement(text: str) -> bool:
    lines = text.split("\n")
    return lines[2:5] == ["", "", ""] and len(lines) > 5 and lines[5].startswith("URI: ")


def _octet_ok(octet: str) -> bool:
    return octet == "0" or (octet != "" and not octet.startswith("0") and int(octet) <= 255)


def _bad_v4_in_v6(text: str) -> bool:
    return any(not all(map(_octet_ok, match[2].split("."))) for match in _BAD_V4_IN_V6.finditer(text))


_WEB_SCHEMES = {"http", "https", "ws", "wss", "ftp"}
_URI_LINE = re.compile(r"^(URI: |- )(.*)$", re.M)


def _whatwg_refuses(uri: str) -> bool:
    """A URI RFC 3986 allows and a WHATWG URL parser refuses for its scheme: an http(s)/ws(s)/ftp URI without a host
    (``https:/a``, ``https://user@/a``), or a file URI with userinfo (``file://@/etc``)."""
    scheme, colon, rest = uri.partition(":")
    scheme = scheme.lower()
    if not colon or scheme not in (*_WEB_SCHEMES, "file"):
        return False
    authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0] if rest.startswith("//") else None
    if scheme == "file":
        return authority is not None and "@" in authority
    return authority is None or re.sub(r":[0-9]*$", "", authority.rpartition("@")[2]) == ""


def _uris(text: str) -> list[str]:
    return [match[2] for match in _URI_LINE.finditer(text)]


def _hosts(text: str) -> list[str]:
    """The hosts of the domain and of every URI with an authority (userinfo and port removed)."""
    origin = text.split("\n")[0].split(" ")[0]
    authorities = [origin[m.end() :] if (m := _SCHEME_SLASHES.match(origin)) else origin]
    for uri in _uris(text):
        if match := _SCHEME_SLASHES.match(uri):
            authorities.append(re.split(r"[/?#]", uri[match.end() :], maxsplit=1)[0])
    hosts = []
    for authority in authorities:
        host = authority.rpartition("@")[2]
        if not host.startswith("["):
            host = re.sub(r":[0-9]*$", "", host)
        hosts.append(host)
    return hosts


def _false_ipv4(host: str) -> bool:
    """A host whose last label is a number (so a WHATWG URL parser reads it as IPv4) but that is no IPv4address."""
    labels = host.rstrip(".").split(".")
    if not labels[-1].isdigit() or host.startswith("["):
        return False
    return not (len(labels) == 4 and all(map(_octet_ok, labels)))


def _replace_false_ipv4(text: str) -> str:
    for host in sorted({h for h in _hosts(text) if _false_ipv4(h)}, key=len, reverse=True):
        text = re.sub(rf"(?<![0-9A-Za-z.]){re.escape(host)}(?![0-9A-Za-z.])", "1.2.3.4", text)
    return text


@dataclass(frozen=True)
class Disagreement:
    name: str
    npm: bool
    pypi: bool
    ours: bool
    why: str
    example: str
    found: Callable[[str], bool]
    neutralise: Callable[[str], str]


DISAGREEMENTS = [
    Disagreement(
        "empty statement (three blank lines)", True, False, True,
        "statement = *( reserved / unreserved / \" \" ) derives the empty string; PyPI's grammar says 1*( ... )",
        BASE.replace("I accept", ""), _empty_statement,
        lambda t: t.replace("\n\n\n\nURI: ", "\n\nx\n\nURI: ", 1),
    ),
    Disagreement(
        "lower-case 'z' in a time", True, False, True,
        "RFC 3339 5.6 allows lower-case t and z; PyPI converts only 'Z' before datetime.fromisoformat",
        BASE.replace("24Z", "24z"), lambda t: any(v.endswith("z") for v in _times(t)),
        lambda t: _map_times(t, lambda v: v[:-1] + "Z" if v.endswith("z") else v),
    ),
    Disagreement(
        "leap second :60", True, False, False,
        "RFC 3339 admits second 60, but no clock can compare it (Python's datetime has no :60): refused",
        BASE.replace(":24Z", ":60Z"), lambda t: any(re.match(r".{17}60", v) for v in _times(t)),
        lambda t: _map_times(t, lambda v: v[:17] + "59" + v[19:] if v[17:19] == "60" else v),
    ),
    Disagreement(
        "year 0000", True, False, False,
        "4DIGIT admits 0000, but no calendar a clock uses has it: refused",
        BASE.replace("2021-09-30", "0000-09-30"), lambda t: any(v.startswith("0000-") for v in _times(t)),
        lambda t: _map_times(t, lambda v: "0001" + v[4:] if v.startswith("0000-") else v),
    ),
    Disagreement(
        "offset minutes above 59", False, True, False,
        "time-minute is 00-59 in an offset too; Python's fromisoformat takes -00:60",
        BASE.replace(":24Z", ":24-00:60"), lambda t: any(re.search(r"[+-][0-9]{2}:[6-9][0-9]$", v) for v in _times(t)),
        lambda t: _map_times(t, lambda v: re.sub(r"([+-][0-9]{2}:)[6-9][0-9]$", r"\g<1>00", v)),
    ),
    Disagreement(
        "IPv4 tail of an IPv6 literal with an empty or zero-padded octet", True, False, False,
        "RFC 3986 dec-octet is 0-255 without leading zeros; npm's grammar takes *3DIGIT",
        BASE.replace("https://example.com/login", "https://[::ffff:01.2.3.4]/"), _bad_v4_in_v6,
        lambda t: _BAD_V4_IN_V6.sub(lambda m: m[1] + "1.2.3.4]", t),
    ),
    Disagreement(
        "host that looks like IPv4 but is not (1.1.1.256, 127.0..1)", True, False, True,
        "RFC 3986: a host that is not an IPv4address is a reg-name; PyPI's ABNF parser does not backtrack to it, "
        "pydantic's WHATWG parser reads a host ending in a number as IPv4",
        BASE.replace("example.com wants", "1.1.1.256 wants"), lambda t: any(map(_false_ipv4, _hosts(t))),
        _replace_false_ipv4,
    ),
    Disagreement(
        "IPvFuture host in a URI", True, False, True,
        "IP-literal = \"[\" ( IPv6address / IPvFuture ) \"]\"; PyPI checks URIs with pydantic's URL parser too",
        BASE.replace("https://example.com/login", "http://[v1.x]/"), lambda t: bool(_IPVFUTURE_URI.search(t)),
        lambda t: _IPVFUTURE_URI.sub(lambda m: m[1] + "[::1]", t),
    ),
    Disagreement(
        "URI a WHATWG parser refuses (https:/@/a, https://user@/a, file://@/x)", True, False, True,
        "RFC 3986 allows a path without authority, an empty reg-name and userinfo in any authority; pydantic's "
        "WHATWG parser wants a host for web schemes and no userinfo for file",
        BASE.replace("https://example.com/login", "https:/@/example.com"),
        lambda t: any(map(_whatwg_refuses, _uris(t))),
        lambda t: _URI_LINE.sub(lambda m: m[1] + ("https://example.com/" if _whatwg_refuses(m[2]) else m[2]), t),
    ),
    Disagreement(
        "port above 65535 in a URI", True, False, True,
        "port = *DIGIT has no bound; pydantic's URL parser refuses ports above 65535",
        BASE.replace("https://example.com/login", "https://example.com:99999/"),
        lambda t: bool(_BIG_PORT_URI.search(t)),
        lambda t: _BIG_PORT_URI.sub(lambda m: m[1] + "1", t),
    ),
]  # fmt: skip


def explain(text: str) -> list[Disagreement]:
    """The known kinds a message shows."""
    return [kind for kind in DISAGREEMENTS if kind.found(text)]


def neutralise(text: str, kinds: list[Disagreement]) -> str:
    for kind in kinds:
        text = kind.neutralise(text)
    return text


def our_choice(kinds: list[Disagreement]) -> bool:
    """Accept a message the references disagree on only when every kind it shows is one this package accepts."""
    return all(kind.ours for kind in kinds)
