"""What :class:`~.kubo.KuboClient` sends to ``/api/v0/add`` and how it makes the daemon's roots the importer's.

- **Options.** Every ``add`` option that changes a CID is sent explicitly (:func:`add_params`): ``cid-version``,
  ``raw-leaves``, ``chunker``, ``hash``, ``trickle``, ``inline``, ``max-file-links``, ``max-directory-links``,
  ``max-hamt-fanout`` and ``empty-dirs``, so the daemon's ``Import.*`` config cannot change them. Kubo's RPC
  silently ignores options it does not know, so the options added in Kubo 0.35 (the three ``max-*``) and 0.40
  (``empty-dirs``) are only relied on when the daemon says it is at least that version; asking an older daemon for
  a non-default value is a :class:`ConfigurationError` before anything is uploaded (:func:`require_support`).
- **Parts.** The multipart body is what Kubo's own client sends (boxo ``MultiFileReader``): each entry a part named
  ``file`` with its URL-escaped relative path as ``filename``; directories ``application/x-directory``, files
  ``application/octet-stream``, symlinks ``application/symlink`` with the link target as the body.
- **Directories.** Two settings that shape directories are daemon config with no ``add`` option: the HAMT
  threshold (``Import.UnixFSHAMTDirectorySizeThreshold``) and its estimation (``...SizeEstimation``). So for a
  directory upload the client rebuilds every directory from the file CIDs the daemon reported (no content is
  hashed again: directory nodes only) with the local importer's rules (:class:`DirectoryPlan`). If the daemon's
  root differs (a ``unixfs-v1-2025`` daemon, a daemon that drops symlinks), the client uploads its own directory,
  shard and symlink blocks with ``dag/import`` so the daemon stores — and pins — the importer's root. The upload
  itself is sent with ``pin=false`` and the settled roots pinned afterwards, so a differing root is never pinned.
"""

from __future__ import annotations

import functools
import os
import stat
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import ConfigurationError, KuboError
from .cid import CID
from .importer import BlockSink, ImportResult, build_directory, symlink_node
from .profiles import DEFAULT_HAMT_FANOUT, ImportOptions

UPLOAD_PIECE = 1024 * 1024
#: Kubo's defaults for the options older daemons do not know (what they use whatever is asked).
_LEGACY = {"max-file-links": "174", "max-directory-links": "0", "max-hamt-fanout": str(DEFAULT_HAMT_FANOUT),
           "empty-dirs": "true"}
#: The Kubo release that introduced each option.
_SINCE = {"max-file-links": (0, 35), "max-directory-links": (0, 35), "max-hamt-fanout": (0, 35),
          "empty-dirs": (0, 40)}

Part = tuple[str, str, BinaryIO | bytes | None]


def add_params(options: ImportOptions, *, pin: bool, only_hash: bool, wrap: bool, hidden: bool = False,
               ) -> list[tuple[str, str]]:
    """The query of one ``add`` request: every CID-shaping option explicit, then the request's own flags."""
    return [
        ("cid-version", str(options.cid_version)),
        ("raw-leaves", str(options.raw_leaves).lower()),
        ("chunker", f"size-{options.chunk_size}"),
        ("hash", "sha2-256"),
        ("trickle", "false"),
        ("inline", "false"),
        ("max-file-links", str(options.max_links)),
        ("max-directory-links", str(options.max_directory_links)),
        ("max-hamt-fanout", str(options.hamt_fanout)),
        ("empty-dirs", str(options.empty_dirs).lower()),
        ("pin", str(pin).lower()),
        ("only-hash", str(only_hash).lower()),
        ("wrap-with-directory", str(wrap).lower()),
        ("hidden", str(hidden).lower()),
        ("progress", "false"),
    ]


def parse_version(text: str) -> tuple[int, int]:
    """``(major, minor)`` of a version string like ``0.22.0`` or ``0.40.1-rc1``; ``(0, 0)`` if unreadable."""
    pieces = text.strip().lstrip("v").split(".")
    try:
        return int(pieces[0]), int(pieces[1].split("-")[0])
    except (IndexError, ValueError):
        return 0, 0


def require_support(params: list[tuple[str, str]], version: tuple[int, int], daemon: str) -> None:
    """Refuse options a daemon of ``version`` would silently ignore when they differ from what it does anyway."""
    for name, value in params:
        since = _SINCE.get(name)
        if since and version < since and value != _LEGACY[name]:
            raise ConfigurationError(
                f"{name}={value} needs Kubo {since[0]}.{since[1]} or newer; the daemon at {daemon} is "
                f"{version[0]}.{version[1]} and would ignore it (and store other CIDs)"
            )


def needs_version_check(params: list[tuple[str, str]]) -> bool:
    return any(name in _SINCE and value != _LEGACY[name] for name, value in params)


# --- the multipart body ----------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Entry:
    """One entry of a path upload: its name relative to the argument's parent and what it is."""

    rel: str
    path: Path
    kind: str  # "file", "dir" or "symlink"
    target: str = ""


