"""An EIP-4361 message: its fields and the exact text a wallet signs.

The text is the contract between a wallet and the service it signs in to, so it is written exactly as the EIP's
ABNF says::

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

A :class:`SiweMessage` checks every field against its rule when it is built (:mod:`._grammar`, :mod:`._rfc3339`),
so :meth:`SiweMessage.to_text` only ever writes a message the grammar derives. Each value the grammar allows is kept
as signed: times as their strings, an empty statement (``""``, three blank lines) apart from none (``None``), an
empty request ID, a ``Resources:`` line with no entries (``()``) apart from none (``None``), and a chain ID's leading
zeros (``chain_id_text``). So ``SiweMessage.parse(text).to_text() == text`` for every text the parser accepts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import SiweError
from . import _grammar as g
from ._rfc3339 import parse_rfc3339

PREAMBLE_SUFFIX = " wants you to sign in with your Ethereum account:"


@dataclass(frozen=True)
class SiweMessage:
    """One EIP-4361 message (see the module docstring); :class:`SiweError` names the first invalid field."""

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
    resources: tuple[str, ...] | None = None
    #: The chain ID's digits as signed, when they are not ``str(chain_id)`` (leading zeros); ``None`` otherwise.
    chain_id_text: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.resources, list):
            object.__setattr__(self, "resources", tuple(self.resources))
        if self.chain_id_text == str(self.chain_id):
            object.__setattr__(self, "chain_id_text", None)
        self.validate_syntax()

    def validate_syntax(self) -> None:
        """Refuse a message the ABNF does not derive (raises :class:`SiweError` naming the field)."""
        for name in ("domain", "address", "uri", "nonce", "issued_at", "version"):
            if not isinstance(getattr(self, name), str):
                raise SiweError(f"{name.replace('_', ' ')} must be a string, got {type(getattr(self, name)).__name__}")
        if self.scheme is not None:
            g.check_scheme(self.scheme)
        g.check_domain(self.domain)
        g.check_address(self.address)
        if self.statement is not None:
            g.check_statement(self.statement)
        g.check_uri(self.uri)
        g.check_version(self.version)
        self._check_chain_id()
        g.check_nonce(self.nonce)
        parse_rfc3339(self.issued_at, "Issued At")
        if self.expiration_time is not None:
            parse_rfc3339(self.expiration_time, "Expiration Time")
        if self.not_before is not None:
            parse_rfc3339(self.not_before, "Not Before")
        if self.request_id is not None:
            g.check_request_id(self.request_id)
        for resource in self.resources or ():
            g.check_uri(resource, "resource")

    def _check_chain_id(self) -> None:
        if isinstance(self.chain_id, bool) or not isinstance(self.chain_id, int) or self.chain_id < 0:
            raise SiweError(f"chain ID must be a non-negative integer, got {self.chain_id!r}")
        if self.chain_id_text is not None:
            g.check_chain_id_text(self.chain_id_text)
            if int(self.chain_id_text) != self.chain_id:
                raise SiweError(f"chain ID text {g.show(self.chain_id_text)} is not the number {self.chain_id}")

    @property
    def origin(self) -> str:
        """The first line's request origin: ``scheme://domain``, or the bare domain."""
        return f"{self.scheme}://{self.domain}" if self.scheme is not None else self.domain

    def to_text(self) -> str:
        """The exact text a wallet signs."""
        lines = [self.origin + PREAMBLE_SUFFIX, self.address, ""]
        if self.statement is not None:
            lines.append(self.statement)
        lines += [
            "",
            f"URI: {self.uri}",
            f"Version: {self.version}",
            f"Chain ID: {self.chain_id_text or self.chain_id}",
            f"Nonce: {self.nonce}",
            f"Issued At: {self.issued_at}",
        ]
        optional = (
            ("Expiration Time: ", self.expiration_time),
            ("Not Before: ", self.not_before),
            ("Request ID: ", self.request_id),
        )
        lines += [tag + value for tag, value in optional if value is not None]
        if self.resources is not None:
            lines.append("Resources:")
            lines += [f"- {resource}" for resource in self.resources]
        return "\n".join(lines)

    @classmethod
    def parse(cls, text: str) -> SiweMessage:
        """Parse the exact EIP-4361 text; :class:`SiweError` names the line and the field that is wrong."""
        from ._parser import parse_message

        return parse_message(text)
