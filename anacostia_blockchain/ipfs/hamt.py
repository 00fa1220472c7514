"""HAMT-sharded UnixFS directories: when a directory shards, how its shard tree is laid out, and lookups in it.

A sharded directory is a tree of dag-pb nodes of UnixFS type ``HAMTShard`` (``hashType`` 0x22 = murmur3-x64-64,
``fanout`` a power of two, 256 by default). An entry's name is hashed with murmur3 x64 128 (seed 0) of its UTF-8
bytes, of which the first 64 bits are kept and read big-endian, most significant bit first: each level of the tree
consumes ``log2(fanout)`` bits as the slot index. A slot holding one entry is a link named ``<slot><name>``
(``slot`` in upper-case hex, zero-padded to the width of ``fanout - 1``: two digits for 256) pointing at the
entry; a slot where two or more entries collide is a link named ``<slot>`` pointing at a child shard that uses
the next bits. Links are in slot order; ``Data`` is the bitfield of occupied slots, big-endian with leading zero
bytes dropped. This is the layout Kubo (boxo), Helia (ipfs-unixfs-importer) and ipfs-car (@ipld/unixfs) write for
directories built by adding entries, so the same entries give the same CIDs.

:func:`should_shard` is Kubo's decision (``Import.UnixFSHAMTDirectorySizeThreshold`` and friends, see
:mod:`.profiles`); :func:`build_shard` writes the tree; :func:`iter_shard` and :func:`find_in_shard` read one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..errors import ContentNotFoundError, CorruptBlockError, StorageError
from .cid import CID
from .dagpb import HAMT_SHARD, PBLink, PBNode, UnixFSData, decode_node, decode_unixfs, encode_node, encode_unixfs
from .multiformats import DAG_PB, SHA2_256, encode_varint, multihash_encode

if TYPE_CHECKING:
    from .importer import BlockSink, ImportResult
    from .profiles import ImportOptions

#: The multicodec of the HAMT hash function (murmur3-x64-64), as UnixFS records it in ``hashType``.
MURMUR3_X64_64 = 0x22
_MASK = (1 << 64) - 1
_C1 = 0x87C37B91114253D5
_C2 = 0x4CF5AD432745937F


def _rotl(value: int, bits: int) -> int:
    return ((value << bits) | (value >> (64 - bits))) & _MASK


def _fmix(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & _MASK
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & _MASK
    return k ^ (k >> 33)


def murmur3_x64_64(data: bytes) -> bytes:
    """The first 64 bits of MurmurHash3 x64 128 (seed 0) of ``data``, big-endian: the UnixFS HAMT hash."""
    h1 = h2 = 0
    length = len(data)
    full = length - length % 16
    for start in range(0, full, 16):
        k1 = int.from_bytes(data[start : start + 8], "little")
        k2 = int.from_bytes(data[start + 8 : start + 16], "little")
        h1 ^= (_rotl((k1 * _C1) & _MASK, 31) * _C2) & _MASK
        h1 = (_rotl(h1, 27) + h2) & _MASK
        h1 = (h1 * 5 + 0x52DCE729) & _MASK
        h2 ^= (_rotl((k2 * _C2) & _MASK, 33) * _C1) & _MASK
        h2 = (_rotl(h2, 31) + h1) & _MASK
        h2 = (h2 * 5 + 0x38495AB5) & _MASK
    tail = data[full:]
    if len(tail) > 8:
        k2 = int.from_bytes(tail[8:], "little")
        h2 ^= (_rotl((k2 * _C2) & _MASK, 33) * _C1) & _MASK
    if tail:
        k1 = int.from_bytes(tail[:8], "little")
        h1 ^= (_rotl((k1 * _C1) & _MASK, 31) * _C2) & _MASK
    h1 ^= length
    h2 ^= length
    h1 = (h1 + h2) & _MASK
    h2 = (h2 + h1) & _MASK
    h1 = _fmix(h1)
    h2 = _fmix(h2)
    h1 = (h1 + h2) & _MASK
    return h1.to_bytes(8, "big")


def _bits(fanout: int) -> int:
    return fanout.bit_length() - 1


def slot_width(fanout: int) -> int:
    """Hex digits of a link-name prefix: the width of ``fanout - 1`` in upper-case hex (2 for 256)."""
    return len(f"{fanout - 1:X}")


def slot_at(digest: bytes, depth: int, fanout: int) -> int:
    """The slot of a name hashing to ``digest`` at ``depth``: bits ``[depth*b, (depth+1)*b)``, MSB first."""
    bits = _bits(fanout)
    start = depth * bits
    if start + bits > len(digest) * 8:
        raise StorageError(f"HAMT deeper than its {len(digest) * 8}-bit hash allows (depth {depth})")
    value = int.from_bytes(digest, "big")
    return (value >> (len(digest) * 8 - start - bits)) & (fanout - 1)


# --- the decision ----------------------------------------------------------------------------------------------------
def _varint_len(value: int) -> int:
    return len(encode_varint(value))


def link_block_bytes(name: bytes, cid: CID, tsize: int) -> int:
    """How many bytes a link adds to a dag-pb node (the ``"block"`` estimation)."""
    raw = len(bytes(cid))
    inner = 1 + _varint_len(raw) + raw + 1 + _varint_len(len(name)) + len(name) + 1 + _varint_len(tsize)
    return 1 + _varint_len(inner) + inner


#: The bytes of a basic directory's ``Data`` field (``Type = Directory``) in the encoded node.
DIRECTORY_DATA_BYTES = 4


def directory_estimate(entries: Sequence[tuple[bytes, ImportResult]], estimation: str) -> int:
    """Kubo's size estimate of a basic directory holding ``entries`` (``(name bytes, result)``)."""
    if estimation == "block":
        return DIRECTORY_DATA_BYTES + sum(link_block_bytes(n, r.cid, r.cumulative_size) for n, r in entries)
    return sum(len(n) + len(bytes(r.cid)) for n, r in entries)


