"""The data key: the random AES-256 key that encrypts one artifact.

Design choices a user needs to know:

* One fresh :class:`DataKey` per artifact (:meth:`DataKey.generate`). It never leaves the process in the clear: it is
  stored only *wrapped* for recipients (see :mod:`.keywrap`), inside the envelope header (see :mod:`.envelope`).
* The key bytes are reachable only through :meth:`DataKey.secret_bytes`, a name that is easy to grep for in review.
  ``repr``/``str`` show a non-secret fingerprint (``key_id``) so logs can say *which* key without saying *what* key.
* Equality is constant-time; pickling is refused so a key cannot slip into a queue, a cache or a log record by
  accident.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import NoReturn

from ..errors import ConfigurationError

#: Length of an AES-256 key in bytes.
DATA_KEY_LENGTH = 32

#: Domain separator for the fingerprint, so it can never collide with any other hash of the key.
_KEY_ID_DOMAIN = b"anacostia-data-key-id-v1\x00"


class DataKey:
    """A 256-bit symmetric key whose bytes never appear in a repr, a log or an exception message."""

    __slots__ = ("_key_id", "_material")

    def __init__(self, material: bytes) -> None:
        if not isinstance(material, (bytes, bytearray)):
            raise ConfigurationError(f"a data key is built from bytes, got {type(material).__name__}")
        if len(material) != DATA_KEY_LENGTH:
            raise ConfigurationError(f"a data key is {DATA_KEY_LENGTH} bytes, got {len(material)} bytes")
        self._material = bytes(material)
        self._key_id = hashlib.sha256(_KEY_ID_DOMAIN + self._material).hexdigest()[:16]

    @classmethod
    def generate(cls) -> DataKey:
        """A fresh key from the operating system's CSPRNG."""
        return cls(secrets.token_bytes(DATA_KEY_LENGTH))

    @property
    def key_id(self) -> str:
        """A 64-bit, one-way fingerprint (hex) of the key: safe to log, useful to tell keys apart."""
        return self._key_id

    def secret_bytes(self) -> bytes:
        """The raw key. Call this only at the point of use (an AEAD or a key wrap), never to log or persist it."""
        return self._material

    def __repr__(self) -> str:
        return f"DataKey(key_id={self._key_id}, <secret>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataKey):
            return NotImplemented
        return hmac.compare_digest(self._material, other._material)

    def __hash__(self) -> int:
        return hash(self._key_id)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a DataKey cannot be pickled; wrap it for a recipient instead")
