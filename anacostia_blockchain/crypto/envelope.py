"""Streaming envelope encryption: AES-256-GCM in authenticated chunks, the header bound to the plaintext's CID.

An *envelope* is one encrypted artifact. It is written and read as a stream, two chunks at a time, so a multi-GiB
artifact never sits in memory. The byte layout (version 1; integers big-endian; full spec in ``docs/encryption.md``)::

    fixed header F:  magic "ANCENV" | version u8 = 1 | chunk_size u32 | nonce_prefix 8 bytes
                     | cid_len u16 | plaintext CID (ASCII)
    recipients:      count u16 | count x WrappedKey (127 bytes each, see keywrap.py)
    header MAC:      HMAC-SHA256(mac_key, F || recipients)                                    (32 bytes)
    chunks:          chunk_0 ... chunk_last, each AES-256-GCM(payload_key, nonce_i, plaintext_i, AAD_i) || tag

    payload_key = HKDF-SHA256(data_key, salt=nonce_prefix, info="anacostia/envelope/v1/payload")
    mac_key     = HKDF-SHA256(data_key, salt=nonce_prefix, info="anacostia/envelope/v1/header-mac")
    nonce_i     = nonce_prefix (8 random bytes) || i (u32)
    AAD_i       = SHA-256(F) || i (u32) || final flag (u8: 1 on the last chunk only)

What each piece defends against:

* the chunk index in nonce and AAD: reordered or duplicated chunks fail authentication;
* the final flag: cutting the stream at a chunk boundary leaves a last chunk not marked final, so truncation is
  detected (and appending after the final chunk fails the same way);
* SHA-256(F) in every AAD and the header MAC: a swapped or edited header (other CID, chunk size, recipients) fails;
  the MAC is checked before any plaintext is produced, so a wrong data key is reported up front;
* per-envelope keys derived from a random prefix: a (GCM-fatal) nonce reuse cannot happen even if a data key were
  ever reused.

Every chunk but the last holds exactly ``chunk_size`` plaintext bytes; the last holds 0..chunk_size (an empty
artifact is one empty final chunk). The recipients section is covered by the header MAC but not by the chunk AADs,
which is what lets :func:`rewrap_envelope` replace the recipients (add a buyer, drop a revoked key, rotate an
operator key) while copying the encrypted chunks byte for byte. Note the limit of that: a removed recipient who kept
the data key can still read the bytes they already had; to revoke for real, :func:`reencrypt_stream` under a fresh
data key.

Streaming decryption hands out plaintext chunk by chunk, each authenticated, but the *whole* stream is only proven
complete when the final chunk verifies: :func:`decrypt_file` therefore writes to a temporary file and renames it into
place only on success. Every failure raises :class:`~anacostia_blockchain.errors.DecryptionError`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import shutil
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..errors import ArtifactNotFoundError, ConfigurationError, DecryptionError, KeyWrapError, ResourceError
from .atomic_file import atomic_output
from .keys import DataKey
from .keywrap import (
    WRAPPED_KEY_LENGTH,
    WrappedKey,
    normalize_public_key,
    public_key_for_private_key,
    unwrap_key,
    wrap_key_for_public_key,
)

MAGIC = b"ANCENV"
FORMAT_VERSION = 1
DEFAULT_CHUNK_SIZE = 64 * 1024
MIN_CHUNK_SIZE = 1024
MAX_CHUNK_SIZE = 64 * 1024 * 1024
MAX_RECIPIENTS = 4096
MAX_CID_LENGTH = 512
TAG_LENGTH = 16
_NONCE_PREFIX_LENGTH = 8
_MAC_LENGTH = 32
_MAX_CHUNKS = 2**32
_FIXED_PREFIX = struct.Struct(">6sBI8sH")  # magic, version, chunk_size, nonce_prefix, cid_len
_COUNT = struct.Struct(">H")
_CHUNK_TAIL = struct.Struct(">IB")  # index, final flag


@dataclass(frozen=True)
class EnvelopeHeader:
    """The parsed header. Reading it needs no key; trusting it needs :meth:`verify` with the data key."""

    chunk_size: int
    nonce_prefix: bytes
    plaintext_cid: str
    recipients: tuple[WrappedKey, ...]
    header_mac: bytes
    version: int = FORMAT_VERSION

    def fixed_bytes(self) -> bytes:
        cid = self.plaintext_cid.encode("ascii")
        return _FIXED_PREFIX.pack(MAGIC, self.version, self.chunk_size, self.nonce_prefix, len(cid)) + cid

    def recipients_bytes(self) -> bytes:
        return _COUNT.pack(len(self.recipients)) + b"".join(r.to_bytes() for r in self.recipients)

    def to_bytes(self) -> bytes:
        return self.fixed_bytes() + self.recipients_bytes() + self.header_mac

    @property
    def recipient_public_keys(self) -> tuple[bytes, ...]:
        return tuple(r.recipient_public_key for r in self.recipients)

    def wrapped_key_for(self, public_key_bytes: bytes) -> WrappedKey:
        """The recipient entry for ``public_key_bytes``; :class:`KeyWrapError` if the envelope has none for it."""
        wanted = normalize_public_key(public_key_bytes)
        for entry in self.recipients:
            if entry.recipient_public_key == wanted:
                return entry
        raise KeyWrapError("this envelope holds no wrapped key for that public key")

    def verify(self, data_key: DataKey) -> None:
        """Check the header MAC: proves ``data_key`` is this envelope's key and the header is unaltered."""
        expected = _header_mac(_derive(data_key, self.nonce_prefix, b"header-mac"), self)
        if not hmac.compare_digest(expected, self.header_mac):
            raise DecryptionError("envelope header failed authentication: wrong data key or an altered header")