def should_shard(entries: Sequence[tuple[bytes, ImportResult]], options: ImportOptions) -> bool:
    """Whether Kubo stores ``entries`` as a HAMT rather than one basic directory node under ``options``."""
    if options.hamt_threshold == 0:
        return False
    if options.max_directory_links and len(entries) > options.max_directory_links:
        return True
    if options.hamt_estimation == "disabled":
        return False
    estimate = directory_estimate(entries, options.hamt_estimation)
    if options.shard_at_threshold:
        return estimate >= options.hamt_threshold
    return estimate > options.hamt_threshold


# --- building --------------------------------------------------------------------------------------------------------
def build_shard(entries: Sequence[tuple[bytes, ImportResult]], sink: BlockSink | None, options: ImportOptions,
                ) -> tuple[CID, int]:
    """Write the HAMT of ``entries`` (``(name bytes, result)``); returns its root CID and cumulative size."""
    hashed = [(murmur3_x64_64(name), name, result) for name, result in entries]
    return _build_level(hashed, 0, sink, options)


def _build_level(entries: list[tuple[bytes, bytes, ImportResult]], depth: int, sink: BlockSink | None,
                 options: ImportOptions) -> tuple[CID, int]:
    fanout = options.hamt_fanout
    width = slot_width(fanout)
    slots: dict[int, list[tuple[bytes, bytes, ImportResult]]] = {}
    for entry in entries:
        slots.setdefault(slot_at(entry[0], depth, fanout), []).append(entry)
    links = []
    bitfield = 0
    for slot in sorted(slots):
        bitfield |= 1 << slot
        prefix = f"{slot:0{width}X}"
        group = slots[slot]
        if len(group) == 1:
            _, name, result = group[0]
            links.append(PBLink(result.cid, prefix + name.decode("utf-8"), result.cumulative_size))
        else:
            child, size = _build_level(group, depth + 1, sink, options)
            links.append(PBLink(child, prefix, size))
    data = bitfield.to_bytes((bitfield.bit_length() + 7) // 8, "big")
    meta = UnixFSData(HAMT_SHARD, data=data, hash_type=MURMUR3_X64_64, fanout=fanout)
    block = encode_node(PBNode(links, encode_unixfs(meta)))
    cid = CID(options.cid_version, DAG_PB, multihash_encode(SHA2_256, hashlib.sha256(block).digest()))
    if sink is not None:
        sink.put_block(cid, block)
    return cid, len(block) + sum(link.tsize or 0 for link in links)


# --- reading ---------------------------------------------------------------------------------------------------------
BlockGetter = Callable[[CID], bytes]


def _shard_params(cid: CID, meta: UnixFSData) -> tuple[int, int]:
    if meta.hash_type != MURMUR3_X64_64:
        raise CorruptBlockError(f"HAMT shard {cid} uses hash function 0x{meta.hash_type or 0:x}, not murmur3-x64-64")
    fanout = meta.fanout or 0
    if not 8 <= fanout <= 1024 or fanout & (fanout - 1):
        raise CorruptBlockError(f"HAMT shard {cid} has fanout {fanout}, not a power of two between 8 and 1024")
    return fanout, slot_width(fanout)


def _check_link(cid: CID, link: PBLink, width: int, fanout: int) -> str:
    name = link.name or ""
    prefix = name[:width]
    if len(prefix) != width or prefix.upper() != prefix:
        raise CorruptBlockError(f"HAMT shard {cid} has a link named {name!r} without a {width}-digit slot prefix")
    try:
        slot = int(prefix, 16)
    except ValueError:
        raise CorruptBlockError(f"HAMT shard {cid} has a link named {name!r} without a hex slot prefix") from None
    if slot >= fanout:
        raise CorruptBlockError(f"HAMT shard {cid} has a link to slot {slot}, beyond its fanout {fanout}")
    return name[width:]


def iter_shard(get_block: BlockGetter, cid: CID, node: PBNode, meta: UnixFSData) -> Iterator[tuple[str, CID, int]]:
    """Every entry ``(name, cid, tsize)`` of the sharded directory rooted at ``cid``, in shard order."""
    stack: list[tuple[CID, PBNode, UnixFSData]] = [(cid, node, meta)]
    while stack:
        shard_cid, shard, shard_meta = stack.pop()
        fanout, width = _shard_params(shard_cid, shard_meta)
        children = []
        for link in shard.links:
            name = _check_link(shard_cid, link, width, fanout)
            if name:
                yield name, link.cid, link.tsize or 0
                continue
            child = _decode_shard(get_block, link.cid)
            children.append((link.cid, *child))
        stack.extend(reversed(children))


def _decode_shard(get_block: BlockGetter, cid: CID) -> tuple[PBNode, UnixFSData]:
    if cid.codec != DAG_PB:
        raise CorruptBlockError(f"HAMT child shard {cid} is not dag-pb")
    node = decode_node(get_block(cid))
    if node.data is None:
        raise CorruptBlockError(f"HAMT child shard {cid} has no UnixFS data")
    meta = decode_unixfs(node.data)
    if meta.type != HAMT_SHARD:
        raise CorruptBlockError(f"HAMT link to {cid} names a child shard, but it is UnixFS type {meta.type}")
    return node, meta


def find_in_shard(get_block: BlockGetter, cid: CID, node: PBNode, meta: UnixFSData, name: str) -> CID:
    """The CID of entry ``name`` in the sharded directory at ``cid``, following only the shards its hash selects."""
    digest = murmur3_x64_64(name.encode("utf-8"))
    depth = 0
    shard_cid, shard, shard_meta = cid, node, meta
    while True:
        fanout, width = _shard_params(shard_cid, shard_meta)
        prefix = f"{slot_at(digest, depth, fanout):0{width}X}"
        for link in shard.links:
            if link.name == prefix + name:
                return link.cid
            if link.name == prefix:
                shard_cid = link.cid
                shard, shard_meta = _decode_shard(get_block, link.cid)
                depth += 1
                break
        else:
            raise ContentNotFoundError(f"no link named {name!r} under {cid}")
