"""The streaming UnixFS importer: bytes in, Kubo's CIDs out, byte for byte.

Layout is Kubo's *balanced* builder expressed as a streaming reduction: leaf links collect on level 0; whenever a
level holds ``max_links`` links it is packed into one dag-pb node whose link moves up a level. At the end the partial
levels are packed bottom-up until a single link remains. This yields the same tree as Kubo's depth-first
``fillNodeRec`` (every subtree full except the right-most spine) while holding at most ``max_links`` links per level
and one chunk of content in memory. A file of a single chunk is that chunk's leaf (Kubo's
``reduceSingleLeafToSelf``); an empty file is one empty leaf.

Leaves are dag-pb UnixFS ``File`` nodes (CIDv0 default) or raw blocks (``raw_leaves``; always CIDv1). The content
is hashed in place (``hashlib`` releases the GIL and no per-byte Python code runs); a dag-pb leaf is hashed as
``prefix + content + suffix`` without concatenation unless a sink has to store it.

``cumulative_size`` is Kubo's ``Size``: the root block's length plus the ``Tsize`` of all its links, where a link's
``Tsize`` is itself that child's cumulative size (a raw leaf's is its length).

Progress is reported through plain callbacks (this package draws nothing): ``on_bytes(n)`` after each chunk of content
is imported, ``on_file(name, size)`` after each regular file of a tree is imported.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, runtime_checkable

from ..errors import ConfigurationError, StorageError
from .chunker import iter_bytes_chunks, iter_chunks
from .cid import CID
from .dagpb import DIRECTORY, FILE, SYMLINK, PBLink, PBNode, UnixFSData, encode_node, encode_unixfs, file_leaf_envelope
from .hamt import build_shard, should_shard
from .multiformats import DAG_PB, RAW, SHA2_256, multihash_encode
from .profiles import ImportOptions, resolve_options

OnBytes = Callable[[int], None]
"""Called with the length of each chunk of file content once it is imported."""
OnFile = Callable[[str, int], None]
"""Called with a regular file's display name and size once it is imported."""


@runtime_checkable
class BlockSink(Protocol):
    """Where imported blocks go. ``put_block`` must consume ``data`` before returning (the buffer is reused)."""

    def put_block(self, cid: CID, data: bytes | memoryview) -> None: ...


@dataclass(frozen=True, slots=True)
class ImportResult:
    """One imported entry: its root CID, file size (0 for directories) and Kubo's cumulative size."""

    cid: CID
    size: int
    cumulative_size: int
    name: str = ""

    def named(self, name: str) -> ImportResult:
        return ImportResult(self.cid, self.size, self.cumulative_size, name)


@dataclass(slots=True)
class _Link:
    cid: CID
    tsize: int
    filesize: int


@dataclass(slots=True)
class _FileBuilder:
    options: ImportOptions
    sink: BlockSink | None
    levels: list[list[_Link]] = field(default_factory=lambda: [[]])
    total: int = 0
    leaves: int = 0

    def _cid(self, digest: bytes, codec: int, version: int) -> CID:
        return CID(version, codec, multihash_encode(SHA2_256, digest))

    def add_chunk(self, chunk: memoryview | bytes) -> None:
        length = len(chunk)
        if self.options.raw_leaves:
            cid = self._cid(hashlib.sha256(chunk).digest(), RAW, 1)
            if self.sink is not None:
                self.sink.put_block(cid, chunk)
            link = _Link(cid, length, length)
        else:
            prefix, suffix = file_leaf_envelope(length)
            hasher = hashlib.sha256(prefix)
            hasher.update(chunk)
            hasher.update(suffix)
            cid = self._cid(hasher.digest(), DAG_PB, self.options.cid_version)
            if self.sink is not None:
                self.sink.put_block(cid, b"".join((prefix, chunk, suffix)))
            link = _Link(cid, len(prefix) + length + len(suffix), length)
        self.total += length
        self.leaves += 1
        self._push(0, link)

    def _push(self, level: int, link: _Link) -> None:
        if level == len(self.levels):
            self.levels.append([])
        links = self.levels[level]
        links.append(link)
        if len(links) == self.options.max_links:
            self.levels[level] = []
            self._push(level + 1, self._pack(links))

    def _pack(self, links: list[_Link]) -> _Link:
        meta = UnixFSData(FILE, filesize=sum(x.filesize for x in links), blocksizes=[x.filesize for x in links])
        block = encode_node(PBNode([PBLink(x.cid, "", x.tsize) for x in links], encode_unixfs(meta)))
        cid = self._cid(hashlib.sha256(block).digest(), DAG_PB, self.options.cid_version)
        if self.sink is not None:
            self.sink.put_block(cid, block)
        return _Link(cid, len(block) + sum(x.tsize for x in links), meta.filesize or 0)

    def finish(self, name: str = "") -> ImportResult:
        if self.leaves == 0:
            self.add_chunk(b"")
        level = 0
        while True:
            links = self.levels[level]
            is_top = all(not upper for upper in self.levels[level + 1 :])
            if is_top and len(links) == 1:
                root = links[0]
                return ImportResult(root.cid, self.total, root.tsize, name)
            if links:
                self.levels[level] = []
                packed = self._pack(links)
                if level + 1 == len(self.levels):
                    self.levels.append([])
                self.levels[level + 1].append(packed)
            level += 1