@dataclass(frozen=True)
class EnvelopeInfo:
    """What one encryption, decryption or re-encryption processed."""

    plaintext_cid: str
    chunk_size: int
    chunks: int
    plaintext_size: int
    header_size: int

    @property
    def ciphertext_size(self) -> int:
        return self.header_size + self.plaintext_size + self.chunks * TAG_LENGTH


def key_for_private_key(header: EnvelopeHeader, private_key_bytes: bytes) -> DataKey:
    """Find the caller's entry in the header, unwrap the data key and check it against the header MAC."""
    entry = header.wrapped_key_for(public_key_for_private_key(private_key_bytes))
    data_key = unwrap_key(entry, private_key_bytes)
    header.verify(data_key)
    return data_key


# --- encryption ------------------------------------------------------------------------------------------------------
def encrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    data_key: DataKey,
    *,
    plaintext_cid: str,
    recipient_public_keys: Sequence[bytes] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> EnvelopeInfo:
    """Encrypt everything ``src`` yields into ``dst``, wrapping ``data_key`` for each recipient public key."""
    _check_chunk_size(chunk_size)
    header = _build_header(data_key, plaintext_cid, recipient_public_keys, chunk_size, os.urandom(8))
    header_bytes = header.to_bytes()
    dst.write(header_bytes)
    chunks, size = _seal_blocks(_read_blocks(src, chunk_size), dst, data_key, header)
    return EnvelopeInfo(header.plaintext_cid, chunk_size, chunks, size, len(header_bytes))


def encrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    data_key: DataKey,
    *,
    plaintext_cid: str,
    recipient_public_keys: Sequence[bytes] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> EnvelopeInfo:
    """:func:`encrypt_stream` between files; ``dst_path`` appears atomically, complete or not at all."""
    with _open_source(src_path) as src, atomic_output(Path(dst_path)) as dst:
        return encrypt_stream(
            src,
            dst,
            data_key,
            plaintext_cid=plaintext_cid,
            recipient_public_keys=recipient_public_keys,
            chunk_size=chunk_size,
        )


