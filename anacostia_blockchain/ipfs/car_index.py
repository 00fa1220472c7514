"""The CARv2 index: parse the sorted index formats go-car writes (``IndexSorted`` and ``MultihashIndexSorted``), find a
block by CID through it without reading the whole archive, and check an index against the payload it describes.
Writing an index lives with the CARv2 writer in :mod:`.car`.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import CarFormatError, ContentNotFoundError, CorruptBlockError, InvalidCIDError
from .car import (
    CARV2_HEADER_SIZE,
    CARV2_PRAGMA,
    INDEX_SORTED,
    MAX_SECTION,
    MULTIHASH_INDEX_SORTED,
    CarV2Header,
    read_car,
)
from .cid import CID
from .multiformats import IDENTITY, decode_varint


class CarIndex:
    """A parsed CARv2 index: where each block's section starts within the payload.

    ``codec`` is ``INDEX_SORTED`` (keys are bare digests: the index does not say which hash function) or
    ``MULTIHASH_INDEX_SORTED`` (keys are ``(code, digest)``). :meth:`offsets` answers for a CID.
    """

    def __init__(self, codec: int, entries: dict[tuple[int | None, bytes], list[int]]) -> None:
        self.codec = codec
        self._entries = entries

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values())

    def items(self) -> Iterator[tuple[tuple[int | None, bytes], int]]:
        for key, offsets in self._entries.items():
            for offset in offsets:
                yield key, offset

    def offsets(self, cid: CID) -> list[int]:
        key = (None if self.codec == INDEX_SORTED else cid.hash_code, cid.digest)
        return list(self._entries.get(key, ()))


class _IndexParser:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[int, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise CarFormatError("truncated CARv2 index")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def widths(self, code: int | None, entries: dict[tuple[int | None, bytes], list[int]]) -> None:
        (count,) = self.take("<i")
        if count < 0:
            raise CarFormatError("negative bucket count in CARv2 index")
        for _ in range(count):
            width, length = self.take("<Iq")
            if width <= 8 or length < 0 or length % width:
                raise CarFormatError(f"CARv2 index bucket of width {width} holds {length} bytes")
            end = self.pos + length
            if end > len(self.data):
                raise CarFormatError("truncated CARv2 index")
            previous = b""
            for start in range(self.pos, end, width):
                digest = self.data[start : start + width - 8]
                if digest < previous:
                    raise CarFormatError("CARv2 index bucket is not sorted by digest")
                previous = digest
                (offset,) = struct.unpack_from("<Q", self.data, start + width - 8)
                entries.setdefault((code, digest), []).append(offset)
            self.pos = end


def parse_car_index(data: bytes) -> CarIndex:
    """Parse a CARv2 index (its multicodec varint first); other index codecs are a :class:`CarFormatError`."""
    try:
        codec, pos = decode_varint(data)
    except InvalidCIDError as exc:
        raise CarFormatError(f"CARv2 index without a codec: {exc}") from exc
    parser = _IndexParser(data)
    parser.pos = pos
    entries: dict[tuple[int | None, bytes], list[int]] = {}
    if codec == INDEX_SORTED:
        parser.widths(None, entries)
    elif codec == MULTIHASH_INDEX_SORTED:
        (codes,) = parser.take("<i")
        for _ in range(max(codes, 0)):
            (code,) = parser.take("<Q")
            parser.widths(code, entries)
    else:
        raise CarFormatError(f"unsupported CARv2 index codec 0x{codec:x} (0x400 and 0x401 are read)")
    if parser.pos != len(data):
        raise CarFormatError("trailing bytes after the CARv2 index")
    return CarIndex(codec, entries)


def _open_v2(path: str | os.PathLike[str], handle: BinaryIO) -> CarV2Header:
    if handle.read(len(CARV2_PRAGMA)) != CARV2_PRAGMA:
        raise CarFormatError(f"{path} is not a CARv2 (no CARv2 pragma)")
    raw = handle.read(CARV2_HEADER_SIZE)
    if len(raw) != CARV2_HEADER_SIZE:
        raise CarFormatError(f"{path}: truncated CARv2 header")
    return CarV2Header.decode(raw)


def read_car_index(path: str | os.PathLike[str]) -> CarIndex | None:
    """The index of the CARv2 at ``path``, or ``None`` when it has none (index offset 0)."""
    with Path(path).open("rb") as handle:
        header = _open_v2(path, handle)
        if not header.index_offset:
            return None
        handle.seek(header.index_offset)
        return parse_car_index(handle.read())


def _section_at(handle: BinaryIO, header: CarV2Header, offset: int) -> tuple[CID, bytes]:
    if offset >= header.data_size:
        raise CarFormatError(f"CARv2 index points at payload byte {offset}, past the payload's {header.data_size}")
    handle.seek(header.data_offset + offset)
    head = handle.read(10)
    try:
        length, used = decode_varint(head)
    except InvalidCIDError as exc:
        raise CarFormatError(f"CARv2 index points at payload byte {offset}, where no section starts") from exc
    if length == 0 or length > MAX_SECTION or offset + used + length > header.data_size:
        raise CarFormatError(f"CARv2 index points at payload byte {offset}, where no section starts")
    handle.seek(header.data_offset + offset + used)
    section = handle.read(length)
    try:
        cid, end = CID.decode_prefix(section)
    except InvalidCIDError as exc:
        raise CarFormatError(f"CARv2 index points at payload byte {offset}, where no section starts") from exc
    return cid, section[end:]


def car_get_block(path: str | os.PathLike[str], cid: CID | str) -> bytes:
    """One block of an indexed CARv2 read through its index (random access), verified against ``cid``."""
    cid = CID.parse(cid)
    index = read_car_index(path)
    if index is None:
        raise CarFormatError(f"{path} has no index; read it sequentially with read_car")
    with Path(path).open("rb") as handle:
        header = _open_v2(path, handle)
        for offset in index.offsets(cid):
            found, data = _section_at(handle, header, offset)
            if found.multihash == cid.multihash or (index.codec == INDEX_SORTED and found.digest == cid.digest):
                cid.verify(data)
                return data
            raise CorruptBlockError(f"the index of {path} maps {cid} to the section of {found}")
    raise ContentNotFoundError(f"{cid} is not in the index of {path}")


def verify_car_index(path: str | os.PathLike[str]) -> int:
    """Check a CARv2's index against its payload: every entry points at the start of the section of a block with
    that digest, and every block of the payload is indexed (identity CIDs only when *fully indexed*). Returns the
    number of entries; a mismatch is a :class:`CarFormatError`. The payload itself is verified block by block."""
    index = read_car_index(path)
    if index is None:
        raise CarFormatError(f"{path} has no index")
    seen: set[tuple[int | None, bytes, int]] = set()
    with read_car(path) as reader:
        assert reader.v2_header is not None
        header = reader.v2_header
        start = reader.offset
        for cid, _ in reader:
            offset = reader.payload_offset(start)
            start = reader.offset
            if cid.hash_code == IDENTITY and not header.fully_indexed:
                continue
            key = None if index.codec == INDEX_SORTED else cid.hash_code
            if offset not in index.offsets(cid):
                raise CarFormatError(f"the index of {path} does not list {cid} at payload byte {offset}")
            seen.add((key, cid.digest, offset))
    for (key, digest), offset in index.items():
        if (key, digest, offset) not in seen:
            raise CarFormatError(f"the index of {path} lists a block at payload byte {offset} the payload lacks")
    return len(index)
