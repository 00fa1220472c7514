"""CAR v1 and v2: the content-addressed archives Kubo's ``dag export`` writes and Storacha stores as shards.

CARv1: ``varint(len(header)) + header`` where the header is dag-cbor ``{"roots": [CID...], "version": 1}``, then
sections ``varint(len(cid) + len(block)) + cid + block``. CARv2 wraps a CARv1 *data payload*: an 11-byte pragma
(a CARv1 header ``{"version": 2}``), a 40-byte header (16 bytes of characteristics — bit 7 of the first byte is
*fully indexed* —, then little-endian u64 data offset, data size and index offset, 0 for none), optional padding,
the payload, and an optional index of where each block's section starts in the payload. :class:`CarReader` reads
both versions the same way (sequentially, every block verified; the index is not needed for that and is not
trusted for it); :mod:`.car_index` parses the index (``IndexSorted`` 0x0400 and ``MultihashIndexSorted``
0x0401), :func:`verify_car_index` checks it against the payload and :func:`car_get_block` reads one block through
it. :class:`CarV2Writer` writes a CARv2 with a ``MultihashIndexSorted`` index (identity CIDs left out, as go-car
does) into a seekable file. The header codec here is a deliberately tiny dag-cbor
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
import struct
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import CarFormatError, ConfigurationError, CorruptBlockError, InvalidCIDError
from .cid import CID
from .multiformats import CAR, IDENTITY, SHA2_256, decode_varint, encode_varint, multihash_encode

#: A section longer than this is refused as corrupt (Kubo's blocks are at most 2 MiB; leave ample room).
MAX_SECTION = 32 * 1024 * 1024
MAX_HEADER = 1024 * 1024
#: A CARv2 starts with this: a CARv1 header ``{"version": 2}`` with no roots.
CARV2_PRAGMA = bytes.fromhex("0aa16776657273696f6e02")
CARV2_HEADER_SIZE = 40
INDEX_SORTED = 0x0400
MULTIHASH_INDEX_SORTED = 0x0401


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
            tagged = self.item()
            if not isinstance(tagged, bytes) or not tagged.startswith(b"\x00"):
                raise CarFormatError("CAR header CID must be tag 42 over 0x00-prefixed bytes")
            try:
                return CID.from_bytes(tagged[1:])
            except InvalidCIDError as exc:
                raise CarFormatError(f"invalid root CID in CAR header: {exc}") from exc
        raise CarFormatError(f"unsupported CBOR item (major type {major}) in CAR header")


def _header_map(data: bytes) -> dict[str, object]:
    decoder = _CborDecoder(data)
    header = decoder.item()
    if decoder.pos != len(data):
        raise CarFormatError("trailing bytes in CAR header")
    if not isinstance(header, dict):
        raise CarFormatError("CAR header is not a map")
    return header


def decode_header(data: bytes) -> list[CID]:
    """The roots of a CARv1 header (a CARv2 pragma is a :class:`CarFormatError` here: see :class:`CarReader`)."""
    return _roots(_header_map(data))


def _roots(header: dict[str, object]) -> list[CID]:
    if header.get("version") != 1:
        raise CarFormatError(f"unsupported CAR version {header.get('version')!r} (CAR versions 1 and 2 are read)")
    roots = header.get("roots")
    if not isinstance(roots, list) or not all(isinstance(r, CID) for r in roots):
        raise CarFormatError("CAR header roots must be a list of CIDs")
    return [r for r in roots if isinstance(r, CID)]


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


class CarV2Writer:
    """Write a CARv2 into a *seekable* binary file: pragma, header, the CARv1 payload, a ``MultihashIndexSorted``.

    ``put`` streams each section straight into the payload and remembers where it starts; :meth:`finish` appends
    the index and fills in the header (it has to seek back for that). Identity CIDs are not indexed, so the
    *fully indexed* characteristic stays clear.
    """

    def __init__(self, out: BinaryIO, roots: Iterable[CID | str]) -> None:
        try:
            self._start = out.tell()
            seekable = out.seekable()
        except (AttributeError, OSError):
            seekable = False
        if not seekable:
            raise ConfigurationError("a CARv2 needs a seekable destination (a file), not a stream")
        self._out = out
        out.write(CARV2_PRAGMA + bytes(CARV2_HEADER_SIZE))
        self._payload = CarWriter(out, roots)
        self._records: list[tuple[int, bytes, int]] = []
        self.bytes_written = 0

    @property
    def roots(self) -> list[CID]:
        return self._payload.roots

    @property
    def blocks(self) -> int:
        return self._payload.blocks

    def put(self, cid: CID, data: bytes | memoryview) -> None:
        if cid.hash_code != IDENTITY:
            self._records.append((cid.hash_code, cid.digest, self._payload.bytes_written))
        self._payload.put(cid, data)

    def finish(self) -> int:
        """Write the index and the header; returns the bytes of the whole CARv2."""
        data_offset = len(CARV2_PRAGMA) + CARV2_HEADER_SIZE
        data_size = self._payload.bytes_written
        index = encode_multihash_index(self._records)
        self._out.write(index)
        end = self._out.tell()
        header = CarV2Header(bytes(16), data_offset, data_size, data_offset + data_size)
        self._out.seek(self._start + len(CARV2_PRAGMA))
        self._out.write(header.encode())
        self._out.seek(end)
        self.bytes_written = data_offset + data_size + len(index)
        return self.bytes_written


def encode_multihash_index(records: Iterable[tuple[int, bytes, int]]) -> bytes:
    """A ``MultihashIndexSorted`` (0x0401) of ``(multihash code, digest, payload offset)`` records: per code (in
    ascending order) per digest width (ascending) the ``digest + u64 offset`` entries sorted by digest."""
    groups: dict[int, dict[int, list[tuple[bytes, int]]]] = {}
    for code, digest, offset in records:
        groups.setdefault(code, {}).setdefault(len(digest), []).append((digest, offset))
    out = bytearray(encode_varint(MULTIHASH_INDEX_SORTED))
    out += struct.pack("<i", len(groups))
    for code in sorted(groups):
        widths = groups[code]
        out += struct.pack("<Qi", code, len(widths))
        for width in sorted(widths):
            entries = sorted(widths[width])
            out += struct.pack("<Iq", width + 8, len(entries) * (width + 8))
            for digest, offset in entries:
                out += digest + struct.pack("<Q", offset)
    return bytes(out)


def write_car(out: BinaryIO | str | os.PathLike[str], roots: Iterable[CID | str],
              blocks: Iterable[tuple[CID, bytes]], *, version: int = 1) -> int:
    """Write a whole CAR (``version`` 1, or 2 with an index into a path or seekable file); returns its bytes."""
    if version not in (1, 2):
        raise ConfigurationError(f"CAR version must be 1 or 2, got {version!r}")
    if isinstance(out, str | os.PathLike):
        with Path(out).open("wb") as handle:
            return write_car(handle, roots, blocks, version=version)
    writer: CarWriter | CarV2Writer = CarV2Writer(out, roots) if version == 2 else CarWriter(out, roots)
    for cid, data in blocks:
        writer.put(cid, data)
    return writer.finish() if isinstance(writer, CarV2Writer) else writer.bytes_written


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
@dataclass(frozen=True, slots=True)
class CarV2Header:
    """The fixed CARv2 header: where the CARv1 payload and the index are (offsets from the file's start)."""

    characteristics: bytes
    data_offset: int
    data_size: int
    index_offset: int

    @property
    def fully_indexed(self) -> bool:
        """The index lists every block, identity CIDs included (bit 7 of the first characteristics byte)."""
        return bool(self.characteristics[0] & 0x80)

    def encode(self) -> bytes:
        return self.characteristics + struct.pack("<QQQ", self.data_offset, self.data_size, self.index_offset)

    @classmethod
    def decode(cls, raw: bytes) -> CarV2Header:
        data_offset, data_size, index_offset = struct.unpack("<QQQ", raw[16:40])
        header = cls(raw[:16], data_offset, data_size, index_offset)
        start = len(CARV2_PRAGMA) + CARV2_HEADER_SIZE
        if data_offset < start:
            raise CarFormatError(f"CARv2 data offset {data_offset} lies inside the CARv2 header")
        if index_offset and index_offset < data_offset + data_size:
            raise CarFormatError(f"CARv2 index offset {index_offset} lies inside the data payload")
        return header


class CarReader:
    """Iterate the ``(cid, data)`` sections of a CARv1 or of a CARv2's payload, verifying each block as it is read.

    ``version`` is 1 or 2; for a CARv2, ``v2_header`` says where the payload and the index are, and
    ``payload_offset(offset)`` turns a file offset into one within the payload (what the index records).
    """

    def __init__(self, source: BinaryIO, *, verify: bool = True, owns_source: bool = False) -> None:
        self._in = source
        self._verify = verify
        self._owns = owns_source
        self.offset = 0
        self.version = 1
        self.v2_header: CarV2Header | None = None
        self._end: int | None = None
        try:
            header = self._read_header()
            if header.get("version") == 2 and set(header) == {"version"}:
                self._read_v2_header()
                header = self._read_header()
            self.roots = _roots(header)
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> dict[str, object]:
        length = self._read_varint(allow_eof=False)
        if length is None or length == 0 or length > MAX_HEADER:
            raise CarFormatError(f"CAR header length {length} is invalid")
        return _header_map(self._read_exact(length, "header"))

    def _read_v2_header(self) -> None:
        self.version = 2
        self.v2_header = header = CarV2Header.decode(self._read_exact(CARV2_HEADER_SIZE, "CARv2 header"))
        padding = header.data_offset - self.offset
        while padding:
            padding -= len(self._read_exact(min(padding, 1 << 16), "CARv2 padding"))
        self._end = header.data_offset + header.data_size

    def payload_offset(self, offset: int) -> int:
        return offset - (self.v2_header.data_offset if self.v2_header else 0)

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
            if self._end is not None and start >= self._end:
                if start > self._end:
                    raise CarFormatError(f"CARv2 section {index - 1} runs past the payload's end at byte {self._end}")
                return
            length = self._read_varint(allow_eof=self._end is None)
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
