"""dag-pb (``PBNode`` / ``PBLink``) and UnixFS ``Data`` protobufs, written by hand.

Hand-written because the byte layout *is* the CID: dag-pb writes ``Links`` (field 2) before ``Data`` (field 1)
although the field numbers say otherwise, links carry ``Name`` even when it is the empty string (as Kubo and
js-ipfs do), and UnixFS ``blocksizes`` are unpacked repeated varints. Decoding is strict: unknown fields, wrong
wire types or truncated input raise :class:`CorruptBlockError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import CorruptBlockError, InvalidCIDError
from .cid import CID
from .multiformats import decode_varint, encode_varint

# UnixFS Data.DataType
RAW = 0
DIRECTORY = 1
FILE = 2
METADATA = 3
SYMLINK = 4
HAMT_SHARD = 5


@dataclass(frozen=True, slots=True)
class PBLink:
    cid: CID
    name: str | None = ""
    tsize: int | None = None


@dataclass(slots=True)
class PBNode:
    links: list[PBLink] = field(default_factory=list)
    data: bytes | None = None


@dataclass(slots=True)
class UnixFSData:
    type: int
    data: bytes | None = None
    filesize: int | None = None
    blocksizes: list[int] = field(default_factory=list)
    hash_type: int | None = None
    fanout: int | None = None
    mode: int | None = None


# --- encoding --------------------------------------------------------------------------------------------------------
def _bytes_field(tag: int, value: bytes) -> bytes:
    return bytes((tag,)) + encode_varint(len(value)) + value


def encode_link(link: PBLink) -> bytes:
    out = _bytes_field(0x0A, bytes(link.cid))
    if link.name is not None:
        out += _bytes_field(0x12, link.name.encode("utf-8"))
    if link.tsize is not None:
        out += b"\x18" + encode_varint(link.tsize)
    return out


def encode_node(node: PBNode) -> bytes:
    parts = [_bytes_field(0x12, encode_link(link)) for link in node.links]
    if node.data is not None:
        parts.append(_bytes_field(0x0A, node.data))
    return b"".join(parts)


def encode_unixfs(meta: UnixFSData) -> bytes:
    out = bytearray(b"\x08" + encode_varint(meta.type))
    if meta.data is not None:
        out += _bytes_field(0x12, meta.data)
    if meta.filesize is not None:
        out += b"\x18" + encode_varint(meta.filesize)
    for size in meta.blocksizes:
        out += b"\x20" + encode_varint(size)
    if meta.hash_type is not None:
        out += b"\x28" + encode_varint(meta.hash_type)
    if meta.fanout is not None:
        out += b"\x30" + encode_varint(meta.fanout)
    if meta.mode is not None:
        out += b"\x38" + encode_varint(meta.mode)
    return bytes(out)


def file_leaf_envelope(length: int) -> tuple[bytes, bytes]:
    """The bytes before and after ``length`` bytes of content in a dag-pb UnixFS file leaf.

    ``prefix + content + suffix`` is the whole block; the importer hashes the three parts without concatenating.
    """
    if length == 0:
        inner_head = b"\x08\x02"
        inner_tail = b"\x18\x00"
    else:
        inner_head = b"\x08\x02\x12" + encode_varint(length)
        inner_tail = b"\x18" + encode_varint(length)
    inner_len = len(inner_head) + length + len(inner_tail)
    return b"\x0a" + encode_varint(inner_len) + inner_head, inner_tail


# --- decoding --------------------------------------------------------------------------------------------------------
def _read_len(buf: bytes, pos: int) -> tuple[bytes, int]:
    length, pos = _varint(buf, pos)
    end = pos + length
    if end > len(buf):
        raise CorruptBlockError("truncated protobuf field")
    return buf[pos:end], end


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    try:
        return decode_varint(buf, pos)
    except InvalidCIDError as exc:
        raise CorruptBlockError(f"bad protobuf varint: {exc}") from exc


def decode_link(buf: bytes) -> PBLink:
    pos = 0
    cid: CID | None = None
    name: str | None = None
    tsize: int | None = None
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        if tag == 0x0A:
            raw, pos = _read_len(buf, pos)
            try:
                cid = CID.from_bytes(raw)
            except InvalidCIDError as exc:
                raise CorruptBlockError(f"dag-pb link has an invalid CID: {exc}") from exc
        elif tag == 0x12:
            raw, pos = _read_len(buf, pos)
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CorruptBlockError("dag-pb link name is not UTF-8") from exc
        elif tag == 0x18:
            tsize, pos = _varint(buf, pos)
        else:
            raise CorruptBlockError(f"unexpected field tag 0x{tag:02x} in PBLink")
    if cid is None:
        raise CorruptBlockError("dag-pb link without a Hash")
    return PBLink(cid, name, tsize)


def decode_node(buf: bytes) -> PBNode:
    node = PBNode()
    pos = 0
    seen_data = False
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        if tag == 0x12:
            if seen_data:
                raise CorruptBlockError("dag-pb Links after Data")
            raw, pos = _read_len(buf, pos)
            node.links.append(decode_link(raw))
        elif tag == 0x0A:
            if seen_data:
                raise CorruptBlockError("dag-pb node with two Data fields")
            node.data, pos = _read_len(buf, pos)
            seen_data = True
        else:
            raise CorruptBlockError(f"unexpected field tag 0x{tag:02x} in PBNode")
    return node


def decode_unixfs(buf: bytes) -> UnixFSData:
    pos = 0
    meta = UnixFSData(type=-1)
    while pos < len(buf):
        tag = buf[pos]
        pos += 1
        field_no, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            if field_no == 1:
                meta.type = value
            elif field_no == 3:
                meta.filesize = value
            elif field_no == 4:
                meta.blocksizes.append(value)
            elif field_no == 5:
                meta.hash_type = value
            elif field_no == 6:
                meta.fanout = value
            elif field_no == 7:
                meta.mode = value
        elif wire == 2:
            raw, pos = _read_len(buf, pos)
            if field_no == 2:
                meta.data = raw
            elif field_no == 4:  # packed blocksizes, tolerated on read
                inner = 0
                while inner < len(raw):
                    value, inner = _varint(raw, inner)
                    meta.blocksizes.append(value)
            # field 8 (mtime) and unknown length-delimited fields are skipped
        elif wire in (1, 5):
            pos += 8 if wire == 1 else 4
            if pos > len(buf):
                raise CorruptBlockError("truncated fixed-width field in UnixFS Data")
        else:
            raise CorruptBlockError(f"unsupported wire type {wire} in UnixFS Data")
    if meta.type not in (RAW, DIRECTORY, FILE, METADATA, SYMLINK, HAMT_SHARD):
        raise CorruptBlockError("UnixFS Data without a valid Type")
    return meta
