"""CARv1: the content-addressed archive Kubo's ``dag export`` writes and Storacha stores as a shard.

Format: ``varint(len(header)) + header`` where the header is dag-cbor ``{"roots": [CID...], "version": 1}``, then
sections ``varint(len(cid) + len(block)) + cid + block``. The header codec here is a deliberately tiny dag-cbor
subset (maps, arrays, text, unsigned ints, tag 42 CIDs) — exactly what a CAR header is; anything else is a
:class:`CarFormatError`. Writing is streaming; :class:`CarReader` streams too and re-hashes every block against its
CID, raising :class:`CorruptBlockError` for the first one that does not match (its index, CID and byte offset are
in the message and on the exception as ``.block_index``/``.offset``/``.cid``).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import CarFormatError, CorruptBlockError, InvalidCIDError
from .cid import CID
from .multiformats import CAR, SHA2_256, decode_varint, encode_varint, multihash_encode

#: A section longer than this is refused as corrupt (Kubo's blocks are at most 2 MiB; leave ample room).
MAX_SECTION = 32 * 1024 * 1024
MAX_HEADER = 1024 * 1024


# --- the header's dag-cbor subset ------------------------------------------------------------------------------------
def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes((major << 5 | value,))
    for info, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * width):
            return bytes((major << 5 | info,)) + value.to_bytes(width, "big")
    raise CarFormatError("integer too large for CBOR")


def _cbor_text(text: str) -> bytes:
    raw = text.encode("utf-8")
    return _cbor_head(3, len(raw)) + raw


def encode_header(roots: Iterable[CID]) -> bytes:
    roots = list(roots)
    body = bytearray(_cbor_head(5, 2))
    body += _cbor_text("roots") + _cbor_head(4, len(roots))
    for root in roots:
        raw = b"\x00" + bytes(root)
        body += _cbor_head(6, 42) + _cbor_head(2, len(raw)) + raw
    body += _cbor_text("version") + _cbor_head(0, 1)
    return bytes(body)


class _CborDecoder:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _head(self) -> tuple[int, int]:
        if self.pos >= len(self.data):
            raise CarFormatError("truncated CAR header")
        first = self.data[self.pos]
        self.pos += 1
        major, info = first >> 5, first & 31
        if info < 24:
            return major, info
        width = {24: 1, 25: 2, 26: 4, 27: 8}.get(info)
        if width is None:
            raise CarFormatError("indefinite-length or reserved CBOR item in CAR header")
        end = self.pos + width
        if end > len(self.data):
            raise CarFormatError("truncated CAR header")
        value = int.from_bytes(self.data[self.pos : end], "big")
        self.pos = end
        return major, value

    def item(self) -> object:
        major, value = self._head()
        if major == 0:
            return value
        if major in (2, 3):
            end = self.pos + value
            if end > len(self.data):
                raise CarFormatError("truncated CAR header")
            raw = self.data[self.pos : end]
            self.pos = end
            if major == 2:
                return raw
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CarFormatError("CAR header text is not UTF-8") from exc
        if major == 4:
            return [self.item() for _ in range(value)]
        if major == 5:
            out: dict[str, object] = {}
            for _ in range(value):
                key = self.item()
                if not isinstance(key, str):
                    raise CarFormatError("CAR header map keys must be strings")
                out[key] = self.item()
            return out
        if major == 6 and value == 42:
            raw = self.item()
            if not isinstance(raw, bytes) or not raw.startswith(b"\x00"):
                raise CarFormatError("CAR header CID must be tag 42 over 0x00-prefixed bytes")
            try:
                return CID.from_bytes(raw[1:])
            except InvalidCIDError as exc:
                raise CarFormatError(f"invalid root CID in CAR header: {exc}") from exc
        raise CarFormatError(f"unsupported CBOR item (major type {major}) in CAR header")


def decode_header(data: bytes) -> list[CID]:
    decoder = _CborDecoder(data)
    header = decoder.item()
    if decoder.pos != len(data):
        raise CarFormatError("trailing bytes in CAR header")
    if not isinstance(header, dict):
        raise CarFormatError("CAR header is not a map")
    if header.get("version") != 1:
        raise CarFormatError(f"unsupported CAR version {header.get('version')!r} (only CARv1)")
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, CID) for r in roots):
        raise CarFormatError("CAR header roots must be a list of CIDs")
    return list(roots)  # type: ignore[arg-type]


# --- writing ---------------------------------------------------------------------------------------------------------
class CarWriter:
    """Stream a CARv1 into a binary file object. ``put`` writes one section; nothing is buffered here."""

    def __init__(self, out: BinaryIO, roots: Iterable[CID | str]) -> None:
        self._out = out
        self.roots = [CID.parse(r) for r in roots]
        header = encode_header(self.roots)
        self.bytes_written = 0
        self.blocks = 0
        self._write(encode_varint(len(header)) + header)

    def _write(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self.bytes_written += len(data)

    def put(self, cid: CID, data: bytes | memoryview) -> None:
        raw_cid = bytes(cid)
        self._write(encode_varint(len(raw_cid) + len(data)) + raw_cid)
        self._write(data)
        self.blocks += 1


def write_car(out: BinaryIO | str | os.PathLike[str], roots: Iterable[CID | str],
              blocks: Iterable[tuple[CID, bytes]]) -> int:
    """Write a whole CAR; returns the bytes written."""
    if isinstance(out, str | os.PathLike):
        with Path(out).open("wb") as handle:
            return write_car(handle, roots, blocks)
    writer = CarWriter(out, roots)
    for cid, data in blocks:
        writer.put(cid, data)
    return writer.bytes_written


def write_car_file(destination: str | os.PathLike[str], produce: Callable[[BinaryIO], int]) -> int:
    """Run ``produce(handle)`` into a temporary file beside ``destination`` and rename it into place only when it
    returns: a CAR exported to a path is complete or absent, never a truncated file that looks like an export (a
    corrupt block found half-way, a daemon that dies mid-stream). Returns what ``produce`` returns."""
    target = Path(destination)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            written = produce(handle)
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return written


# --- reading ---------------------------------------------------------------------------------------------------------
class CarReader:
    """Iterate the ``(cid, data)`` sections of a CARv1, verifying each block as it is read."""

    def __init__(self, source: BinaryIO, *, verify: bool = True, owns_source: bool = False) -> None:
        self._in = source
        self._verify = verify
        self._owns = owns_source
        self.offset = 0
        try:
            length = self._read_varint(allow_eof=False)
            if length is None or length == 0 or length > MAX_HEADER:
                raise CarFormatError(f"CAR header length {length} is invalid")
            self.roots = decode_header(self._read_exact(length, "header"))
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._owns:
            self._in.close()

    def __enter__(self) -> CarReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _read_exact(self, size: int, what: str) -> bytes:
        data = self._in.read(size)
        if data is None or len(data) != size:
            raise CarFormatError(f"truncated CAR: {what} at byte {self.offset} needs {size} bytes")
        self.offset += size
        return data

    def _read_varint(self, *, allow_eof: bool) -> int | None:
        raw = bytearray()
        while True:
            byte = self._in.read(1)
            if not byte:
                if allow_eof and not raw:
                    return None
                raise CarFormatError(f"truncated varint at byte {self.offset}")
            raw += byte
            self.offset += 1
            if not byte[0] & 0x80:
                break
            if len(raw) > 9:
                raise CarFormatError(f"varint too long at byte {self.offset}")
        try:
            return decode_varint(bytes(raw))[0]
        except InvalidCIDError as exc:
            raise CarFormatError(f"bad varint at byte {self.offset}: {exc}") from exc

    def __iter__(self) -> Iterator[tuple[CID, bytes]]:
        try:
            yield from self._sections()
        finally:
            self.close()

    def _sections(self) -> Iterator[tuple[CID, bytes]]:
        index = 0
        while True:
            start = self.offset
            length = self._read_varint(allow_eof=True)
            if length is None:
                return
            if length == 0 or length > MAX_SECTION:
                raise CarFormatError(f"section {index} at byte {start} has invalid length {length}")
            section = self._read_exact(length, f"section {index}")
            try:
                cid, end = CID.decode_prefix(section)
            except InvalidCIDError as exc:
                raise CarFormatError(f"section {index} at byte {start}: invalid CID: {exc}") from exc
            data = section[end:]
            if self._verify and not cid.matches(data):
                error = CorruptBlockError(f"CAR block {index} ({cid}) at byte {start} does not hash to its CID")
                error.block_index = index  # type: ignore[attr-defined]
                error.offset = start  # type: ignore[attr-defined]
                error.cid = cid  # type: ignore[attr-defined]
                raise error
            yield cid, data
            index += 1


def read_car(source: BinaryIO | bytes | str | os.PathLike[str], *, verify: bool = True) -> CarReader:
    """Open a CAR from a file object, bytes, or a path. A path is closed when iteration ends or on ``close()``;
    use the reader as a context manager when you may stop early."""
    if isinstance(source, bytes | bytearray):
        return CarReader(io.BytesIO(bytes(source)), verify=verify)
    if isinstance(source, str | os.PathLike):
        return CarReader(Path(source).open("rb"), verify=verify, owns_source=True)
    return CarReader(source, verify=verify)


def car_cid(car: bytes | BinaryIO | str | os.PathLike[str]) -> CID:
    """The CID of a whole CAR file as Storacha names a shard: CIDv1, codec ``car`` (0x0202), sha2-256."""
    hasher = hashlib.sha256()
    if isinstance(car, bytes | bytearray | memoryview):
        hasher.update(car)
    elif isinstance(car, str | os.PathLike):
        with Path(car).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(block)
    else:
        for block in iter(lambda: car.read(1 << 20), b""):
            hasher.update(block)
    return CID(1, CAR, multihash_encode(SHA2_256, hasher.digest()))
