"""EIP-191 ``personal_sign`` messages: sign one, and recover who signed it (address *and* public key).

Sign-In with Ethereum needs both halves: the recovered address proves the wallet, and the
recovered secp256k1 public key is what the marketplace wraps a model's data key for. Recovery from a signature is the
only way to learn a wallet's public key without asking the user for it, so it is done here, the one package that
imports eth-account / eth-keys.

Signatures are the 65-byte ``r || s || v`` form wallets produce; ``v`` may be 27/28 or 0/1. Malformed signatures and
signatures with a non-canonical (high) ``s`` are refused with :class:`SignerError`, so one signature has one meaning.
Private keys passed to :func:`sign_personal_message` never appear in an exception message.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import _hash_eip191_message, encode_defunct
from eth_keys import keys
from eth_keys.exceptions import BadSignature
from eth_keys.exceptions import ValidationError as EthKeysValidationError

from ...errors import ConfigurationError, SignerError
from ..encoding import checksum, is_checksum_address, to_hex
from ..recursion_guard import restore_recursion_limit
from .signer import checked_key_text

restore_recursion_limit()  # eth-account imported py_ecc, which raised the interpreter's recursion limit

__all__ = [
    "SECP256K1_N",
    "RecoveredSigner",
    "is_checksum_address",
    "recover_personal_signer",
    "sign_personal_message",
    "to_checksum_address",
]

#: secp256k1 group order; signatures with s > N/2 are malleable twins of a canonical one (EIP-2).
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class RecoveredSigner:
    """Who signed a message: the EIP-55 address and the 65-byte uncompressed public key (``0x04 || X || Y``)."""

    address: str
    public_key: bytes


def _signature_bytes(signature: str | bytes) -> bytes:
    if isinstance(signature, str):
        text = signature[2:] if signature.startswith(("0x", "0X")) else signature
        try:
            raw = bytes.fromhex(text)
        except ValueError as exc:
            raise SignerError("signature is not hex") from exc
    else:
        raw = bytes(signature)
    if len(raw) != 65:
        raise SignerError(f"signature must be 65 bytes (r || s || v), got {len(raw)}")
    return raw


def recover_personal_signer(message: str, signature: str | bytes) -> RecoveredSigner:
    """Recover the signer of an EIP-191 (``personal_sign``) text message.

    Raises :class:`SignerError` for a malformed, non-canonical or unrecoverable signature. A well-formed signature
    always recovers *some* key; callers must compare :attr:`RecoveredSigner.address` with the address they expect.
    """
    raw = _signature_bytes(signature)
    r = int.from_bytes(raw[0:32], "big")
    s = int.from_bytes(raw[32:64], "big")
    v = raw[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise SignerError(f"signature recovery id must be 0, 1, 27 or 28, got {raw[64]}")
    if not (0 < r < SECP256K1_N and 0 < s <= SECP256K1_N // 2):
        raise SignerError("signature r/s out of range or not canonical (high s)")
    digest = _hash_eip191_message(encode_defunct(text=message))
    try:
        public_key = keys.Signature(vrs=(v, r, s)).recover_public_key_from_msg_hash(digest)
    except (BadSignature, EthKeysValidationError) as exc:
        raise SignerError("signature does not recover to a public key") from exc
    return RecoveredSigner(address=public_key.to_checksum_address(), public_key=b"\x04" + public_key.to_bytes())


def sign_personal_message(private_key: str | bytes, message: str) -> str:
    """Sign ``message`` as a wallet's ``personal_sign`` would; returns ``0x`` + 130 hex chars.

    For tests, scripts and command-line clients of the marketplace; a browser wallet does this itself.
    """
    try:
        signed = Account.sign_message(encode_defunct(text=message), private_key=checked_key_text(private_key))
    except (ValueError, TypeError, EthKeysValidationError):
        # Deliberately not chained: the library's message may echo the key material.
        raise SignerError("cannot sign: the private key is malformed") from None
    return to_hex(signed.signature)


def to_checksum_address(address: str) -> str:
    """The EIP-55 form of a 20-byte hex address; :class:`SignerError` if it is not one (SIWE's error type)."""
    try:
        return checksum(address)
    except ConfigurationError as exc:
        raise SignerError(f"not an address: {address!r}") from exc