def import_stream(
    stream: BinaryIO, sink: BlockSink | None = None, *, name: str = "", options: ImportOptions | None = None,
    on_bytes: OnBytes | None = None, **flags: object,
) -> ImportResult:
    """Import everything readable from ``stream`` as one UnixFS file; ``on_bytes`` hears each chunk's length."""
    opts = resolve_options(options, **flags)
    builder = _FileBuilder(opts, sink)
    for chunk in iter_chunks(stream, opts.chunk_size):
        builder.add_chunk(chunk)
        if on_bytes is not None:
            on_bytes(len(chunk))
    return builder.finish(name)


def import_bytes(
    data: bytes | bytearray | memoryview, sink: BlockSink | None = None, *, name: str = "",
    options: ImportOptions | None = None, **flags: object,
) -> ImportResult:
    """Import an in-memory buffer as one UnixFS file (no copy of the content is made)."""
    opts = resolve_options(options, **flags)
    builder = _FileBuilder(opts, sink)
    for chunk in iter_bytes_chunks(data, opts.chunk_size):
        builder.add_chunk(chunk)
    return builder.finish(name)


def import_file(
    source: str | os.PathLike[str] | BinaryIO, sink: BlockSink | None = None, *, name: str | None = None,
    options: ImportOptions | None = None, on_bytes: OnBytes | None = None, **flags: object,
) -> ImportResult:
    """Import a file by path (streamed from disk) or an open binary file object."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            with path.open("rb", buffering=0) as handle:
                return import_stream(handle, sink, name=path.name if name is None else name, options=options,
                                     on_bytes=on_bytes, **flags)
        except FileNotFoundError as exc:
            raise StorageError(f"no such file: {path}") from exc
        except IsADirectoryError as exc:
            raise StorageError(f"{path} is a directory (use recursive import)") from exc
        except OSError as exc:
            raise StorageError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return import_stream(source, sink, name=name or "", options=options, on_bytes=on_bytes, **flags)


def compute_cid(
    data: bytes | bytearray | memoryview, *, cid_version: int | None = None, profile: str | None = None,
    raw_leaves: bool | None = None, chunker: str | None = None,
) -> str:
    """The CID ``ipfs add --only-hash -Q`` prints for ``data`` with the given flags."""
    result = import_bytes(data, profile=profile, cid_version=cid_version, raw_leaves=raw_leaves, chunker=chunker)
    return str(result.cid)


# --- directories -----------------------------------------------------------------------------------------------------
def build_directory(
    entries: Mapping[str, ImportResult], sink: BlockSink | None = None, *, options: ImportOptions | None = None,
    name: str = "", **flags: object,
) -> ImportResult:
    """The UnixFS directory of ``entries``: one basic node (links sorted by name bytes) or, past Kubo's sharding
    threshold (see :mod:`.profiles`), a HAMT shard tree (see :mod:`.hamt`)."""
    opts = resolve_options(options, **flags)
    for entry_name in entries:
        if not entry_name or "/" in entry_name or entry_name in (".", ".."):
            raise ConfigurationError(f"invalid directory entry name {entry_name!r}")
    ordered = sorted(((n.encode("utf-8"), r) for n, r in entries.items()), key=lambda item: item[0])
    if should_shard(ordered, opts):
        cid, cumulative = build_shard(ordered, sink, opts)
        return ImportResult(cid, 0, cumulative, name)
    links = [PBLink(r.cid, n.decode("utf-8"), r.cumulative_size) for n, r in ordered]
    block = encode_node(PBNode(links, encode_unixfs(UnixFSData(DIRECTORY))))
    cid = CID(opts.cid_version, DAG_PB, multihash_encode(SHA2_256, hashlib.sha256(block).digest()))
    if sink is not None:
        sink.put_block(cid, block)
    return ImportResult(cid, 0, len(block) + sum(r.cumulative_size for _, r in ordered), name)


def symlink_node(target: str, sink: BlockSink | None, opts: ImportOptions, name: str = "") -> ImportResult:
    """A UnixFS symlink node pointing at ``target`` (stored as given, never resolved)."""
    block = encode_node(PBNode([], encode_unixfs(UnixFSData(SYMLINK, data=target.encode("utf-8")))))
    cid = CID(opts.cid_version, DAG_PB, multihash_encode(SHA2_256, hashlib.sha256(block).digest()))
    if sink is not None:
        sink.put_block(cid, block)
    return ImportResult(cid, 0, len(block), name)


@dataclass(frozen=True, slots=True)
class _Walk:
    sink: BlockSink | None
    opts: ImportOptions
    hidden: bool
    on_bytes: OnBytes | None = None
    on_file: OnFile | None = None


def _walk(path: Path, display: str, walk: _Walk, out: list[ImportResult], dirs: list[ImportResult]) -> ImportResult:
    sink, opts = walk.sink, walk.opts
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        result = symlink_node(os.readlink(path), sink, opts, display)
        out.append(result)
        return result
    if stat.S_ISREG(mode):
        result = import_file(path, sink, name=display, options=opts, on_bytes=walk.on_bytes)
        out.append(result)
        if walk.on_file is not None:
            walk.on_file(display, result.size)
        return result
    if not stat.S_ISDIR(mode):
        raise StorageError(f"{path}: unsupported file type (only regular files, directories and symlinks)")
    children: dict[str, ImportResult] = {}
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise StorageError(f"cannot list {path}: {exc.strerror or exc}") from exc
    for child in names:
        if not walk.hidden and child.startswith("."):
            continue
        children[child] = _walk(path / child, f"{display}/{child}" if display else child, walk, out, dirs)
    result = build_directory(children, sink, options=opts, name=display)
    dirs.append(result)
    return result


def display_name(path: str | os.PathLike[str]) -> str:
    """The name ``ipfs add`` gives an argument: its last component (``.`` and ``..`` resolved first)."""
    path = Path(path)
    return path.resolve().name if path.name in ("", ".", "..") else path.name


def import_paths(
    sources: Sequence[str | os.PathLike[str]], sink: BlockSink | None = None, *, recursive: bool = False,
    wrap: bool = False, hidden: bool = False, options: ImportOptions | None = None, on_bytes: OnBytes | None = None,
    on_file: OnFile | None = None, **flags: object,
) -> list[ImportResult]:
    """Kubo's ``ipfs add [-r] [-w] PATH...``: every entry in the order ``ipfs add`` prints them, the root last.

    Files print as they are imported, then each argument's directories in post-order; names are relative to the
    argument's parent. Hidden entries (dot files) are skipped unless ``hidden``. With ``wrap`` all arguments go
    into one directory, printed last with an empty name, as Kubo's wrapper is. ``on_bytes`` hears each chunk of
    content imported, ``on_file`` each regular file (its display name and size) once imported.
    """
    opts = resolve_options(options, **flags)
    walk = _Walk(sink, opts, hidden, on_bytes, on_file)
    results: list[ImportResult] = []
    tops: dict[str, ImportResult] = {}
    for source in sources:
        path = Path(source)
        if not path.exists() and not path.is_symlink():
            raise StorageError(f"no such file or directory: {path}")
        if path.is_dir() and not recursive:
            raise StorageError(f"{path} is a directory, use recursive import (-r)")
        files: list[ImportResult] = []
        dirs: list[ImportResult] = []
        base = display_name(path)
        tops[base] = _walk(path, base, walk, files, dirs)
        results += files + dirs
    if wrap:
        results.append(build_directory(tops, sink, options=opts, name=""))
    return results


def import_path(
    source: str | os.PathLike[str], sink: BlockSink | None = None, *, recursive: bool = False, wrap: bool = False,
    hidden: bool = False, options: ImportOptions | None = None, **flags: object,
) -> list[ImportResult]:
    """:func:`import_paths` for one path."""
    return import_paths([source], sink, recursive=recursive, wrap=wrap, hidden=hidden,
                        options=resolve_options(options, **flags))