def encrypt_bytes(
    plaintext: bytes,
    data_key: DataKey,
    *,
    plaintext_cid: str,
    recipient_public_keys: Sequence[bytes] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """Encrypt an in-memory value (small artifacts, tests). Same format as :func:`encrypt_stream`."""
    out = io.BytesIO()
    encrypt_stream(
        io.BytesIO(plaintext),
        out,
        data_key,
        plaintext_cid=plaintext_cid,
        recipient_public_keys=recipient_public_keys,
        chunk_size=chunk_size,
    )
    return out.getvalue()


# --- decryption ------------------------------------------------------------------------------------------------------
def read_header(src: BinaryIO) -> EnvelopeHeader:
    """Parse (not authenticate) the header and leave ``src`` at the first chunk."""
    prefix = _read_exact(src, _FIXED_PREFIX.size)
    if len(prefix) < _FIXED_PREFIX.size:
        raise DecryptionError("truncated envelope: the header is incomplete")
    magic, version, chunk_size, nonce_prefix, cid_len = _FIXED_PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise DecryptionError("not an anacostia envelope (bad magic bytes)")
    if version != FORMAT_VERSION:
        raise DecryptionError(f"unsupported envelope version {version} (this library reads {FORMAT_VERSION})")
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE or not 0 < cid_len <= MAX_CID_LENGTH:
        raise DecryptionError("corrupt envelope header: chunk size or CID length out of range")
    cid_raw = _read_exact(src, cid_len)
    count_raw = _read_exact(src, _COUNT.size)
    if len(cid_raw) < cid_len or len(count_raw) < _COUNT.size:
        raise DecryptionError("truncated envelope: the header is incomplete")
    try:
        cid = cid_raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DecryptionError("corrupt envelope header: the plaintext CID is not ASCII") from exc
    (count,) = _COUNT.unpack(count_raw)
    if count > MAX_RECIPIENTS:
        raise DecryptionError("corrupt envelope header: too many recipients")
    entries_raw = _read_exact(src, count * WRAPPED_KEY_LENGTH + _MAC_LENGTH)
    if len(entries_raw) < count * WRAPPED_KEY_LENGTH + _MAC_LENGTH:
        raise DecryptionError("truncated envelope: the header is incomplete")
    try:
        recipients = tuple(
            WrappedKey.from_bytes(entries_raw[i * WRAPPED_KEY_LENGTH : (i + 1) * WRAPPED_KEY_LENGTH])
            for i in range(count)
        )
    except KeyWrapError as exc:
        raise DecryptionError(f"corrupt envelope header: {exc}") from exc
    return EnvelopeHeader(chunk_size, nonce_prefix, cid, recipients, entries_raw[-_MAC_LENGTH:], version)


def iter_plaintext(src: BinaryIO, data_key: DataKey) -> Iterator[bytes]:
    """Yield the authenticated plaintext chunk by chunk (header verified first).

    A :class:`DecryptionError` can still come after some chunks were yielded (a truncated or spliced tail): treat
    the output as untrusted until the iterator finishes. :func:`decrypt_file` does that for you.
    """
    header = read_header(src)
    header.verify(data_key)
    yield from _open_chunks(src, data_key, header)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, data_key: DataKey) -> EnvelopeInfo:
    """Decrypt ``src`` into ``dst``. On error, ``dst`` may hold a partial prefix: discard it."""
    header = read_header(src)
    header.verify(data_key)
    chunks = size = 0
    for block in _open_chunks(src, data_key, header):
        dst.write(block)
        chunks += 1
        size += len(block)
    return EnvelopeInfo(header.plaintext_cid, header.chunk_size, chunks, size, len(header.to_bytes()))


def decrypt_file(src_path: str | os.PathLike[str], dst_path: str | os.PathLike[str], data_key: DataKey) -> EnvelopeInfo:
    """Decrypt to ``dst_path``; the file appears only if every chunk, including the final one, verified."""
    with _open_source(src_path) as src, atomic_output(Path(dst_path)) as dst:
        return decrypt_stream(src, dst, data_key)


def decrypt_bytes(envelope: bytes, data_key: DataKey) -> bytes:
    """Decrypt an in-memory envelope."""
    return b"".join(iter_plaintext(io.BytesIO(envelope), data_key))


