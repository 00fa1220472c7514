"""The multiformats building blocks a CID is made of: unsigned varints, multibase, multihash, multicodec codes.

Only what IPFS content addressing needs is implemented, by hand and without dependencies, so that every byte a CID
or a CAR contains is under this package's control. Decoding errors raise :class:`InvalidCIDError` with the reason.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from typing import Protocol

from ..errors import InvalidCIDError

# --- multicodec codes ------------------------------------------------------------------------------------------------
DAG_PB = 0x70
RAW = 0x55
DAG_CBOR = 0x71
CAR = 0x0202
LIBP2P_KEY = 0x72

CODEC_NAMES = {DAG_PB: "dag-pb", RAW: "raw", DAG_CBOR: "dag-cbor", CAR: "car", LIBP2P_KEY: "libp2p-key"}

# --- multihash codes -------------------------------------------------------------------------------------------------
IDENTITY = 0x00
SHA2_256 = 0x12
SHA2_512 = 0x13
SHA3_512 = 0x14
SHA3_256 = 0x16
BLAKE2B_256 = 0xB220

class Hasher(Protocol):
    """What a multihash needs of a hashlib object."""

    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


#: hash code -> (name, digest length, function returning a fresh hashlib object or None for identity)
HASHES: dict[int, tuple[str, int | None, Callable[[], Hasher] | None]] = {
    IDENTITY: ("identity", None, None),
    SHA2_256: ("sha2-256", 32, hashlib.sha256),
    SHA2_512: ("sha2-512", 64, hashlib.sha512),
    SHA3_512: ("sha3-512", 64, hashlib.sha3_512),
    SHA3_256: ("sha3-256", 32, hashlib.sha3_256),
    BLAKE2B_256: ("blake2b-256", 32, lambda: hashlib.blake2b(digest_size=32)),
}

#: CIDv0 and identity multihashes above this many bytes are refused (Kubo's default limit for inline digests).
MAX_IDENTITY_DIGEST = 128


# --- varint ----------------------------------------------------------------------------------------------------------
def encode_varint(value: int) -> bytes:
    """Unsigned LEB128 as used by multiformats and protobuf."""
    if value < 0:
        raise ValueError("varint must be non-negative")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def decode_varint(data: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int]:
    """Decode a varint at ``offset``; returns ``(value, new_offset)``. Minimal encodings only (max 9 bytes)."""
    value = 0
    shift = 0
    pos = offset
    end = len(data)
    while True:
        if pos >= end:
            raise InvalidCIDError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and pos - offset > 1:
                raise InvalidCIDError("varint is not minimally encoded")
            return value, pos
        shift += 7
        if shift >= 63:
            raise InvalidCIDError("varint longer than 9 bytes")


# --- multibase -------------------------------------------------------------------------------------------------------
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}


def base58btc_encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    chars = []
    while num:
        num, rem = divmod(num, 58)
        chars.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(chars))


def base58btc_decode(text: str) -> bytes:
    num = 0
    for char in text:
        try:
            num = num * 58 + _B58_INDEX[char]
        except KeyError:
            raise InvalidCIDError(f"invalid base58btc character {char!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def base32_encode(data: bytes) -> str:
    """RFC 4648 base32, lower-case, no padding (multibase ``b``)."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def base32_decode(text: str) -> bytes:
    padded = text.upper() + "=" * (-len(text) % 8)
    try:
        return base64.b32decode(padded)
    except (ValueError, binascii.Error) as exc:
        raise InvalidCIDError(f"invalid base32: {exc}") from exc


def multibase_encode(data: bytes, base: str = "base32") -> str:
    if base == "base32":
        return "b" + base32_encode(data)
    if base == "base58btc":
        return "z" + base58btc_encode(data)
    if base == "base16":
        return "f" + data.hex()
    raise InvalidCIDError(f"unsupported multibase {base!r} (use base32, base58btc or base16)")


def multibase_decode(text: str) -> bytes:
    if not text:
        raise InvalidCIDError("empty multibase string")
    prefix, body = text[0], text[1:]
    if prefix == "b":
        if body != body.lower():
            raise InvalidCIDError("multibase 'b' (base32) must be lower-case")
        return base32_decode(body)
    if prefix == "B":
        if body != body.upper():
            raise InvalidCIDError("multibase 'B' (base32upper) must be upper-case")
        return base32_decode(body)
    if prefix == "z":
        return base58btc_decode(body)
    if prefix in "fF":
        try:
            return bytes.fromhex(body)
        except ValueError as exc:
            raise InvalidCIDError(f"invalid base16: {exc}") from exc
    raise InvalidCIDError(f"unsupported multibase prefix {prefix!r}")


# --- multihash -------------------------------------------------------------------------------------------------------
def multihash_encode(code: int, digest: bytes) -> bytes:
    return encode_varint(code) + encode_varint(len(digest)) + digest


def multihash_decode(mh: bytes | memoryview, offset: int = 0) -> tuple[int, bytes, int]:
    """Parse a multihash at ``offset``; returns ``(code, digest, end_offset)``."""
    code, pos = decode_varint(mh, offset)
    length, pos = decode_varint(mh, pos)
    if code not in HASHES:
        raise InvalidCIDError(f"unsupported multihash function 0x{code:x}")
    expected = HASHES[code][1]
    if expected is not None and length != expected:
        raise InvalidCIDError(f"{HASHES[code][0]} digest must be {expected} bytes, got {length}")
    if code == IDENTITY and length > MAX_IDENTITY_DIGEST:
        raise InvalidCIDError(f"identity digest longer than {MAX_IDENTITY_DIGEST} bytes")
    end = pos + length
    if end > len(mh):
        raise InvalidCIDError("truncated multihash digest")
    return code, bytes(mh[pos:end]), end


def new_hasher(code: int) -> Hasher:
    """A fresh hashlib object for a multihash code (identity has none: compare bytes directly)."""
    try:
        factory = HASHES[code][2]
    except KeyError:
        raise InvalidCIDError(f"unsupported multihash function 0x{code:x}") from None
    if factory is None:
        raise InvalidCIDError("identity multihash has no hasher")
    return factory()


def digest_of(code: int, data: bytes | memoryview) -> bytes:
    if code == IDENTITY:
        return bytes(data)
    hasher = new_hasher(code)
    hasher.update(data)
    return hasher.digest()
