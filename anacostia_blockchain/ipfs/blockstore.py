"""The embedded blockstore: Kubo-compatible content addressing without a daemon. This is the default store.

Layout under ``path``::

    blocks/<XY>/<KEY>.data     one file per block; KEY = base32 (upper, unpadded) of the multihash, XY = the
                               next-to-last two characters of KEY (Kubo's flatfs ``next-to-last/2`` sharding)
    pins.json                  {"pins": ["<cid>", ...]} — recursive pins as of the last compaction (atomic rewrite)
    pins.log                   what changed since: one ``+<cid>`` (pin) or ``-<cid>`` (unpin) line per change
    pins.lock, gc.lock         flock targets (see below)

Design choices a user should know:

- Blocks are keyed by multihash, as Kubo does, so a CIDv0 and a CIDv1 of the same bytes share one file.
- Writes are atomic (temp file + ``os.replace``) and, with ``fsync=True`` (the default), durable before ``add``
  returns — file and directory entry both fsync'd: what the pipeline records is on disk first. A crash leaves at
  worst a stray ``.tmp-*`` file.
- Every read is re-hashed; a block that does not match its CID raises :class:`CorruptBlockError` naming the file,
  which is moved aside (``.corrupt``) so that adding the same content again heals the store.
  Blocks that arrive from outside (``put_block``, ``import_car``) are verified before they are stored; blocks the
  importer just hashed are not hashed twice.
- ``add_*`` pins the root by default (like ``ipfs add``); ``gc()`` deletes blocks no pin reaches. An ``add_*``
  that fails (a full disk, most often) deletes the blocks it created that no pin reaches before it raises, so it
  leaves nothing behind and gives back the space it took.
- Pinning is amortised O(1): a pin or unpin appends one line to ``pins.log`` (fsync'd with ``fsync=True``) and
  reads only what other writers appended since; once the log holds more lines than there are pins (and at least
  :data:`PIN_LOG_COMPACT_MIN`), the set is written to ``pins.json`` and the log starts again. Replaying the log
  over a ``pins.json`` that already includes it gives the same set, so a crash between the two steps loses nothing;
  a line torn by a crash is ignored and cut off by the next writer. A repository with only ``pins.json`` reads as is.
- Thread- and process-safe: block writes are idempotent and atomic; pin updates are serialised by a lock and an
  exclusive ``flock`` on ``pins.lock`` so two processes sharing a repository never lose each other's pins. Adds and
  CAR imports hold a shared ``flock`` on ``gc.lock`` from their first block to their pin, and ``gc`` holds it
  exclusively, so garbage collection never deletes the blocks of an add that has not pinned yet. Where the system
  has no ``flock`` (Windows) these locks hold within one process only (:mod:`._file_lock`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import uuid
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..errors import ContentNotFoundError, CorruptBlockError, InvalidCIDError, StorageError
from ._file_lock import file_lock
from .car import read_car, write_car, write_car_file
from .cid import CID
from .importer import ImportResult, OnBytes, OnFile, display_name, import_bytes, import_paths, import_stream
from .multiformats import IDENTITY
from .profiles import ImportOptions, resolve_options
from .unixfs_reader import get_to_path, iter_directory, iter_file_content, resolve_path, walk_dag

#: The pin log is folded into ``pins.json`` once it holds more lines than this and than there are pins.
PIN_LOG_COMPACT_MIN = 1024


@dataclass
class _PinCache:
    """The pin set as read from ``pins.json`` (its inode) plus ``pins.log`` (its inode) up to ``offset``."""

    pins: set[CID]
    snapshot: int | None
    log: int | None
    offset: int
    lines: int


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (the directory entry, not just the file's bytes)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def block_key(cid: CID) -> str:
    return base64.b32encode(cid.multihash).decode("ascii").rstrip("=")


class _WriteBehindSink:
    """Stores the importer's blocks on a few writer threads while it hashes the next chunk.

    Creating a file and renaming it are metadata operations that cost far more than hashing a chunk on many
    filesystems; they release the GIL, so overlapping them with hashing keeps import throughput close to hashing
    speed. At most ``max_pending`` blocks are in flight (bounded memory). Blocks come from the importer, which has
    just hashed them, so they are not hashed twice. :meth:`close` waits for every write and re-raises the first
    failure, so nothing is pinned or reported before it is on disk.
    """

    def __init__(self, store: EmbeddedBlockstore, created: list[CID], *, workers: int = 4,
                 max_pending: int = 16) -> None:
        self._write = store._write_block
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="blockstore-write")
        self._slots = threading.BoundedSemaphore(max_pending)
        self._error: BaseException | None = None
        self.created = created  # blocks this import wrote (not already present): what a failed import removes

    def put_block(self, cid: CID, data: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        payload = bytes(data)  # the importer reuses its chunk buffer
        self._slots.acquire()
        self._pool.submit(self._write_recording, cid, payload).add_done_callback(self._done)

    def _write_recording(self, cid: CID, payload: bytes) -> None:
        if self._write(cid, payload):
            self.created.append(cid)  # list.append is atomic under the GIL

    def _done(self, future: Future[None]) -> None:
        self._slots.release()
        error = future.exception()
        if error is not None and self._error is None:
            self._error = error

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._error is not None:
            raise self._error


class EmbeddedBlockstore:
    """Content-addressed files on disk with Kubo's import, cat, pin and CAR semantics."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = True,
                 default_options: ImportOptions | None = None) -> None:
        self.path = Path(path).expanduser()
        self.fsync = fsync
        self.default_options = default_options or ImportOptions()
        self._blocks = self.path / "blocks"
        self._pins_file = self.path / "pins.json"
        self._pin_log = self.path / "pins.log"
        self._pin_lock = threading.RLock()
        self._pin_cache: _PinCache | None = None
        self._pins_held = False  # this object holds pins.lock exclusively (only its _pin_lock owner reads this)
        self._known_dirs: set[str] = set()
        try:
            self._blocks.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create blockstore at {self.path}: {exc.strerror}") from exc

    def __repr__(self) -> str:
        return f"EmbeddedBlockstore({str(self.path)!r})"

    # --- blocks ---------------------------------------------------------------------------------------------------
    def _block_path(self, cid: CID) -> Path:
        key = block_key(cid)
        return self._blocks / key[-3:-1] / f"{key}.data"

    def _write_block(self, cid: CID, data: bytes | memoryview) -> bool:
        """Store a block unless it is there already; ``True`` when this call created it."""
        if cid.hash_code == IDENTITY:
            return False
        target = self._block_path(cid)
        if target.exists():
            return False
        shard = target.parent
        tmp = shard / f".tmp-{uuid.uuid4().hex}"
        try:
            if shard.name not in self._known_dirs:
                shard.mkdir(exist_ok=True)
                self._known_dirs.add(shard.name)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)
            if self.fsync:
                _fsync_dir(shard)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StorageError(f"cannot write block {cid} to {self.path}: {exc.strerror}") from exc
        return True

    def put_block(self, cid: CID | str, data: bytes | memoryview) -> None:
        """Store one block after checking it hashes to ``cid``."""
        cid = CID.parse(cid)
        cid.verify(data)
        self._write_block(cid, data)

    def get_block(self, cid: CID | str) -> bytes:
        """The verified bytes of one block; :class:`ContentNotFoundError` if absent."""
        cid = CID.parse(cid)
        if cid.hash_code == IDENTITY:
            return cid.digest
        path = self._block_path(cid)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ContentNotFoundError(f"block {cid} is not in the blockstore at {self.path}") from None
        except OSError as exc:
            raise StorageError(f"cannot read block {cid}: {exc.strerror}") from exc
        if not cid.matches(data):
            quarantine = path.with_suffix(".corrupt")
            with contextlib.suppress(OSError):
                os.replace(path, quarantine)
            raise CorruptBlockError(
                f"block {cid} on disk does not hash to its CID; moved aside to {quarantine} (adding the content "
                "again restores it)"
            )
        return data

    def has(self, cid: CID | str) -> bool:
        """Whether the block named by ``cid`` is stored (not the whole DAG; :meth:`has_dag` checks that)."""
        cid = CID.parse(cid)
        return cid.hash_code == IDENTITY or self._block_path(cid).exists()

    def verify_dag(self, cid: CID | str) -> int:
        """Read and re-hash every block under ``cid``; returns how many there are (raises on missing/corrupt)."""
        return sum(1 for _ in walk_dag(self.get_block, CID.parse(cid)))

    def has_dag(self, cid: CID | str) -> bool:
        try:
            self.verify_dag(cid)
        except ContentNotFoundError:
            return False
        return True

    def delete_block(self, cid: CID | str) -> bool:
        try:
            self._block_path(CID.parse(cid)).unlink()
        except FileNotFoundError:
            return False
        return True

    def iter_blocks(self) -> Iterator[Path]:
        yield from self._blocks.glob("*/*.data")

    # --- import ---------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _import_transaction(self) -> Iterator[list[CID]]:
        """Around an add (outside its gc guard): if it fails — typically a full disk — the blocks it created that
        no pin reaches are deleted again, so a failed add leaves nothing behind and gives back the space it took.

        Runs under the exclusive gc guard (no add in flight anywhere), like :meth:`gc` but limited to the blocks
        this import created: blocks that were already there, or that a pin reaches, are kept. Like ``gc``, it does
        not protect blocks only unpinned content (``pin=False`` adds) relies on.
        """
        created: list[CID] = []
        try:
            yield created
        except BaseException:
            if created:
                with contextlib.suppress(StorageError):
                    self._remove_unpinned(created)
            raise

    def _remove_unpinned(self, candidates: Iterable[CID]) -> int:
        with self._gc_guard(exclusive=True), self._pins_locked():
            keep = {block_key(cid) for pin in self.pins() for cid, _ in walk_dag(self.get_block, pin)}
            removed = 0
            for cid in candidates:
                if block_key(cid) not in keep:
                    try:
                        self._block_path(cid).unlink()
                    except FileNotFoundError:
                        continue
                    except OSError as exc:
                        raise StorageError(f"cannot remove block {cid}: {exc.strerror}") from exc
                    removed += 1
            return removed

    @contextlib.contextmanager
    def _importing(self, created: list[CID]) -> Iterator[_WriteBehindSink]:
        """A write-behind sink for the importer; every block is on disk when this exits (callers hold the gc guard)."""
        sink = _WriteBehindSink(self, created)
        try:
            yield sink
        except BaseException:
            with contextlib.suppress(Exception):
                sink.close()
            raise
        sink.close()

    def _options(self, options: ImportOptions | None, flags: dict[str, object]) -> ImportOptions:
        if options is None and not any(v is not None for v in flags.values()):
            return self.default_options
        return resolve_options(options, **flags)

    def add_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True,
                  options: ImportOptions | None = None, **flags: object) -> ImportResult:
        with self._import_transaction() as created, self._gc_guard(exclusive=False):
            with self._importing(created) as sink:
                result = import_bytes(data, sink, options=self._options(options, flags))
            if pin:
                self._add_pins([result.cid])
        return result

    def add_stream(self, stream: BinaryIO, *, pin: bool = True, name: str = "",
                   options: ImportOptions | None = None, **flags: object) -> ImportResult:
        with self._import_transaction() as created, self._gc_guard(exclusive=False):
            with self._importing(created) as sink:
                result = import_stream(stream, sink, name=name, options=self._options(options, flags))
            if pin:
                self._add_pins([result.cid])
        return result

    def add_paths(self, paths: Sequence[str | os.PathLike[str]], *, pin: bool = True, recursive: bool = False,
                  wrap: bool = False, hidden: bool = False, options: ImportOptions | None = None,
                  on_bytes: OnBytes | None = None, on_file: OnFile | None = None,
                  **flags: object) -> list[ImportResult]:
        """``ipfs add [-r] [-w] PATH...``: every entry ``ipfs add`` would print, root last; each argument's root
        is pinned (only the wrapper with ``wrap``). ``on_bytes`` / ``on_file`` report progress as in
        :func:`.importer.import_paths`."""
        with self._import_transaction() as created, self._gc_guard(exclusive=False):
            with self._importing(created) as sink:
                results = import_paths(paths, sink, recursive=recursive, wrap=wrap, hidden=hidden,
                                       options=self._options(options, flags), on_bytes=on_bytes, on_file=on_file)
            if pin:
                names = {display_name(p) for p in paths}
                roots = [results[-1].cid] if wrap else [r.cid for r in results if r.name in names]
                self._add_pins(roots)
        return results

    def add_path_all(self, path: str | os.PathLike[str], *, pin: bool = True, recursive: bool = False,
                     wrap: bool = False, hidden: bool = False, options: ImportOptions | None = None,
                     **flags: object) -> list[ImportResult]:
        """Every entry ``ipfs add`` would print for one path, root last."""
        return self.add_paths([path], pin=pin, recursive=recursive, wrap=wrap, hidden=hidden,
                              options=self._options(options, flags))

    def add_path(self, path: str | os.PathLike[str], *, pin: bool = True, recursive: bool | None = None,
                 wrap: bool = False, hidden: bool = False, options: ImportOptions | None = None,
                 **flags: object) -> ImportResult:
        """Import a file (or, with ``recursive`` — the default for directories — a directory); returns the root."""
        if recursive is None:
            recursive = Path(path).is_dir()
        return self.add_path_all(path, pin=pin, recursive=recursive, wrap=wrap, hidden=hidden, options=options,
                                 **flags)[-1]

    # --- read -----------------------------------------------------------------------------------------------------
    def resolve(self, cid_or_path: CID | str) -> CID:
        return resolve_path(self.get_block, cid_or_path)

    def cat_stream(self, cid_or_path: CID | str) -> Iterator[bytes]:
        """The file's bytes leaf by leaf (each at most one chunk), every block verified."""
        return iter_file_content(self.get_block, self.resolve(cid_or_path))

    def cat(self, cid_or_path: CID | str) -> bytes:
        return b"".join(self.cat_stream(cid_or_path))

    def ls(self, cid_or_path: CID | str) -> list[tuple[str, CID, int]]:
        """The entries ``(name, cid, tsize)`` of a directory, basic or HAMT-sharded."""
        return list(iter_directory(self.get_block, self.resolve(cid_or_path)))

    def get(self, cid_or_path: CID | str, destination: str | os.PathLike[str]) -> Path:
        """``ipfs get``: write a file, symlink or directory tree (sharded directories too) to ``destination``."""
        return get_to_path(self.get_block, cid_or_path, destination)

    # --- pins -----------------------------------------------------------------------------------------------------
    def pins(self) -> set[CID]:
        """The recursive pins (a copy)."""
        with self._pin_lock:
            if self._pins_held:
                return set(self._current_pins().pins)
            with file_lock(self.path / "pins.lock", exclusive=False):
                return set(self._current_pins().pins)

    def _current_pins(self) -> _PinCache:
        """The cached pin set, brought up to date: only the log lines appended since the last read are read, unless
        another writer compacted (``pins.json`` or ``pins.log`` is another file): then everything is read again."""
        cache = self._pin_cache
        if cache is None or cache.snapshot != _inode(self._pins_file) or cache.log != _inode(self._pin_log):
            cache = self._pin_cache = _PinCache(self._read_snapshot(), _inode(self._pins_file), None, 0, 0)
        self._read_log(cache)
        return cache

    def _read_snapshot(self) -> set[CID]:
        try:
            raw = json.loads(self._pins_file.read_text())
            return {CID.parse(text) for text in raw.get("pins", [])}
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            raise StorageError(f"pin file {self._pins_file} is unreadable: {exc}") from exc

    def _read_log(self, cache: _PinCache) -> None:
        """Apply the complete lines of ``pins.log`` past ``cache.offset`` (a torn last line is left unread)."""
        try:
            with self._pin_log.open("rb") as handle:
                cache.log = os.fstat(handle.fileno()).st_ino
                handle.seek(cache.offset)
                tail = handle.read()
        except FileNotFoundError:
            cache.log, cache.offset = None, 0
            return
        except OSError as exc:
            raise StorageError(f"pin log {self._pin_log} is unreadable: {exc.strerror}") from exc
        complete = tail[: tail.rfind(b"\n") + 1]
        for line in complete.decode("ascii", errors="replace").splitlines():
            try:
                cid = CID.parse(line[1:])
            except InvalidCIDError:
                continue  # a line a crash mangled: the pin it stood for was never acknowledged
            if line[:1] == "+":
                cache.pins.add(cid)
            elif line[:1] == "-":
                cache.pins.discard(cid)
            cache.lines += 1
        cache.offset += len(complete)

    def _append_pins(self, cache: _PinCache, changes: Sequence[tuple[str, CID]]) -> None:
        """Append ``changes`` (``("+", cid)`` / ``("-", cid)``) to the log, then compact if it is long enough; the
        caller holds the pins lock and has just brought ``cache`` up to date."""
        body = "".join(f"{sign}{cid}\n" for sign, cid in changes).encode("ascii")
        created = cache.log is None
        try:
            with self._pin_log.open("ab") as handle:
                if handle.tell() > cache.offset:  # a torn line a crashed writer left: cut it off
                    handle.truncate(cache.offset)
                handle.write(body)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
                cache.log = os.fstat(handle.fileno()).st_ino
            if created and self.fsync:
                _fsync_dir(self.path)
        except OSError as exc:
            raise StorageError(f"cannot write pin log {self._pin_log}: {exc.strerror}") from exc
        for sign, cid in changes:
            (cache.pins.add if sign == "+" else cache.pins.discard)(cid)
        cache.offset += len(body)
        cache.lines += len(changes)
        if cache.lines > max(PIN_LOG_COMPACT_MIN, len(cache.pins)):
            self._compact(cache)

    def _compact(self, cache: _PinCache) -> None:
        """Write the whole set to ``pins.json``, then start the log again (see the module docstring)."""
        self._save_pins(cache.pins)
        try:
            self._pin_log.unlink(missing_ok=True)
            if self.fsync:
                _fsync_dir(self.path)
        except OSError as exc:
            raise StorageError(f"cannot remove pin log {self._pin_log}: {exc.strerror}") from exc
        cache.snapshot, cache.log, cache.offset, cache.lines = _inode(self._pins_file), None, 0, 0

    def _save_pins(self, pins: Iterable[CID]) -> None:
        body = json.dumps({"pins": sorted(str(c) for c in pins)}, indent=1)
        tmp = self._pins_file.with_name(f".pins-{uuid.uuid4().hex}")
        try:
            with tmp.open("w") as handle:
                handle.write(body)
                handle.flush()
                if self.fsync:
                    os.fsync(handle.fileno())
            os.replace(tmp, self._pins_file)
            if self.fsync:
                _fsync_dir(self.path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise StorageError(f"cannot write pin file {self._pins_file}: {exc.strerror}") from exc

    @contextlib.contextmanager
    def _gc_guard(self, *, exclusive: bool) -> Iterator[None]:
        with file_lock(self.path / "gc.lock", exclusive=exclusive):
            yield

    @contextlib.contextmanager
    def _pins_locked(self) -> Iterator[None]:
        with self._pin_lock:
            if self._pins_held:  # re-entered by the thread that holds it
                yield
                return
            with file_lock(self.path / "pins.lock", exclusive=True):
                self._pins_held = True
                try:
                    yield
                finally:
                    self._pins_held = False

    def _add_pins(self, cids: Iterable[CID]) -> None:
        with self._pins_locked():
            cache = self._current_pins()
            new = list(dict.fromkeys(cid for cid in cids if cid not in cache.pins))
            if new:
                self._append_pins(cache, [("+", cid) for cid in new])

    def pin(self, cid: CID | str) -> CID:
        """Pin recursively. Every block of the DAG must be present and intact (it is walked and verified)."""
        cid = self.resolve(cid)
        self.verify_dag(cid)
        self._add_pins([cid])
        return cid

    def unpin(self, cid: CID | str) -> None:
        cid = CID.parse(cid)
        with self._pins_locked():
            cache = self._current_pins()
            if cid not in cache.pins:
                raise ContentNotFoundError(f"{cid} is not pinned")
            self._append_pins(cache, [("-", cid)])

    def gc(self) -> int:
        """Delete every block no pin reaches; returns how many were removed."""
        with self._gc_guard(exclusive=True), self._pins_locked():
            keep = {block_key(cid) for pin in self.pins() for cid, _ in walk_dag(self.get_block, pin)}
            removed = 0
            for path in list(self.iter_blocks()):
                if path.stem not in keep:
                    path.unlink(missing_ok=True)
                    removed += 1
            return removed

    # --- CAR ------------------------------------------------------------------------------------------------------
    def export_car(self, cid: CID | str, destination: str | os.PathLike[str] | BinaryIO, *, version: int = 1) -> int:
        """Write the DAG under ``cid`` as a CAR (depth-first, de-duplicated); ``version=2`` writes a CARv2 with a
        ``MultihashIndexSorted`` index (to a path or a seekable file). Returns the bytes written."""
        root = self.resolve(cid)
        if isinstance(destination, str | os.PathLike):
            return write_car_file(destination, lambda handle: self.export_car(root, handle, version=version))
        return write_car(destination, [root], walk_dag(self.get_block, root), version=version)

    def iter_car(self, cid: CID | str) -> Iterator[tuple[CID, bytes]]:
        return walk_dag(self.get_block, self.resolve(cid))

    def import_car(self, source: str | os.PathLike[str] | BinaryIO | bytes, *, pin: bool = True) -> list[CID]:
        """Store every block of a CAR (each verified before it is written) and pin its roots.

        Pinning requires each root's whole DAG to be present afterwards, as ``ipfs dag import`` does; a CAR with a
        corrupt block raises :class:`CorruptBlockError` and pins nothing (blocks before it are kept: they are
        valid content-addressed data, and ``gc`` removes them if nothing pins them).
        """
        with self._gc_guard(exclusive=False):
            with read_car(source) as reader:
                for cid, data in reader:
                    self._write_block(cid, data)
                roots = list(reader.roots)
            if pin:
                for root in roots:
                    self.pin(root)
        return roots
