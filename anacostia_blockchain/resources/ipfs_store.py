"""``IPFSStoreNode``: a resource whose artifacts live on IPFS, addressed by Kubo-identical CIDs.

Same node API as :class:`~anacostia_blockchain.resources.filesystem.FilesystemStoreNode` (``trigger_condition``,
``get_num_artifacts``, ``list_artifacts``, ``save_artifact``, ``record_current``), with one more fact per artifact:
its CID. Two roles:

* **Output** (``monitoring=False``, the default when nothing is watched): an action calls
  ``save_artifact(path_or_bytes, name=...)``; the content is imported into the store and pinned, then recorded in the
  metadata store with its sha256, size and CID as produced by the executing run and node (lineage). The returned
  :class:`~anacostia_blockchain.engine.artifact.Artifact` carries ``.cid``. If the store fails nothing is recorded
  (:class:`~anacostia_blockchain.errors.ArtifactWriteError`, the storage error chained).
* **Input** (``staging_dir=`` and/or ``cids=``): files that land in the local staging folder (watchdog
  ``on_closed`` / ``on_moved``, so half-written files are never picked up; dot-files and ``*.partial``/``*.tmp``
  are ignored) are added to IPFS, pinned and recorded ``new``, which triggers runs exactly like a watched folder.
  The staging folder must exist at launch unless ``create=True`` (a missing one is a
  :class:`~anacostia_blockchain.errors.WatchedFolderNotFoundError` naming it). A start-up scan reconciles the folder
  with the database (files added while stopped are recorded; unchanged ones are not recorded twice).
  ``cids=[...]`` (and :meth:`IPFSStoreNode.add_cid` at run time) turn existing IPFS content into inputs: it is
  fetched (every block verified), hashed and pinned first. Deleting a staging file does not delete the artifact: its
  content stays pinned under its CID.

Backends: ``store=None`` is the embedded blockstore at ``$ANACOSTIA_IPFS_PATH`` (default ``~/.anacostia/ipfs``);
a string is a configuration for :func:`anacostia_blockchain.ipfs.store.open_content_store` (``"embedded"``,
``"embedded:/dir"``, a directory, or an ``http(s)://`` Kubo RPC URL); a path object is an embedded blockstore there;
or pass any :class:`~anacostia_blockchain.ipfs.store.ContentStore` (an ``EmbeddedBlockstore``, a ``KuboClient``).
``import_options`` (e.g. ``{"cid_version": 1}`` or ``{"profile": "unixfs-v1-2025"}``) choose the CID profile.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from ..engine import Artifact, ArtifactState, BaseMetadataStoreNode
from ..errors import (
    ArtifactNotFoundError,
    ArtifactWriteError,
    ConfigurationError,
    ContentMismatchError,
    NoActiveRunError,
    ResourceError,
    StorageError,
)
from ..ipfs import CID, ContentStore, EmbeddedBlockstore, ImportResult, open_content_store
from ..ipfs.importer import import_bytes, import_stream
from .watch_events import Landed, LandedTree, is_ignored, open_for_writing
from .watched_folder import STOP, WatchedFolderResource

#: What ``save_artifact`` accepts, as for ``FilesystemStoreNode``, plus a path to an existing file.
ArtifactContent = bytes | bytearray | memoryview | str | IO[bytes] | Callable[[IO[bytes]], Any]


def open_store(store: ContentStore | str | os.PathLike[str] | None) -> ContentStore:
    """Resolve the ``store=`` argument (see the module docstring)."""
    if store is None or isinstance(store, str):
        return open_content_store(store)
    if isinstance(store, os.PathLike):
        return EmbeddedBlockstore(store)
    if not isinstance(store, ContentStore):
        raise ConfigurationError(f"store {store!r} is not a content store (see anacostia_blockchain.ipfs.ContentStore)")
    return store


class _ContentReader(io.RawIOBase):
    """A read-only binary stream over ``cat_stream`` (so consumers never hold a whole artifact)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        size = min(len(target), len(self._buffer))
        target[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size


class IPFSStoreNode(WatchedFolderResource):
    """A resource on IPFS (see the module docstring for the output and input roles)."""

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        *,
        store: ContentStore | str | os.PathLike[str] | None = None,
        staging_dir: str | os.PathLike[str] | None = None,
        cids: Iterable[str] = (),
        init_state: str | ArtifactState = ArtifactState.NEW,
        monitoring: bool | None = None,
        import_options: dict[str, Any] | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        create: bool = False,
    ) -> None:
        watched = staging_dir is not None or bool(cids)
        super().__init__(name, metadata_store, loggers, monitoring=watched if monitoring is None else monitoring,
                         create=create)
        self.store = open_store(store)
        self.resource_path = Path(staging_dir) if staging_dir is not None else None
        self.initial_cids = [str(CID.parse(cid)) for cid in cids]
        self.init_state = ArtifactState(init_state)
        if self.init_state not in (ArtifactState.NEW, ArtifactState.OLD):
            raise ConfigurationError(f"{name}: init_state must be 'new' or 'old'")
        self.import_options = dict(import_options or {})
        self._stage_lock = threading.Lock()

    # --- output role -----------------------------------------------------------------------------------------
    def save_artifact(
        self,
        content_or_name: bytes | str | os.PathLike[str],
        content: ArtifactContent | None = None,
        *,
        name: str | None = None,
        derived_from: Iterable[Artifact | int] | None = None,
    ) -> Artifact:
        """Add content to IPFS, pin it and record it as produced by the executing run and node; ``.cid`` is set.
        ``derived_from``: its lineage, as for :meth:`FilesystemStoreNode.save_artifact`.

        Two call forms:

        * ``save_artifact(path_or_bytes, name=None)``: a file (by path) or bytes; the location defaults to the file
          name, or the CID for bytes;
        * ``save_artifact(name, content)``, exactly as :class:`FilesystemStoreNode` takes it (bytes, text, a binary
          file object or a function writing to a binary file), so an action can switch output stores unchanged.

        A later version saved under the same location supersedes the earlier one in the metadata store (whose
        content stays pinned under its CID). On a storage failure nothing is recorded (:class:`ArtifactWriteError`).
        """
        if self.metadata_store.current_run_id is None:
            raise NoActiveRunError(f"{self.name}: save_artifact() is for actions executing in a run")
        lineage = self.checked_lineage(derived_from)
        if content is not None:
            if name is not None:
                raise ConfigurationError(f"{self.name}.save_artifact(name, content) takes no name= as well")
            location = os.fspath(content_or_name)
            if not isinstance(location, str) or not location:
                raise ConfigurationError(f"{self.name}: an artifact name must be a non-empty string")
            result, sha256, size = self._add_content(content)
        elif isinstance(content_or_name, bytes | bytearray | memoryview):
            result, sha256, size = self._add(bytes(content_or_name))
            location = name or str(result.cid)
        else:
            result, sha256, size = self._add(content_or_name)
            location = name or Path(os.fspath(content_or_name)).name
        self.before_record(str(result.cid))
        return self.record_produced(location, sha256, size, cid=str(result.cid), derived_from=lineage)

    def record_current(
        self, cid: str, *, name: str | None = None, derived_from: Iterable[Artifact | int] | None = None,
        sha256: str | None = None,
    ) -> Artifact:
        """Record content an action already put into the store (by CID) as produced by it; it gets pinned.
        ``sha256``: what the content must hash to (e.g. a remote worker's claim): otherwise nothing is recorded
        (:class:`~anacostia_blockchain.errors.ContentMismatchError`)."""
        lineage = self.checked_lineage(derived_from)
        parsed = CID.parse(cid)
        actual, size = self._hash_content(parsed)
        if sha256 is not None and actual != sha256:
            raise ContentMismatchError(f"{self.name}: {parsed} has sha256 {actual}, not the {sha256} it was sent with")
        sha256 = actual
        self._pin(parsed)
        self.before_record(str(parsed))
        return self.record_produced(name or str(parsed), sha256, size, cid=str(parsed), derived_from=lineage)

    def before_record(self, cid: str) -> None:
        """Hook: the content is in the store (pinned) and about to be recorded as produced. Raise
        :class:`ArtifactWriteError` to refuse it — nothing is recorded. The default does nothing."""

    def open_artifact(self, artifact: Artifact) -> BinaryIO:
        """A stream of the artifact's content read back from IPFS (every block verified against its CID); counts as
        read by the executing node."""
        self.record_reads([artifact])
        if artifact.cid is None:
            raise ArtifactNotFoundError(f"{self.name}: artifact {artifact.location} has no CID")
        try:
            chunks = self.store.cat_stream(artifact.cid)
        except StorageError as exc:
            raise ArtifactNotFoundError(f"{self.name}: cannot read {artifact.location}: {exc}") from exc
        return io.BufferedReader(_ContentReader(_translate_read_errors(chunks, self.name, artifact)))

    def read_bytes(self, artifact: Artifact) -> bytes:
        with self.open_artifact(artifact) as handle:
            return handle.read()

    # --- input role ------------------------------------------------------------------------------------------
    def setup(self) -> None:
        for cid in self.initial_cids:
            self.add_cid(cid, state=self.init_state)
        if self.resource_path is None:
            return
        self.watch_folder(self.resource_path)
        self.reconcile()

    def serve(self) -> None:
        while (change := self.next_change()) is not STOP:
            paths = [Path(change.path)] if isinstance(change, Landed) else []
            if isinstance(change, LandedTree):
                paths = sorted(p for p in Path(change.path).rglob("*") if p.is_file())
            for path in paths:
                self._stage_event(path)

    def staging_file(self, artifact: Artifact) -> Path | None:
        """The staging file an input artifact came from (``None`` for CID inputs and outputs); counts as read."""
        if self.resource_path is None or artifact.location == artifact.cid:
            return None
        self.record_reads([artifact])
        return self.resource_path / artifact.location

    def reconcile(self) -> int:
        """Record every staging file not yet recorded with its current content; returns how many were added."""
        root = self._staging_root()
        present = self.metadata_store.runs.present_artifacts(self.name)
        first_time = not present and not self.list_artifacts()
        state = self.init_state if first_time else ArtifactState.NEW
        added = 0
        for path in sorted(root.rglob("*")):
            if path.is_file() and not self._ignored(path):
                added += self._stage(path, present.get(self._location(path)), state) is not None
        return added

    def add_cid(self, cid: str, *, state: ArtifactState = ArtifactState.NEW) -> Artifact | None:
        """Make existing IPFS content an input: fetch and verify it, pin it, record it (once per CID)."""
        parsed = CID.parse(cid)
        location = str(parsed)
        with self._stage_lock:
            if location in self.metadata_store.runs.present_artifacts(self.name):
                return None
            sha256, size = self._hash_content(parsed)
            self._pin(parsed)
            return self.record_detected(location, sha256, size, state=state, cid=location)

    def _stage_event(self, path: Path) -> None:
        if self.resource_path is None or self._ignored(path) or not path.is_file():
            return
        try:
            self._stage(path, self.metadata_store.runs.present_artifacts(self.name).get(self._location(path)))
        except (ResourceError, StorageError, OSError) as exc:  # keep watching: one bad file must not stop the node
            self.log(f"could not stage {path}: {exc}", level="ERROR")
        except Exception as exc:  # a metadata store outage must not kill the watcher either
            self.log(f"could not stage {path}: {exc!r}", level="ERROR")

    def _stage(self, path: Path, known: Artifact | None, state: ArtifactState = ArtifactState.NEW) -> Artifact | None:
        with self._stage_lock:
            if open_for_writing(path):
                return None  # being rewritten: staged when that writer closes it
            stat = path.stat()
            if known is not None and known.size == stat.st_size and known.mtime_ns == stat.st_mtime_ns:
                return None
            sha256, local = self._fingerprint(path)
            if known is not None and known.sha256 == sha256:
                return None
            result = self._add_path(path, local)
            return self.record_detected(
                self._location(path), sha256, local.size, state=state, mtime_ns=stat.st_mtime_ns, cid=str(result.cid)
            )

    def _staging_root(self) -> Path:
        if self.resource_path is None:
            raise ConfigurationError(f"{self.name} has no staging folder (pass staging_dir=)")
        return self.resource_path

    def _location(self, path: Path) -> str:
        return path.relative_to(self._staging_root()).as_posix()

    def _ignored(self, path: Path) -> bool:
        return is_ignored(path.relative_to(self._staging_root()))

    # --- store access (StorageError -> resource errors at this one boundary) --------------------------------
    def _add(self, content: bytes | str | os.PathLike[str]) -> tuple[ImportResult, str, int]:
        if isinstance(content, bytes):
            local = import_bytes(content, None, **self.import_options)
            try:
                result = self.store.add_bytes(content, pin=True, **self.import_options)
            except StorageError as exc:
                raise ArtifactWriteError(f"{self.name}: could not add to IPFS: {exc}") from exc
            self._check_store_cid(result, local, "the content")
            return result, hashlib.sha256(content).hexdigest(), len(content)
        path = Path(content)
        sha256, local = self._fingerprint(path)
        return self._add_path(path, local), sha256, local.size

    def _add_content(self, content: ArtifactContent) -> tuple[ImportResult, str, int]:
        """FilesystemStoreNode-style content: bytes and text directly, streams and writer functions via a temp file."""
        if isinstance(content, bytes | bytearray | memoryview):
            return self._add(bytes(content))
        if isinstance(content, str):
            return self._add(content.encode("utf-8"))
        if not (hasattr(content, "read") or callable(content)):
            raise ConfigurationError(
                f"save_artifact content must be bytes, str, a binary file object or a writer function, "
                f"got {type(content).__name__}"
            )
        spool = tempfile.TemporaryDirectory(prefix="anacostia-ipfs-")
        try:
            path = Path(spool.name) / "content"
            with path.open("wb") as handle:
                if hasattr(content, "read"):
                    shutil.copyfileobj(content, handle, 1024 * 1024)
                else:
                    content(handle)
            return self._add(path)
        except OSError as exc:
            raise ArtifactWriteError(f"{self.name}: could not spool the artifact: {exc.strerror or exc}") from exc
        finally:
            spool.cleanup()

    def _fingerprint(self, path: Path) -> tuple[str, ImportResult]:
        """sha256 and the locally computed CID of a file, in one streaming pass."""
        try:
            with path.open("rb") as handle:
                reader = _HashingReader(handle)
                local = import_stream(cast(BinaryIO, reader), None, **self.import_options)
        except FileNotFoundError as exc:
            raise ArtifactNotFoundError(f"{self.name}: no such file {path}") from exc
        except OSError as exc:
            raise ResourceError(f"{self.name}: cannot read {path}: {exc.strerror or exc}") from exc
        return reader.digest.hexdigest(), local

    def _add_path(self, path: Path, local: ImportResult) -> ImportResult:
        """Add and pin a file; the store's CID must equal the one computed while hashing (else it changed)."""
        try:
            result = self.store.add_path(path, pin=True, **self.import_options)
        except (OSError, StorageError) as exc:
            raise ArtifactWriteError(f"{self.name}: could not add {path.name} to IPFS: {exc}") from exc
        self._check_store_cid(result, local, path.name)
        return result

    def _check_store_cid(self, result: ImportResult, local: ImportResult, what: str) -> None:
        """The store must name the content by the CID computed here: a file that changed while it was added, or a
        daemon that ignored the import options (or lied), would otherwise be recorded under a CID that nobody can
        reproduce from the bytes."""
        if result.cid != local.cid:
            raise ArtifactWriteError(
                f"{self.name}: the store added {what} as {result.cid}, but its content with "
                f"{self.import_options or 'the default'} import options is {local.cid} (changed while it was being "
                "added, or the store ignored the import options)"
            )

    def _hash_content(self, cid: CID) -> tuple[str, int]:
        digest, size = hashlib.sha256(), 0
        try:
            for chunk in self.store.cat_stream(cid):
                digest.update(chunk)
                size += len(chunk)
        except StorageError as exc:
            raise ArtifactNotFoundError(f"{self.name}: cannot fetch {cid}: {exc}") from exc
        return digest.hexdigest(), size

    def _pin(self, cid: CID) -> None:
        try:
            self.store.pin(cid)
        except StorageError as exc:
            raise ArtifactWriteError(f"{self.name}: could not pin {cid}: {exc}") from exc


class _HashingReader(io.RawIOBase):
    """Reads through to ``handle`` and feeds every byte to a sha256."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        count = self._handle.readinto(target)  # type: ignore[attr-defined]
        if count:
            self.digest.update(memoryview(target)[:count])
        return count or 0


def _translate_read_errors(chunks: Iterator[bytes], resource: str, artifact: Artifact) -> Iterator[bytes]:
    try:
        yield from chunks
    except StorageError as exc:
        raise ArtifactNotFoundError(f"{resource}: reading {artifact.location} ({artifact.cid}) failed: {exc}") from exc