# --- re-wrapping and re-encryption -----------------------------------------------------------------------------------
def rewrap_envelope(
    src: BinaryIO, dst: BinaryIO, data_key: DataKey, recipient_public_keys: Sequence[bytes]
) -> EnvelopeHeader:
    """Write ``src`` to ``dst`` with a new recipients list; the encrypted chunks are copied unchanged.

    ``data_key`` (obtained e.g. with :func:`key_for_private_key`) proves the caller may re-label the envelope and
    signs the new header. The new list *replaces* the old one: pass the keys to keep plus the keys to add.
    """
    old = read_header(src)
    old.verify(data_key)
    new = _build_header(data_key, old.plaintext_cid, recipient_public_keys, old.chunk_size, old.nonce_prefix)
    dst.write(new.to_bytes())
    shutil.copyfileobj(src, dst, length=1024 * 1024)
    return new


def rewrap_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    data_key: DataKey,
    recipient_public_keys: Sequence[bytes],
) -> EnvelopeHeader:
    """:func:`rewrap_envelope` between files; ``dst_path`` may equal ``src_path`` (replaced atomically)."""
    with _open_source(src_path) as src, atomic_output(Path(dst_path)) as dst:
        return rewrap_envelope(src, dst, data_key, recipient_public_keys)


def reencrypt_stream(
    src: BinaryIO,
    dst: BinaryIO,
    old_key: DataKey,
    new_key: DataKey,
    recipient_public_keys: Sequence[bytes] = (),
) -> EnvelopeInfo:
    """Full data-key rotation: decrypt under ``old_key`` and encrypt under ``new_key``, streaming, same CID."""
    header = read_header(src)
    header.verify(old_key)
    new = _build_header(new_key, header.plaintext_cid, recipient_public_keys, header.chunk_size, os.urandom(8))
    new_bytes = new.to_bytes()
    dst.write(new_bytes)
    chunks, size = _seal_blocks(_open_chunks(src, old_key, header), dst, new_key, new)
    return EnvelopeInfo(new.plaintext_cid, new.chunk_size, chunks, size, len(new_bytes))


# --- internals -------------------------------------------------------------------------------------------------------
def _build_header(
    data_key: DataKey,
    plaintext_cid: str,
    recipient_public_keys: Sequence[bytes],
    chunk_size: int,
    nonce_prefix: bytes,
) -> EnvelopeHeader:
    if not isinstance(data_key, DataKey):
        raise ConfigurationError(f"encryption needs a DataKey, got {type(data_key).__name__}")
    if not isinstance(plaintext_cid, str) or not 0 < len(plaintext_cid) <= MAX_CID_LENGTH:
        raise ConfigurationError(f"plaintext_cid must be a non-empty string of at most {MAX_CID_LENGTH} characters")
    if not plaintext_cid.isascii() or not plaintext_cid.isprintable():
        raise ConfigurationError("plaintext_cid must be printable ASCII (a CID string)")
    if len(recipient_public_keys) > MAX_RECIPIENTS:
        raise ConfigurationError(f"at most {MAX_RECIPIENTS} recipients per envelope")
    seen: set[bytes] = set()
    recipients: list[WrappedKey] = []
    for public_key in recipient_public_keys:
        normalised = normalize_public_key(public_key)
        if normalised not in seen:
            seen.add(normalised)
            recipients.append(wrap_key_for_public_key(data_key, normalised))
    unsigned = EnvelopeHeader(chunk_size, nonce_prefix, plaintext_cid, tuple(recipients), b"")
    mac = _header_mac(_derive(data_key, nonce_prefix, b"header-mac"), unsigned)
    return EnvelopeHeader(chunk_size, nonce_prefix, plaintext_cid, tuple(recipients), mac)


