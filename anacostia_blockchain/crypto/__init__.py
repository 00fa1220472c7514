"""Encryption for artifacts: streaming AES-256-GCM envelopes and data keys wrapped for secp256k1 recipients.

The only package that imports ``cryptography``; it depends on neither ``chain/`` nor ``ipfs/`` (callers pass raw key
bytes and the plaintext CID they computed). See ``docs/encryption.md`` for the formats.
"""

from .envelope import (
    DEFAULT_CHUNK_SIZE,
    EnvelopeHeader,
    EnvelopeInfo,
    decrypt_bytes,
    decrypt_file,
    decrypt_stream,
    encrypt_bytes,
    encrypt_file,
    encrypt_stream,
    iter_plaintext,
    key_for_private_key,
    read_header,
    reencrypt_stream,
    rewrap_envelope,
    rewrap_file,
)
from .keys import DataKey
from .keywrap import (
    WrappedKey,
    normalize_public_key,
    public_key_for_private_key,
    rewrap_key,
    unwrap_key,
    wrap_key_for_public_key,
)

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "DataKey",
    "EnvelopeHeader",
    "EnvelopeInfo",
    "WrappedKey",
    "decrypt_bytes",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_bytes",
    "encrypt_file",
    "encrypt_stream",
    "iter_plaintext",
    "key_for_private_key",
    "normalize_public_key",
    "public_key_for_private_key",
    "read_header",
    "reencrypt_stream",
    "rewrap_envelope",
    "rewrap_file",
    "rewrap_key",
    "unwrap_key",
    "wrap_key_for_public_key",
]
