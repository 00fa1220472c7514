"""Data keys wrapped for recipients: ECIES on secp256k1 (ECDH + HKDF-SHA256 + AES-256-GCM).

Why secp256k1: every Ethereum account *is* a secp256k1 key pair, so a buyer's account can receive a model's data key
without a second key system. The marketplace recovers the buyer's public key from their SIWE signature (the chain
layer owns all Ethereum key handling) and calls :func:`wrap_key_for_public_key` with the raw public key bytes; the
buyer opens it with :func:`unwrap_key` and their raw private key bytes. The exact construction (also in
``docs/encryption.md``)::

    e, E     = fresh ephemeral secp256k1 key pair per wrap; E as a 33-byte compressed SEC1 point
    R        = the recipient's public key, normalised to 33-byte compressed SEC1
    Z        = x-coordinate of e*R (32 bytes, standard ECDH)
    KEK      = HKDF-SHA256(IKM=Z, salt=E || R, info="anacostia/keywrap/v1/secp256k1-hkdf-sha256-aes256gcm", L=32)
    n        = 12 random bytes
    C        = AES-256-GCM(KEK, n, plaintext=data key (32 bytes), AAD=0x01 || R || E)     (48 bytes incl. the tag)
    wrapped  = 0x01 || R || E || n || C                                                     (127 bytes)

Binding both public keys into the salt and the AAD means a wrapped key cannot be re-labelled for another recipient
or re-used with another ephemeral key. Re-wrapping (:func:`rewrap_key`) opens a wrapped key and wraps the same data
key for someone else; combined with :func:`anacostia_blockchain.crypto.envelope.rewrap_envelope` this rotates
recipients without re-encrypting any data.

Errors: every failure raises :class:`~anacostia_blockchain.errors.KeyWrapError`; messages never include key bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import KeyWrapError
from .keys import DATA_KEY_LENGTH, DataKey

WRAP_VERSION = 1
_HKDF_INFO = b"anacostia/keywrap/v1/secp256k1-hkdf-sha256-aes256gcm"
_POINT_LEN = 33
_NONCE_LEN = 12
_TAG_LEN = 16
_CIPHERTEXT_LEN = DATA_KEY_LENGTH + _TAG_LEN
#: Length of a serialised :class:`WrappedKey`.
WRAPPED_KEY_LENGTH = 1 + _POINT_LEN + _POINT_LEN + _NONCE_LEN + _CIPHERTEXT_LEN
# The group order of secp256k1: a private key is an integer in [1, n-1].
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class WrappedKey:
    """A data key sealed for one recipient. Safe to store and publish: it reveals only the recipient's public key."""

    recipient_public_key: bytes
    ephemeral_public_key: bytes
    nonce: bytes
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        return (
            bytes([WRAP_VERSION]) + self.recipient_public_key + self.ephemeral_public_key + self.nonce + self.ciphertext
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        if len(data) != WRAPPED_KEY_LENGTH:
            raise KeyWrapError(f"a wrapped key is {WRAPPED_KEY_LENGTH} bytes, got {len(data)}")
        if data[0] != WRAP_VERSION:
            raise KeyWrapError(f"unsupported wrapped-key version {data[0]} (this library reads {WRAP_VERSION})")
        offset = 1
        recipient = data[offset : offset + _POINT_LEN]
        offset += _POINT_LEN
        ephemeral = data[offset : offset + _POINT_LEN]
        offset += _POINT_LEN
        nonce = data[offset : offset + _NONCE_LEN]
        offset += _NONCE_LEN
        return cls(recipient, ephemeral, nonce, data[offset:])

    def to_hex(self) -> str:
        return self.to_bytes().hex()

    @classmethod
    def from_hex(cls, text: str) -> WrappedKey:
        try:
            raw = bytes.fromhex(text.removeprefix("0x"))
        except ValueError as exc:
            raise KeyWrapError("a wrapped key in hex must contain only hex digits") from exc
        return cls.from_bytes(raw)

    def is_for(self, public_key_bytes: bytes) -> bool:
        """Whether this key was wrapped for ``public_key_bytes`` (any accepted encoding)."""
        return self.recipient_public_key == normalize_public_key(public_key_bytes)


def normalize_public_key(public_key_bytes: bytes) -> bytes:
    """Return the 33-byte compressed SEC1 form of a secp256k1 public key.

    Accepts compressed (33 bytes), uncompressed SEC1 (65 bytes, ``0x04`` prefix) and the bare 64-byte ``x || y`` form
    Ethereum tooling returns from signature recovery. A point not on the curve raises :class:`KeyWrapError`.
    """
    return _public_key_to_bytes(_load_public_key(public_key_bytes))


def public_key_for_private_key(private_key_bytes: bytes) -> bytes:
    """The compressed public key of a raw 32-byte secp256k1 private key (an Ethereum account key, for instance)."""
    return _public_key_to_bytes(_load_private_key(private_key_bytes).public_key())


def wrap_key_for_public_key(data_key: DataKey, public_key_bytes: bytes) -> WrappedKey:
    """Seal ``data_key`` so that only the holder of the private key for ``public_key_bytes`` can open it."""
    if not isinstance(data_key, DataKey):
        raise KeyWrapError(f"only a DataKey can be wrapped, got {type(data_key).__name__}")
    recipient = _load_public_key(public_key_bytes)
    recipient_bytes = _public_key_to_bytes(recipient)
    ephemeral = ec.generate_private_key(ec.SECP256K1())
    ephemeral_bytes = _public_key_to_bytes(ephemeral.public_key())
    kek = _derive_kek(ephemeral.exchange(ec.ECDH(), recipient), ephemeral_bytes, recipient_bytes)
    nonce = os.urandom(_NONCE_LEN)
    aad = bytes([WRAP_VERSION]) + recipient_bytes + ephemeral_bytes
    ciphertext = AESGCM(kek).encrypt(nonce, data_key.secret_bytes(), aad)
    return WrappedKey(recipient_bytes, ephemeral_bytes, nonce, ciphertext)


def unwrap_key(wrapped: WrappedKey | bytes, private_key_bytes: bytes) -> DataKey:
    """Open a wrapped key with the recipient's raw 32-byte secp256k1 private key.

    Raises :class:`KeyWrapError` when the key was wrapped for someone else, or when the wrapped bytes were altered.
    """
    if isinstance(wrapped, (bytes, bytearray)):
        wrapped = WrappedKey.from_bytes(bytes(wrapped))
    private_key = _load_private_key(private_key_bytes)
    own_public = _public_key_to_bytes(private_key.public_key())
    if own_public != wrapped.recipient_public_key:
        raise KeyWrapError("this wrapped key belongs to another recipient (public keys differ)")
    ephemeral = _load_public_key(wrapped.ephemeral_public_key)
    kek = _derive_kek(private_key.exchange(ec.ECDH(), ephemeral), wrapped.ephemeral_public_key, own_public)
    aad = bytes([WRAP_VERSION]) + own_public + wrapped.ephemeral_public_key
    try:
        material = AESGCM(kek).decrypt(wrapped.nonce, wrapped.ciphertext, aad)
    except InvalidTag as exc:
        raise KeyWrapError("the wrapped key failed authentication: it was altered or is not for this key") from exc
    return DataKey(material)


def rewrap_key(wrapped: WrappedKey | bytes, private_key_bytes: bytes, new_public_key_bytes: bytes) -> WrappedKey:
    """Open ``wrapped`` with ``private_key_bytes`` and seal the same data key for ``new_public_key_bytes``."""
    return wrap_key_for_public_key(unwrap_key(wrapped, private_key_bytes), new_public_key_bytes)


# --- the one boundary to `cryptography`'s key objects ----------------------------------------------------------------
def _load_public_key(public_key_bytes: bytes) -> ec.EllipticCurvePublicKey:
    if not isinstance(public_key_bytes, (bytes, bytearray)):
        raise KeyWrapError(f"a public key is given as bytes, got {type(public_key_bytes).__name__}")
    raw = bytes(public_key_bytes)
    if len(raw) == 64:
        raw = b"\x04" + raw
    if len(raw) not in (33, 65):
        raise KeyWrapError(f"a secp256k1 public key is 33, 64 or 65 bytes, got {len(raw)}")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256K1(), raw)
    except ValueError as exc:
        raise KeyWrapError("not a valid secp256k1 public key (the point is not on the curve)") from exc


def _load_private_key(private_key_bytes: bytes) -> ec.EllipticCurvePrivateKey:
    if not isinstance(private_key_bytes, (bytes, bytearray)):
        raise KeyWrapError(f"a private key is given as bytes, got {type(private_key_bytes).__name__}")
    if len(private_key_bytes) != 32:
        raise KeyWrapError(f"a secp256k1 private key is 32 bytes, got {len(private_key_bytes)}")
    scalar = int.from_bytes(private_key_bytes, "big")
    if not 1 <= scalar < _SECP256K1_ORDER:
        raise KeyWrapError("not a valid secp256k1 private key (out of range)")
    return ec.derive_private_key(scalar, ec.SECP256K1())


def _public_key_to_bytes(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(ser.Encoding.X962, ser.PublicFormat.CompressedPoint)


def _derive_kek(shared_secret: bytes, ephemeral_bytes: bytes, recipient_bytes: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral_bytes + recipient_bytes, info=_HKDF_INFO).derive(
        shared_secret
    )