def _seal_blocks(blocks: Iterator[bytes], dst: BinaryIO, data_key: DataKey, header: EnvelopeHeader) -> tuple[int, int]:
    """Encrypt blocks (each exactly chunk_size but the last), marking the last one final via one-block lookahead."""
    aead = AESGCM(_derive(data_key, header.nonce_prefix, b"payload"))
    header_digest = hashlib.sha256(header.fixed_bytes()).digest()
    prefix = header.nonce_prefix
    current = next(blocks, b"")
    index = size = 0
    while True:
        following = next(blocks, None)
        final = following is None
        if index >= _MAX_CHUNKS:
            raise ConfigurationError("artifact too large for this chunk size (more than 2**32 chunks)")
        tail = _CHUNK_TAIL.pack(index, 1 if final else 0)
        dst.write(aead.encrypt(prefix + tail[:4], current, header_digest + tail))
        size += len(current)
        index += 1
        if following is None:
            return index, size
        current = following


def _open_chunks(src: BinaryIO, data_key: DataKey, header: EnvelopeHeader) -> Iterator[bytes]:
    aead = AESGCM(_derive(data_key, header.nonce_prefix, b"payload"))
    header_digest = hashlib.sha256(header.fixed_bytes()).digest()
    block_size = header.chunk_size + TAG_LENGTH
    current = _read_exact(src, block_size)
    index = 0
    while True:
        if len(current) < TAG_LENGTH:
            raise DecryptionError(f"truncated envelope: chunk {index} is missing or cut short")
        following = _read_exact(src, block_size) if len(current) == block_size else b""
        final = not following
        tail = _CHUNK_TAIL.pack(index, 1 if final else 0)
        try:
            plaintext = aead.decrypt(header.nonce_prefix + tail[:4], current, header_digest + tail)
        except InvalidTag as exc:
            raise DecryptionError(_diagnose(aead, header, header_digest, current, index, final)) from exc
        yield plaintext
        if final:
            return
        current = following
        index += 1


def _diagnose(aead: AESGCM, header: EnvelopeHeader, header_digest: bytes, block: bytes, index: int, final: bool) -> str:
    """Explain a failed chunk: a valid non-final chunk at the end means the stream was cut (truncation)."""
    if final:
        tail = _CHUNK_TAIL.pack(index, 0)
        try:
            aead.decrypt(header.nonce_prefix + tail[:4], block, header_digest + tail)
        except InvalidTag:
            return f"chunk {index} failed authentication: altered bytes, reordered or spliced chunks"
        return f"truncated envelope: it ends after chunk {index}, which is not the final chunk"
    return f"chunk {index} failed authentication: altered bytes, reordered or spliced chunks"


def _read_blocks(src: BinaryIO, size: int) -> Iterator[bytes]:
    """Blocks of exactly ``size`` bytes, the last possibly shorter; an empty source yields nothing."""
    while True:
        block = _read_exact(src, size)
        if block:
            yield block
        if len(block) < size:
            return


def _read_exact(src: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes unless EOF comes first (pipes and sockets may return short reads)."""
    data = src.read(size)
    if data is None:
        raise ConfigurationError("non-blocking streams are not supported")
    if len(data) == size or not data:
        return data
    parts = [data]
    remaining = size - len(data)
    while remaining:
        more = src.read(remaining)
        if not more:
            break
        parts.append(more)
        remaining -= len(more)
    return b"".join(parts)


def _open_source(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        return open(path, "rb")
    except FileNotFoundError as exc:
        raise ArtifactNotFoundError(f"no such file: {path}") from exc
    except OSError as exc:
        raise ResourceError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _derive(data_key: DataKey, nonce_prefix: bytes, purpose: bytes) -> bytes:
    info = b"anacostia/envelope/v1/" + purpose
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce_prefix, info=info).derive(data_key.secret_bytes())


def _header_mac(mac_key: bytes, header: EnvelopeHeader) -> bytes:
    return hmac.new(mac_key, header.fixed_bytes() + header.recipients_bytes(), hashlib.sha256).digest()


def _check_chunk_size(chunk_size: int) -> None:
    if not isinstance(chunk_size, int) or not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ConfigurationError(f"chunk_size must be an integer in [{MIN_CHUNK_SIZE}, {MAX_CHUNK_SIZE}] bytes")
