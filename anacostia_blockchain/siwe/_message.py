"""An EIP-4361 message: its fields, the exact text a wallet signs, and the strict parser of that text.

The message text is the contract between a wallet and the service it signs in to, so it is produced and parsed
exactly as the EIP's ABNF says::

    [scheme "://"] domain " wants you to sign in with your Ethereum account:" LF
    address LF
    LF
    [statement LF]
    LF
    "URI: " uri LF
    "Version: " version LF
    "Chain ID: " chain-id LF
    "Nonce: " nonce LF
    "Issued At: " issued-at
    [LF "Expiration Time: " expiration-time]
    [LF "Not Before: " not-before]
    [LF "Request ID: " request-id]
    [LF "Resources:" (LF "- " uri)*]

Parsing is strict (``parse(message.to_text()) == message`` and ``parse(text).to_text() == text``): the address must
be EIP-55 checksummed, the nonce at least 8 alphanumerics, times RFC 3339, no unknown or reordered lines. A lenient
parser would let two different texts mean the same login, which is exactly what signatures are meant to prevent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..chain.encoding import is_checksum_address
from ..errors import SiweError
from ._rfc3339 import parse_rfc3339

PREAMBLE_SUFFIX = " wants you to sign in with your Ethereum account:"
NONCE_RE = re.compile(r"^[A-Za-z0-9]{8,}$")
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")
SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
DOMAIN_RE = re.compile(r"^[A-Za-z0-9.\-\[\]:@%_~!$&'()*+,;=]+$")


def _is_uri(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:  # e.g. an unbalanced "[" in the authority ("Invalid IPv6 URL")
        return False
    return bool(parts.scheme) and SCHEME_RE.match(parts.scheme) is not None and not any(c.isspace() for c in value)


@dataclass(frozen=True)
class SiweMessage:
    """One EIP-4361 message. Times are kept as the exact strings that were signed."""

    domain: str
    address: str
    uri: str
    chain_id: int
    nonce: str
    issued_at: str
    version: str = "1"
    statement: str | None = None
    scheme: str | None = None
    expiration_time: str | None = None
    not_before: str | None = None
    request_id: str | None = None
    resources: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        self.validate_syntax()

    def validate_syntax(self) -> None:
        """Reject a message the ABNF does not allow (raises :class:`SiweError`)."""
        if self.scheme is not None and not SCHEME_RE.match(self.scheme):
            raise SiweError(f"invalid scheme {self.scheme!r}")
        if not self.domain or not DOMAIN_RE.match(self.domain):
            raise SiweError(f"invalid domain {self.domain!r}")
        if not ADDRESS_RE.match(self.address) or not is_checksum_address(self.address):
            raise SiweError("address must be a 0x-prefixed EIP-55 checksummed address")
        if self.statement is not None and ("\n" in self.statement or "\r" in self.statement):
            raise SiweError("statement must be a single line")
        if not _is_uri(self.uri):
            raise SiweError(f"invalid URI {self.uri!r}")
        if self.version != "1":
            raise SiweError(f"unsupported SIWE version {self.version!r} (only 1)")
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int) or self.chain_id < 1:
            raise SiweError("chain id must be a positive integer")
        if not NONCE_RE.match(self.nonce):
            raise SiweError("nonce must be at least 8 alphanumeric characters")
        parse_rfc3339(self.issued_at, "Issued At")
        if self.expiration_time is not None:
            parse_rfc3339(self.expiration_time, "Expiration Time")
        if self.not_before is not None:
            parse_rfc3339(self.not_before, "Not Before")
        if self.request_id is not None and ("\n" in self.request_id or "\r" in self.request_id):
            raise SiweError("request id must be a single line")
        for resource in self.resources:
            if not _is_uri(resource):
                raise SiweError(f"invalid resource URI {resource!r}")

    def to_text(self) -> str:
        """The exact text a wallet signs."""
        origin = f"{self.scheme}://{self.domain}" if self.scheme else self.domain
        lines = [origin + PREAMBLE_SUFFIX, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += [
            "",
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        if self.expiration_time is not None:
            lines.append(f"Expiration Time: {self.expiration_time}")
        if self.not_before is not None:
            lines.append(f"Not Before: {self.not_before}")
        if self.request_id is not None:
            lines.append(f"Request ID: {self.request_id}")
        if self.resources:
            lines.append("Resources:")
            lines += [f"- {resource}" for resource in self.resources]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Parse the exact EIP-4361 text; :class:`SiweError` says which line is wrong."""
        return _Parser(text).message()


class _Parser:
    def __init__(self, text: str) -> None:
        if "\r" in text:
            raise SiweError("message must use LF line endings")
        self.lines = text.split("\n")
        self.pos = 0

    def _next(self, what: str) -> str:
        if self.pos >= len(self.lines):
            raise SiweError(f"message ends before {what}")
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def _tagged(self, tag: str, optional: bool = False) -> str | None:
        if self.pos < len(self.lines) and self.lines[self.pos].startswith(tag):
            return self._next(tag)[len(tag) :]
        if optional:
            return None
        raise SiweError(f"expected line {tag.strip()!r} at line {self.pos + 1}")

    def message(self) -> SiweMessage:
        first = self._next("the preamble")
        if not first.endswith(PREAMBLE_SUFFIX):
            raise SiweError("first line must end with 'wants you to sign in with your Ethereum account:'")
        origin = first[: -len(PREAMBLE_SUFFIX)]
        scheme, domain = (origin.split("://", 1) if "://" in origin else (None, origin))
        address = self._next("the address")
        if self._next("the blank line after the address") != "":
            raise SiweError("expected a blank line after the address")
        statement: str | None = None
        line = self._next("the URI")
        if line != "":
            statement = line
            if self._next("the blank line after the statement") != "":
                raise SiweError("expected a blank line after the statement")
        uri = self._tagged("URI: ")
        version = self._tagged("Version: ")
        chain_text = self._tagged("Chain ID: ")
        if chain_text is None or not chain_text.isdigit() or chain_text.startswith("0"):
            raise SiweError(f"invalid chain id {chain_text!r}")
        nonce = self._tagged("Nonce: ")
        issued_at = self._tagged("Issued At: ")
        expiration = self._tagged("Expiration Time: ", optional=True)
        not_before = self._tagged("Not Before: ", optional=True)
        request_id = self._tagged("Request ID: ", optional=True)
        resources: list[str] = []
        if self.pos < len(self.lines) and self.lines[self.pos] == "Resources:":
            self.pos += 1
            while self.pos < len(self.lines) and self.lines[self.pos].startswith("- "):
                resources.append(self._next("a resource")[2:])
        if self.pos != len(self.lines):
            raise SiweError(f"unexpected content at line {self.pos + 1}")
        assert uri is not None and version is not None and nonce is not None and issued_at is not None
        return SiweMessage(
            domain=domain,
            address=address,
            uri=uri,
            chain_id=int(chain_text),
            nonce=nonce,
            issued_at=issued_at,
            version=version,
            statement=statement,
            scheme=scheme,
            expiration_time=expiration,
            not_before=not_before,
            request_id=request_id,
            resources=tuple(resources),
        )
