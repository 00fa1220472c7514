"""The EIP-4361 field rules, written out from the ABNF of the EIP and of RFC 3986 it imports.

Each ``check_*`` accepts exactly the strings its rule derives and otherwise raises a one-line :class:`SiweError`
that names the field and, where it helps, the first offending character::

    scheme     = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    domain     = authority            ; [ userinfo "@" ] host [ ":" port ], non-empty
    address    = "0x" 40HEXDIG        ; and EIP-55 checksummed
    statement  = *( reserved / unreserved / " " )
    uri        = URI                  ; scheme ":" hier-part [ "?" query ] [ "#" fragment ]
    version    = "1"
    chain-id   = 1*DIGIT
    nonce      = 8*( ALPHA / DIGIT )
    request-id = *pchar

All rules are ASCII: the character classes are spelled out, never ``\\d`` or ``\\w`` (which match other scripts'
digits and letters). Times are in :mod:`._rfc3339`.
"""

from __future__ import annotations

import re

from ..chain.encoding import is_checksum_address
from ..errors import SiweError

# --- RFC 3986 building blocks (section numbers of the RFC) --------------------------------------------------------
_UNRESERVED = r"A-Za-z0-9\-._~"  # 2.3
_SUB_DELIMS = r"!$&'()*+,;="  # 2.2
_GEN_DELIMS = r":/?#\[\]@"  # 2.2
_PCT = r"%[0-9A-Fa-f]{2}"  # 2.1
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"  # 3.3
_SCHEME = r"[A-Za-z][A-Za-z0-9+\-.]*"  # 3.1
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"  # 3.2.1
_DEC_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"  # 3.2.2
_IPV4 = rf"{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}\.{_DEC_OCTET}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{_IPV4})"


def _ipv6() -> str:
    """RFC 3986's nine IPv6address forms: ``n`` groups before "::" (at most ``n_max``) and ``k`` after."""
    forms = [rf"(?:{_H16}:){{6}}{_LS32}", rf"::(?:{_H16}:){{5}}{_LS32}"]
    for before, after in ((0, 4), (1, 3), (2, 2), (3, 1), (4, 0)):
        head = rf"(?:(?:{_H16}:){{0,{before}}}{_H16})?"
        forms.append(rf"{head}::(?:{_H16}:){{{after}}}{_LS32}")
    forms.append(rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}")
    forms.append(rf"(?:(?:{_H16}:){{0,6}}{_H16})?::")
    return "(?:" + "|".join(forms) + ")"


_IPVFUTURE = rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+"
_IP_LITERAL = rf"\[(?:{_ipv6()}|{_IPVFUTURE})\]"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_HOST = rf"(?:{_IP_LITERAL}|{_REG_NAME})"  # an IPv4address is also a reg-name
_AUTHORITY = rf"(?:{_USERINFO}@)?{_HOST}(?::[0-9]*)?"
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_HIER_PART = (
    rf"(?://{_AUTHORITY}(?:/{_SEGMENT})*"  # "//" authority path-abempty
    rf"|/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"  # path-absolute
    rf"|{_SEGMENT_NZ}(?:/{_SEGMENT})*"  # path-rootless
    r"|)"  # path-empty
)
_QUERY = rf"(?:{_PCHAR}|[/?])*"  # also the fragment rule
_URI = rf"{_SCHEME}:{_HIER_PART}(?:\?{_QUERY})?(?:#{_QUERY})?"  # 3

SCHEME_RE = re.compile(_SCHEME)
AUTHORITY_RE = re.compile(_AUTHORITY)
URI_RE = re.compile(_URI)
STATEMENT_RE = re.compile(rf"[{_UNRESERVED}{_GEN_DELIMS}{_SUB_DELIMS} ]*")
REQUEST_ID_RE = re.compile(rf"{_PCHAR}*")
NONCE_RE = re.compile(r"[A-Za-z0-9]{8,}")
ADDRESS_RE = re.compile(r"0x[0-9A-Fa-f]{40}")
CHAIN_ID_RE = re.compile(r"[0-9]+")

#: How much of an offending value an error message shows.
_SHOWN = 80


def show(value: object) -> str:
    """A value as an error message may show it: quoted, escaped (one line) and cut to a readable length."""
    if not isinstance(value, str):
        return f"of type {type(value).__name__}"
    text = repr(value[:_SHOWN])
    return text + (f" ... ({len(value)} characters)" if len(value) > _SHOWN else "")


def _first_bad(value: object, allowed: re.Pattern[str]) -> str:
    """Where ``value`` first leaves the character set of ``allowed`` (for rules that are a plain repetition)."""
    if not isinstance(value, str):
        return ""
    for index, char in enumerate(value):
        if not allowed.fullmatch(char):
            return f": character {char!r} at column {index + 1} is not allowed"
    return ""


def check_scheme(value: str) -> None:
    if not isinstance(value, str) or not SCHEME_RE.fullmatch(value):
        raise SiweError(f"scheme {show(value)} is not an RFC 3986 scheme (a letter, then letters, digits, + - .)")


def check_domain(value: str) -> None:
    if value == "":
        raise SiweError("domain is empty: the first line must start with the requesting domain")
    if not isinstance(value, str) or not AUTHORITY_RE.fullmatch(value):
        raise SiweError(f"domain {show(value)} is not an RFC 3986 authority ([userinfo@]host[:port])")


def check_address(value: str) -> None:
    if not isinstance(value, str) or not ADDRESS_RE.fullmatch(value):
        raise SiweError(f"address {show(value)} is not 0x followed by 40 hex digits")
    if not is_checksum_address(value):
        raise SiweError(f"address {value} is not EIP-55 checksummed")


def check_statement(value: str) -> None:
    if not isinstance(value, str) or not STATEMENT_RE.fullmatch(value):
        raise SiweError(
            f"statement {show(value)} is not allowed{_first_bad(value, STATEMENT_RE)} (EIP-4361 allows letters, "
            "digits, spaces and RFC 3986 reserved/unreserved characters: no control characters, no line break)"
        )


def check_uri(value: str, what: str = "URI") -> None:
    if not isinstance(value, str) or not URI_RE.fullmatch(value):
        raise SiweError(f"{what} {show(value)} is not an RFC 3986 URI")


def check_version(value: object) -> None:
    if value != "1":
        raise SiweError(f"version {show(value)} is not supported (EIP-4361 defines version 1 only)")


def check_chain_id_text(value: str) -> None:
    if not isinstance(value, str) or not CHAIN_ID_RE.fullmatch(value):
        raise SiweError(f"chain ID {show(value)} is not a decimal number")


def check_nonce(value: str) -> None:
    if not isinstance(value, str) or not NONCE_RE.fullmatch(value):
        raise SiweError(f"nonce {show(value)} is not at least 8 letters and digits")


def check_request_id(value: str) -> None:
    if not isinstance(value, str) or not REQUEST_ID_RE.fullmatch(value):
        raise SiweError(
            f"request ID {show(value)} is not allowed{_first_bad(value, re.compile(_PCHAR + '|%'))} "
            "(EIP-4361: RFC 3986 pchar only: no spaces, no control characters)"
        )