def walk(root: Path, hidden: bool) -> Iterator[Entry]:
    """Directory entries before their content, names sorted, relative to ``root``'s parent (as Kubo's CLI sends
    them). Symlinks are entries of their own, never followed."""
    base = root.resolve().name if root.name in ("", ".", "..") else root.name
    stack = [(base, root)]
    while stack:
        rel, full = stack.pop()
        mode = full.lstat().st_mode
        if stat.S_ISLNK(mode):
            yield Entry(rel, full, "symlink", os.readlink(full))
        elif stat.S_ISDIR(mode):
            yield Entry(rel, full, "dir")
            children = sorted(c for c in os.listdir(full) if hidden or not c.startswith("."))
            stack.extend((f"{rel}/{c}", full / c) for c in reversed(children))
        elif stat.S_ISREG(mode):
            yield Entry(rel, full, "file")
        else:
            raise ConfigurationError(f"{full}: unsupported file type (only regular files, directories and symlinks)")


_CONTENT_TYPES = {"dir": "application/x-directory", "symlink": "application/symlink",
                  "file": "application/octet-stream"}


def multipart(parts: Iterable[Part], boundary: str) -> Iterator[bytes]:
    """A streamed ``multipart/form-data`` body of ``(name, kind, content)`` parts, Kubo's client's way."""
    for name, kind, content in parts:
        filename = urllib.parse.quote(name, safe="")
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
               f"Content-Type: {_CONTENT_TYPES[kind]}\r\n\r\n").encode()
        if isinstance(content, bytes | bytearray | memoryview):
            view = memoryview(content)
            for start in range(0, len(view), UPLOAD_PIECE):
                yield bytes(view[start : start + UPLOAD_PIECE])
        elif content is not None:
            yield from iter(functools.partial(content.read, UPLOAD_PIECE), b"")
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


# --- settling directories --------------------------------------------------------------------------------------------
@dataclass
class _Collected:
    """The blocks the client itself builds for a directory upload (directories, shards, symlinks)."""

    blocks: dict[CID, bytes] = field(default_factory=dict)

    def put_block(self, cid: CID, data: bytes | memoryview) -> None:
        self.blocks[cid] = bytes(data)


class DirectoryPlan:
    """The entries of one path upload; :meth:`settle` rebuilds its directories from the daemon's file CIDs."""

    def __init__(self, tops: list[list[Entry]], options: ImportOptions, wrap: bool) -> None:
        self.tops = tops
        self.options = options
        self.wrap = wrap
        self.collected = _Collected()

    @property
    def root_names(self) -> list[str]:
        """The names the daemon reports the roots under: ``""`` for the wrapper, else each argument's name."""
        return [""] if self.wrap else [top[0].rel for top in self.tops]

    @property
    def has_directories(self) -> bool:
        return self.wrap or any(entry.kind == "dir" for top in self.tops for entry in top)

    def settle(self, reported: dict[str, ImportResult], sizes: dict[str, int]) -> tuple[list[ImportResult], list[CID]]:
        """Every entry as the local importer prints them (files, then directories post-order, root last) with the
        daemon's file CIDs, and the roots; directory, shard and symlink blocks are kept in ``collected``."""
        sink: BlockSink = self.collected
        results: list[ImportResult] = []
        roots: dict[str, ImportResult] = {}
        for top in self.tops:
            files: list[ImportResult] = []
            dirs: list[ImportResult] = []
            children: dict[str, dict[str, ImportResult]] = {}
            for entry in top:  # pre-order: a directory comes before its content
                if entry.kind == "dir":
                    children[entry.rel] = {}
                    continue
                if entry.kind == "symlink":
                    result = symlink_node(entry.target, sink, self.options, entry.rel)
                else:
                    result = self._reported(reported, entry.rel, sizes)
                files.append(result)
                self._attach(children, entry.rel, result)
            built: dict[str, ImportResult] = {}
            for entry in reversed(top):  # children before their parent
                if entry.kind == "dir":
                    built[entry.rel] = build_directory(children[entry.rel], sink, options=self.options,
                                                       name=entry.rel)
                    self._attach(children, entry.rel, built[entry.rel])
            dirs = [built[rel] for rel in _post_order(top[0].rel, built)] if built else []
            root = dirs[-1] if dirs else files[-1]
            roots[root.name] = root
            results += files + dirs
        if self.wrap:
            wrapper = build_directory(roots, sink, options=self.options, name="")
            results.append(wrapper)
            return results, [wrapper.cid]
        return results, [root.cid for root in roots.values()]

    @staticmethod
    def _attach(children: dict[str, dict[str, ImportResult]], rel: str, result: ImportResult) -> None:
        parent, _, name = rel.rpartition("/")
        if parent in children:
            children[parent][name] = result

    @staticmethod
    def _reported(reported: dict[str, ImportResult], rel: str, sizes: dict[str, int]) -> ImportResult:
        event = reported.get(rel)
        if event is None:
            raise KuboError(f"Kubo RPC add: the daemon did not report the file {rel!r} it was sent")
        return ImportResult(event.cid, sizes.get(rel, 0), event.cumulative_size, rel)


def _post_order(top: str, built: dict[str, ImportResult]) -> list[str]:
    """The directories under ``top`` (itself last) in the order ``ipfs add`` prints them: depth first, by name."""
    below: dict[str, list[str]] = {}
    for rel in built:
        if rel != top:
            below.setdefault(rel.rpartition("/")[0], []).append(rel)
    out: list[str] = []
    stack: list[tuple[str, bool]] = [(top, False)]
    while stack:
        rel, expanded = stack.pop()
        if expanded:
            out.append(rel)
            continue
        stack.append((rel, True))
        stack.extend((child, False) for child in sorted(below.get(rel, []), reverse=True))
    return out
