"""Verifying a signed EIP-4361 message: the fields that bind it to one service and one moment, and its signer.

:func:`check_fields` checks what can be checked without a nonce store (domain, URI, chain id, issued-at /
expiration / not-before against a clock with a small skew). :func:`verify_signature` checks the signature as the
EIP says, by the kind of account:

- an externally owned account (EOA): EIP-191 recovery (:func:`recover_signer`); the recovered public key comes along
  (the marketplace wraps data keys for it);
- a contract account (EIP-1271, e.g. a Safe): ``isValidSignature(personal_message_hash(text), signature)`` on the
  message's chain must answer the magic value ``0x1626ba7e``; an EIP-6492 wrapped signature of a deployed wallet is
  unwrapped first. Such a signer has no public key. A wallet that is not deployed yet is refused: checking it needs
  its deployment simulated, which this package does not do. A node that cannot be reached raises its
  :class:`ChainConnectionError`: that is no verdict on the signature.

The single-use nonce and the session are the server's part (``service.auth``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ..chain.contracts import ERC1271_MAGIC_VALUE, ERC1271Client, personal_message_hash, unwrap_erc6492
from ..chain.rpc import ChainClient
from ..chain.tx import RecoveredSigner, recover_personal_signer
from ..errors import ChainConnectionError, ChainError, ContractRevertError, SignerError, SiweError, ValidationError
from ._message import SiweMessage
from ._rfc3339 import parse_rfc3339


@dataclass(frozen=True)
class VerifiedSigner:
    """Who signed a message: its address, and its public key (``b""`` for a contract account, which has none)."""

    address: str
    public_key: bytes = b""
    contract: bool = False


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
    _check_times(message, now, clock_skew, max_age)


def _check_times(message: SiweMessage, now: datetime, clock_skew: timedelta, max_age: timedelta) -> None:
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
    """The externally owned account that signed ``text`` (the exact text of ``message``); :class:`SiweError` for a
    malformed signature or one made by another address than the message's."""
    try:
        signer = recover_personal_signer(text, signature)
    except SignerError as exc:
        raise SiweError(f"bad signature: {exc}") from exc
    if signer.address != message.address:
        raise SiweError("signature was not made by the message's address")
    return signer


def _signature_bytes(signature: str) -> bytes:
    text = signature[2:] if signature.startswith(("0x", "0X")) else signature
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise SiweError("bad signature: signature is not hex") from None


def verify_signature(
    message: SiweMessage, text: str, signature: str, *, chain: ChainClient | None = None
) -> VerifiedSigner:
    """The account that signed ``text`` (the exact text of ``message``): an EOA by recovery, or, with ``chain``, a
    contract account by EIP-1271 (see the module docstring). :class:`SiweError` says why a signature is refused."""
    try:
        signer = recover_signer(message, text, signature)
        return VerifiedSigner(signer.address, signer.public_key)
    except SiweError as refused:
        if chain is None:
            raise
        eoa_refusal = refused
    return _verify_contract(message, text, _signature_bytes(signature), chain, eoa_refusal)


def _verify_contract(
    message: SiweMessage, text: str, raw: bytes, chain: ChainClient, eoa_refusal: SiweError
) -> VerifiedSigner:
    if chain.chain_id != message.chain_id:
        raise SiweError(
            f"message is for chain {message.chain_id}, contract accounts are read on chain {chain.chain_id}"
        )
    try:
        wrapped = unwrap_erc6492(raw)
    except ValidationError as exc:
        raise SiweError(f"bad signature: {exc}") from exc
    wallets = ERC1271Client(chain)
    if not wallets.has_code(message.address):  # a node that cannot answer raises its ChainError, not a refusal
        if wrapped is None:
            raise eoa_refusal
        raise SiweError(
            f"contract wallet {message.address} is not deployed: EIP-6492 signatures of undeployed wallets are not "
            "supported here; deploy the wallet first"
        )
    inner = wrapped.signature if wrapped is not None else raw
    return VerifiedSigner(_ask_wallet(wallets, message.address, personal_message_hash(text), inner), contract=True)


def _ask_wallet(wallets: ERC1271Client, address: str, digest: bytes, signature: bytes) -> str:
    try:
        answer = wallets.is_valid_signature(address, digest, signature)
    except ContractRevertError as exc:
        raise SiweError(f"contract wallet {address} reverted isValidSignature: {_first_line(exc)}") from exc
    except ChainConnectionError:
        raise
    except ChainError as exc:
        raise SiweError(f"contract wallet {address} gave no EIP-1271 answer: {_first_line(exc)}") from exc
    if not answer.valid:
        raise SiweError(
            f"contract wallet {address} answered 0x{answer.value.hex()} to isValidSignature, not the EIP-1271 magic "
            f"value 0x{ERC1271_MAGIC_VALUE.hex()}: the signature is not valid for this wallet"
        )
    return answer.account


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
