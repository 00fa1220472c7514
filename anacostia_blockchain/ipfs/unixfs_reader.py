"""Reading UnixFS DAGs from any block source: file content, path resolution, and depth-first DAG walks.

Everything here takes a ``get_block(cid) -> bytes`` callable that must return *verified* bytes (the embedded
blockstore re-hashes on every read; the Kubo client re-hashes what the daemon sends). Content is streamed leaf by
leaf with an explicit stack, so memory is bounded by the DAG's depth times its fan-out, never by the file size.
The total produced is checked against the root's declared ``filesize``; a mismatch is a :class:`CorruptBlockError`.
Directories are basic nodes or HAMT shard trees (:mod:`.hamt`); paths resolve through both, and a sharded lookup
reads only the shards the name's hash selects.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ContentNotFoundError, CorruptBlockError, InvalidCIDError, NotAFileError, StorageError
from .cid import CID
from .dagpb import DIRECTORY, FILE, HAMT_SHARD, RAW, SYMLINK, PBNode, UnixFSData, decode_node, decode_unixfs
from .hamt import find_in_shard, iter_shard
from .multiformats import DAG_PB
from .multiformats import RAW as RAW_CODEC

BlockGetter = Callable[[CID], bytes]


def decode_unixfs_node(cid: CID, block: bytes) -> tuple[PBNode, UnixFSData]:
    node = decode_node(block)
    if node.data is None:
        raise CorruptBlockError(f"{cid} is a dag-pb node without UnixFS data")
    return node, decode_unixfs(node.data)


def iter_file_content(get_block: BlockGetter, root: CID) -> Iterator[bytes]:
    """Yield the bytes of the UnixFS file at ``root`` in order."""
    expected: int | None = None
    produced = 0
    stack = [root]
    first = True
    while stack:
        cid = stack.pop()
        block = get_block(cid)
        if cid.codec == RAW_CODEC:
            data = block
        elif cid.codec == DAG_PB:
            node, meta = decode_unixfs_node(cid, block)
            if meta.type in (DIRECTORY, HAMT_SHARD):
                if first:
                    raise NotAFileError(f"{root} is a directory, not a file")
                raise CorruptBlockError(f"directory {cid} found inside file {root}")
            if meta.type == SYMLINK:
                raise NotAFileError(f"{root} is a symlink, not a file")
            if meta.type not in (FILE, RAW):
                raise NotAFileError(f"{cid} has UnixFS type {meta.type}, not a file")
            if first:
                expected = meta.filesize
            if meta.blocksizes and len(meta.blocksizes) != len(node.links):
                raise CorruptBlockError(
                    f"{cid} declares {len(meta.blocksizes)} block sizes for {len(node.links)} links"
                )
            data = meta.data or b""
            stack.extend(link.cid for link in reversed(node.links))
        else:
            raise NotAFileError(f"{cid} has codec {cid.codec_name}; only dag-pb and raw UnixFS content can be read")
        first = False
        if data:
            produced += len(data)
            yield data
    if expected is not None and produced != expected:
        raise CorruptBlockError(f"{root} declares {expected} bytes but its DAG holds {produced}")


def resolve_path(get_block: BlockGetter, path: str | CID) -> CID:
    """Resolve ``CID``, ``/ipfs/CID`` or ``CID/name/...`` through UnixFS directories to a CID."""
    if isinstance(path, CID):
        return path
    text = path.strip()
    if text.startswith("/ipfs/"):
        text = text[len("/ipfs/") :]
    parts = [p for p in text.split("/") if p]
    if not parts:
        raise InvalidCIDError(f"empty IPFS path {path!r}")
    cid = CID.parse(parts[0])
    for name in parts[1:]:
        if cid.codec != DAG_PB:
            raise NotAFileError(f"cannot resolve {name!r}: {cid} is not a directory")
        node, meta = decode_unixfs_node(cid, get_block(cid))
        if meta.type == HAMT_SHARD:
            cid = find_in_shard(get_block, cid, node, meta, name)
            continue
        if meta.type != DIRECTORY:
            raise NotAFileError(f"cannot resolve {name!r}: {cid} is not a directory")
        for link in node.links:
            if link.name == name:
                cid = link.cid
                break
        else:
            raise ContentNotFoundError(f"no link named {name!r} under {cid}")
    return cid


def iter_directory(get_block: BlockGetter, cid: CID) -> Iterator[tuple[str, CID, int]]:
    """The entries ``(name, cid, tsize)`` of the directory at ``cid`` (basic or sharded); ``NotAFileError`` if it
    is not a directory. A basic directory lists in link order, a sharded one in shard order."""
    if cid.codec != DAG_PB:
        raise NotAFileError(f"{cid} is not a directory")
    node, meta = decode_unixfs_node(cid, get_block(cid))
    if meta.type == HAMT_SHARD:
        yield from iter_shard(get_block, cid, node, meta)
    elif meta.type == DIRECTORY:
        for link in node.links:
            yield link.name or "", link.cid, link.tsize or 0
    else:
        raise NotAFileError(f"{cid} is not a directory")


def entry_kind(get_block: BlockGetter, cid: CID) -> str:
    """``"file"``, ``"directory"`` or ``"symlink"`` for the UnixFS node at ``cid``."""
    if cid.codec == RAW_CODEC:
        return "file"
    if cid.codec != DAG_PB:
        raise NotAFileError(f"{cid} has codec {cid.codec_name}; only dag-pb and raw UnixFS content can be read")
    _, meta = decode_unixfs_node(cid, get_block(cid))
    if meta.type in (DIRECTORY, HAMT_SHARD):
        return "directory"
    if meta.type == SYMLINK:
        return "symlink"
    return "file"


def _safe_name(name: str, parent: CID) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise CorruptBlockError(f"directory {parent} has an entry named {name!r}, which cannot be written to disk")
    return name


def get_to_path(get_block: BlockGetter, path: str | CID, destination: str | os.PathLike[str]) -> Path:
    """``ipfs get``: write the file, symlink or directory tree at ``path`` to ``destination`` (which must not
    exist). Entry names that would leave ``destination`` (``..``, ``/``) are refused as corrupt."""
    root = resolve_path(get_block, path)
    target = Path(destination)
    if target.exists() or target.is_symlink():
        raise StorageError(f"{target} already exists")
    stack = [(root, target)]
    while stack:
        cid, out = stack.pop()
        kind = entry_kind(get_block, cid)
        if kind == "directory":
            out.mkdir(parents=out == target)
            for name, child, _ in iter_directory(get_block, cid):
                stack.append((child, out / _safe_name(name, cid)))
        elif kind == "symlink":
            _, meta = decode_unixfs_node(cid, get_block(cid))
            os.symlink((meta.data or b"").decode("utf-8", "surrogateescape"), out)
        else:
            with out.open("wb") as handle:
                for piece in iter_file_content(get_block, cid):
                    handle.write(piece)
    return target


def walk_dag(get_block: BlockGetter, root: CID) -> Iterator[tuple[CID, bytes]]:
    """Every block reachable from ``root``, depth-first pre-order, each once (``ipfs dag export`` order)."""
    seen: set[bytes] = set()
    stack = [root]
    while stack:
        cid = stack.pop()
        key = bytes(cid)
        if key in seen:
            continue
        seen.add(key)
        block = get_block(cid)
        yield cid, block
        if cid.codec == DAG_PB:
            stack.extend(link.cid for link in reversed(decode_node(block).links))
