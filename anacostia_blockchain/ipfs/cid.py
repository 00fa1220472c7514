"""Content identifiers: parse, print, compare and verify CIDs.

A CID is stored as ``(version, codec, multihash)``. ``str()`` prints what Kubo prints: CIDv0 in base58btc
(``Qm…``), CIDv1 in lower-case base32 (``baf…``). Parsing accepts any supported multibase for v1 and rejects
anything malformed with :class:`InvalidCIDError` saying why. Two CIDs are equal only if version, codec and
multihash are all equal; use :meth:`CID.same_block` to compare the underlying bytes' hash regardless of version.
"""

from __future__ import annotations

from ..errors import CorruptBlockError, InvalidCIDError
from .multiformats import (
    CODEC_NAMES,
    DAG_PB,
    HASHES,
    IDENTITY,
    SHA2_256,
    base58btc_decode,
    base58btc_encode,
    decode_varint,
    digest_of,
    encode_varint,
    multibase_decode,
    multibase_encode,
    multihash_decode,
    multihash_encode,
)


class CID:
    """An immutable CID. Build with :meth:`parse`, :meth:`from_digest` or :meth:`from_data`."""

    __slots__ = ("_bytes", "codec", "digest", "hash_code", "multihash", "version")

    def __init__(self, version: int, codec: int, multihash: bytes) -> None:
        code, digest, end = multihash_decode(multihash)
        if end != len(multihash):
            raise InvalidCIDError("trailing bytes after the multihash")
        if version == 0:
            if codec != DAG_PB or code != SHA2_256:
                raise InvalidCIDError("CIDv0 must be dag-pb with a sha2-256 multihash")
        elif version != 1:
            raise InvalidCIDError(f"unsupported CID version {version}")
        self.version = version
        self.codec = codec
        self.multihash = bytes(multihash)
        self.hash_code = code
        self.digest = digest
        self._bytes = (
            self.multihash if version == 0 else encode_varint(1) + encode_varint(codec) + self.multihash
        )

    # --- construction ---------------------------------------------------------------------------------------------
    @classmethod
    def from_digest(cls, digest: bytes, *, codec: int = DAG_PB, version: int = 1, hash_code: int = SHA2_256) -> CID:
        return cls(version, codec, multihash_encode(hash_code, digest))

    @classmethod
    def from_data(
        cls, data: bytes | memoryview, *, codec: int = DAG_PB, version: int = 1, hash_code: int = SHA2_256
    ) -> CID:
        return cls.from_digest(digest_of(hash_code, data), codec=codec, version=version, hash_code=hash_code)

    @classmethod
    def parse(cls, value: str | bytes | CID) -> CID:
        """Parse a CID from its string form or its binary form (v0 = bare multihash)."""
        if isinstance(value, CID):
            return value
        if isinstance(value, str):
            text = value.strip()
            if not text:
                raise InvalidCIDError("empty CID")
            if text.startswith("Qm") and len(text) != 46:  # not a multibase prefix: a v0 CID of the wrong length
                raise InvalidCIDError(f"invalid CID {text!r}: a CIDv0 (Qm...) has 46 characters, this has {len(text)}")
            if len(text) == 46 and text.startswith("Qm"):
                try:
                    return cls.from_bytes(base58btc_decode(text))
                except InvalidCIDError as exc:
                    raise InvalidCIDError(f"invalid CID {text!r}: {exc}") from exc
            try:
                raw = multibase_decode(text)
                cid = cls.from_bytes(raw)
            except InvalidCIDError as exc:
                raise InvalidCIDError(f"invalid CID {text!r}: {exc}") from exc
            if cid.version == 0:
                raise InvalidCIDError(f"invalid CID {text!r}: CIDv0 must be base58btc without a multibase prefix")
            return cid
        if isinstance(value, bytes | bytearray | memoryview):
            return cls.from_bytes(bytes(value))
        raise InvalidCIDError(f"cannot make a CID from {type(value).__name__}")

    @classmethod
    def from_bytes(cls, raw: bytes) -> CID:
        cid, end = cls.decode_prefix(raw)
        if end != len(raw):
            raise InvalidCIDError("trailing bytes after the CID")
        return cid

    @classmethod
    def decode_prefix(cls, raw: bytes | memoryview, offset: int = 0) -> tuple[CID, int]:
        """Decode a binary CID starting at ``offset`` (as found in CAR sections); returns ``(cid, end_offset)``."""
        if len(raw) - offset >= 2 and raw[offset] == 0x12 and raw[offset + 1] == 0x20:
            end = offset + 34
            if end > len(raw):
                raise InvalidCIDError("truncated CIDv0")
            return cls(0, DAG_PB, bytes(raw[offset:end])), end
        version, pos = decode_varint(raw, offset)
        if version != 1:
            raise InvalidCIDError(f"unsupported CID version {version}")
        codec, pos = decode_varint(raw, pos)
        _, _, end = multihash_decode(raw, pos)
        return cls(1, codec, bytes(raw[pos:end])), end

    # --- conversions ------------------------------------------------------------------------------------------------
    def __bytes__(self) -> bytes:
        return self._bytes

    def encode(self, base: str | None = None) -> str:
        if self.version == 0:
            if base not in (None, "base58btc"):
                raise InvalidCIDError("CIDv0 can only be printed in base58btc (convert with to_v1())")
            return base58btc_encode(self.multihash)
        return multibase_encode(self._bytes, base or "base32")

    def __str__(self) -> str:
        return self.encode()

    def __repr__(self) -> str:
        return f"CID({self.encode()!r})"

    def to_v1(self) -> CID:
        return self if self.version == 1 else CID(1, self.codec, self.multihash)

    def to_v0(self) -> CID:
        if self.version == 0:
            return self
        return CID(0, self.codec, self.multihash)

    @property
    def codec_name(self) -> str:
        return CODEC_NAMES.get(self.codec, f"0x{self.codec:x}")

    @property
    def hash_name(self) -> str:
        return HASHES[self.hash_code][0]

    # --- identity and verification ----------------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return isinstance(other, CID) and self._bytes == other._bytes

    def __hash__(self) -> int:
        return hash(self._bytes)

    def same_block(self, other: CID) -> bool:
        """True if both name the same bytes (same multihash), whatever version or codec."""
        return self.multihash == other.multihash

    def matches(self, data: bytes | memoryview) -> bool:
        if self.hash_code == IDENTITY:
            return bytes(data) == self.digest
        return digest_of(self.hash_code, data) == self.digest

    def verify(self, data: bytes | memoryview) -> None:
        """Raise :class:`CorruptBlockError` unless ``data`` hashes to this CID."""
        if not self.matches(data):
            raise CorruptBlockError(f"block does not hash to {self}")
