"""Verifying a signed EIP-4361 message: the fields that bind it to one service and one moment, and its signer.

:func:`check_fields` checks what can be checked without a nonce store (domain, URI, chain id, issued-at /
expiration / not-before against a clock with a small skew); :func:`recover_signer` recovers the wallet that signed
the text (``personal_sign``, through the chain package). The single-use nonce and the session are the server's part
(``service.auth``).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ..chain.tx import RecoveredSigner, recover_personal_signer
from ..errors import SignerError, SiweError
from ._message import SiweMessage
from ._rfc3339 import parse_rfc3339


def _under_origin(uri: str, origin: str) -> bool:
    return uri == origin or uri.startswith(origin.rstrip("/") + "/")


def check_fields(
    message: SiweMessage,
    *,
    domain: str,
    chain_id: int,
    now: datetime,
    uri_origin: str | None = None,
    clock_skew: timedelta = timedelta(seconds=60),
    max_age: timedelta = timedelta(minutes=10),
) -> None:
    """Check the fields that bind a message to this service and this moment; raises :class:`SiweError`.

    - ``domain`` must equal the service's configured domain (EIP-4361's phishing defence);
    - ``uri`` must start with ``uri_origin`` when one is configured;
    - ``chain_id`` must be the chain the service reads;
    - ``issued_at`` must not lie in the future (beyond ``clock_skew``) nor be older than ``max_age``;
    - ``expiration_time`` must be in the future and ``not_before`` in the past.
    """
    if message.domain != domain:
        raise SiweError(f"message is for domain {message.domain!r}, this service is {domain!r}")
    if uri_origin is not None and not _under_origin(message.uri, uri_origin):
        raise SiweError(f"message URI {message.uri!r} is not under {uri_origin!r}")
    if message.chain_id != chain_id:
        raise SiweError(f"message is for chain {message.chain_id}, this service reads chain {chain_id}")
    issued = parse_rfc3339(message.issued_at, "Issued At")
    if issued > now + clock_skew:
        raise SiweError("message is issued in the future")
    if issued < now - max_age:
        raise SiweError("message is too old: request a new nonce")
    if message.expiration_time is not None and parse_rfc3339(message.expiration_time, "Expiration Time") <= now:
        raise SiweError("message has expired")
    if message.not_before is not None and parse_rfc3339(message.not_before, "Not Before") > now + clock_skew:
        raise SiweError("message is not valid yet (Not Before)")


def recover_signer(message: SiweMessage, text: str, signature: str) -> RecoveredSigner:
    """The wallet that signed ``text`` (the exact text of ``message``); :class:`SiweError` for a malformed signature
    or one made by another address than the message's."""
    try:
        signer = recover_personal_signer(text, signature)
    except SignerError as exc:
        raise SiweError(f"bad signature: {exc}") from exc
    if signer.address != message.address:
        raise SiweError("signature was not made by the message's address")
    return signer
