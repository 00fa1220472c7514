"""``FilesystemStoreNode``: a watched local folder whose files are the artifacts.

Detection is event-driven (inotify through :mod:`.watch_events`); the folder is scanned only once, at launch, to
reconcile it with the database: files added while the pipeline was stopped become ``new``, files removed are marked
``deleted``, unchanged files (same size and mtime as recorded) are not re-hashed. After that an in-memory index
(location -> content hash) answers "is this content already known?", so an event costs one hash and one insert no
matter how many files the folder holds.

A file is an artifact *version* identified by its content (sha256, streamed). Writing a file in place and closing it
records a new version; the earlier version is marked ``deleted`` (its content is gone). Files are picked up when
their writer closes them or when they are renamed into the folder, never when created, so partially written files
are not seen. Files still being written when the pipeline launches are hashed by the start-up scan as they are; use
atomic writes (temp file + rename) for producers that may run while the pipeline starts.

``init_state`` ("new" or "old") is the state of the files found the first time this resource sees its folder;
``old`` lets a pipeline start on an existing dataset without running on it. ``max_old_samples`` keeps at most that
many ``old`` versions: after each run the oldest others are deleted from the folder. ``monitoring=False`` makes an
output store: not watched, never triggers runs.

``glob="plates/{plate}/{well}.tif"`` declares which files are the resource's content and names the parts of their
paths (:mod:`.datums`): files that do not match are ignored, saving one is an :class:`InvalidArtifactPathError`, and
``Input(resource)`` uses the glob to build datums.

A watched folder that does not exist at launch is an error naming it
(:class:`~anacostia_blockchain.errors.WatchedFolderNotFoundError`: a mistyped path shows at once); ``create=True``
creates it. An output store (``monitoring=False``) creates its folder.

``save_artifact(name, content)`` writes atomically (temp file in the same folder, fsync, rename) and records the
file as produced by the run and node executing now, derived from what that node read (``artifact_path``,
``open_artifact``, ``read_bytes`` and listings count as reads) or from ``derived_from=[...]``. Hidden files and
folders (``.name``: atomic writers' temp files, including our own ``.anacostia-tmp-*``) and
``*.partial``/``*.tmp``/``*.swp``/``*~`` files are not content and are ignored.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from ..engine import Artifact, ArtifactState, BaseMetadataStoreNode, RunStatus
from ..errors import (
    AnacostiaError,
    ArtifactNotFoundError,
    ArtifactWriteError,
    ConfigurationError,
    InvalidArtifactPathError,
    NoActiveRunError,
)
from .datums import GlobPattern, as_glob
from .watch_events import FolderChange, Gone, Landed, LandedTree, is_ignored, open_for_writing
from .watched_folder import STOP, WatchedFolderResource

TEMP_PREFIX = ".anacostia-tmp-"
_CHUNK = 1 << 20
_RETRY_MIN, _RETRY_MAX = 0.1, 10.0
_RECONCILE_BATCH = 2000

#: What ``save_artifact`` accepts: bytes, text (UTF-8), a binary file object to copy, or a function that writes to
#: the (binary) temp file.
ArtifactContent = bytes | bytearray | memoryview | str | IO[bytes] | Callable[[IO[bytes]], Any]


class _HashingWriter:
    """Wraps the temp file: hashes and counts what is written."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._fh = fh
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self._fh.write(data)

    def flush(self) -> None:
        self._fh.flush()


def hash_file(path: str | os.PathLike[str]) -> tuple[str, int, int]:
    """``(sha256 hex, size, mtime_ns)`` of a regular file, streamed."""
    with open(path, "rb") as fh:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(f"{path} is not a regular file")
        digest = hashlib.file_digest(fh, "sha256")
    return digest.hexdigest(), info.st_size, info.st_mtime_ns


def hash_settled_file(path: str | os.PathLike[str]) -> tuple[str, int, int] | None:
    """Like :func:`hash_file`, but ``None`` while the content is not settled: another process has the file open for
    writing, or it changed while being hashed. Either way that writer's close event follows, so the caller skips
    this one rather than record a half-written version (e.g. a file truncated by a second write in progress)."""
    if open_for_writing(path):
        return None
    before = os.stat(path)
    result = hash_file(path)
    after = os.stat(path)
    if (before.st_ino, before.st_size, before.st_mtime_ns, before.st_ctime_ns) != (
        after.st_ino, after.st_size, after.st_mtime_ns, after.st_ctime_ns
    ):
        return None
    return result


class FilesystemStoreNode(WatchedFolderResource):
    """A folder resource (see the module docstring)."""

    def __init__(
        self,
        name: str,
        resource_path: str | os.PathLike[str],
        metadata_store: BaseMetadataStoreNode,
        init_state: str = "new",
        max_old_samples: int | None = None,
        monitoring: bool = True,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        create: bool = False,
        glob: str | GlobPattern | None = None,
    ) -> None:
        super().__init__(name, metadata_store, loggers, monitoring=monitoring, create=create)
        #: Which files are content, with named capture groups (``None``: every file).
        self.glob = as_glob(glob)
        if init_state not in (ArtifactState.NEW, ArtifactState.OLD):
            raise ConfigurationError(f"resource {name!r}: init_state must be 'new' or 'old', got {init_state!r}")
        if max_old_samples is not None and (not isinstance(max_old_samples, int) or max_old_samples < 0):
            raise ConfigurationError(f"resource {name!r}: max_old_samples must be None or an int >= 0")
        self.resource_path = Path(resource_path).expanduser().absolute()
        self.init_state = ArtifactState(init_state)
        self.max_old_samples = max_old_samples
        self._index: dict[str, str] = {}  # location -> sha256 of the version present on disk
        self._lock = threading.Lock()

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def prepare(self) -> None:
        self.watch_folder(self.resource_path)
        self.reconcile()
        self.setup()

    def serve(self) -> None:
        """Apply folder changes in arrival order. A change the database could not take (an outage) is kept and
        retried, oldest first, with a doubling delay (0.1 s to 10 s): an outage delays detection, never loses it."""
        pending: deque[FolderChange] = deque()
        delay = _RETRY_MIN
        while True:
            change = self.next_change(delay if pending else None)
            if change is STOP:
                return
            if change is not None:
                pending.append(change)
            while pending:
                try:
                    self._apply(pending[0])
                except AnacostiaError as exc:
                    self.log(f"could not record {pending[0]} ({exc}); retrying in {delay:.1f}s", level="ERROR")
                    delay = min(delay * 2, _RETRY_MAX)
                    break
                except OSError as exc:
                    self.log(f"could not read {pending[0]}: {exc}", level="ERROR")
                pending.popleft()
                delay = _RETRY_MIN

    # --- paths ---------------------------------------------------------------------------------------------------
    def _location(self, path: str | os.PathLike[str], *, content: bool = True) -> str | None:
        """Relative POSIX location of ``path`` in the folder, or ``None`` if outside it, a temp file, or (``content``)
        a file its glob does not match."""
        relative = os.path.relpath(os.fspath(path), self.resource_path)
        if relative == "." or relative.startswith(".." + os.sep) or relative == "..":
            return None
        location = PurePosixPath(Path(relative).as_posix())
        if is_ignored(location) or (content and self.glob is not None and self.glob.match(str(location)) is None):
            return None
        return str(location)

    def _checked_location(self, filename: str | os.PathLike[str]) -> str:
        raw = os.fspath(filename)
        candidate = PurePosixPath(Path(raw).as_posix())
        if not raw or candidate.is_absolute() or ".." in candidate.parts or candidate.name.startswith(TEMP_PREFIX):
            raise InvalidArtifactPathError(
                f"resource {self.name!r}: artifact name {raw!r} must be a relative path inside the folder"
            )
        if self.glob is not None and self.glob.match(str(candidate)) is None:
            raise InvalidArtifactPathError(
                f"resource {self.name!r}: artifact name {raw!r} does not match its glob {self.glob.pattern!r}"
            )
        return str(candidate)

    def artifact_path(self, artifact: Artifact | str) -> Path:
        """The file of an artifact (or a location) in this folder; inside an execution, an artifact given here counts
        as read (its lineage follows what is saved next)."""
        if isinstance(artifact, Artifact):
            self.record_reads([artifact])
            return self.resource_path / artifact.location
        return self.resource_path / artifact

    def open_artifact(self, artifact: Artifact) -> IO[bytes]:
        """A binary stream of the artifact's file (:class:`ArtifactNotFoundError` when it is gone); counts as read."""
        try:
            return self.artifact_path(artifact).open("rb")
        except OSError as exc:
            raise ArtifactNotFoundError(f"resource {self.name!r}: cannot read {artifact.location}: {exc}") from exc

    def read_bytes(self, artifact: Artifact) -> bytes:
        """The artifact's content; counts as read."""
        with self.open_artifact(artifact) as handle:
            return handle.read()

    def _walk(self, top: Path) -> Iterator[Path]:
        for dirpath, _dirnames, filenames in os.walk(top):
            for filename in filenames:
                path = Path(dirpath, filename)
                if not is_ignored(path.relative_to(self.resource_path)):
                    yield path

    # --- detection -----------------------------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Bring the database in line with the folder (called at launch; see the module docstring)."""
        present = self.metadata_store.runs.present_artifacts(self.name)
        first_time = not present and not self.list_artifacts()
        state = self.init_state if first_time else ArtifactState.NEW
        seen: set[str] = set()
        changed: list[tuple[str, str, int, int | None]] = []
        for path in self._walk(self.resource_path):
            location = self._location(path)
            if location is None:
                continue
            try:
                info = path.stat()
                known = present.get(location)
                if known is not None and known.size == info.st_size and known.mtime_ns == info.st_mtime_ns:
                    seen.add(location)
                    self._index[location] = known.sha256
                    continue
                settled = hash_settled_file(path)
            except (FileNotFoundError, IsADirectoryError):
                continue
            seen.add(location)
            if settled is None:
                continue  # being written now: recorded when its writer closes it (the watch is already running)
            sha256, size, mtime_ns = settled
            if known is None or known.sha256 != sha256:
                changed.append((location, sha256, size, mtime_ns))
                if len(changed) >= _RECONCILE_BATCH:
                    self.metadata_store.runs.record_artifacts(self.name, changed, state=state)
                    changed.clear()
            self._index[location] = sha256
        self.metadata_store.runs.record_artifacts(self.name, changed, state=state)
        gone = [location for location in present if location not in seen]
        if gone:
            self.metadata_store.runs.mark_artifacts_deleted(self.name, gone)

    def _apply(self, change: FolderChange) -> None:
        if isinstance(change, Landed):
            self._ingest(Path(change.path))
        elif isinstance(change, LandedTree):
            for path in self._walk(Path(change.path)):
                self._ingest(path)
        elif isinstance(change, Gone):
            self._forget(change.path, change.is_directory)

    def _ingest(self, path: Path) -> None:
        location = self._location(path)
        if location is None:
            return
        try:
            settled = hash_settled_file(path)
        except (FileNotFoundError, IsADirectoryError):
            return  # gone again (or not a file): its own event follows
        if settled is None:
            return  # being rewritten: the writer's close event follows
        sha256, size, mtime_ns = settled
        with self._lock:
            if self._index.get(location) == sha256:
                return
            self.record_detected(location, sha256, size, mtime_ns=mtime_ns)
            self._index[location] = sha256

    def _forget(self, path: str, is_directory: bool) -> None:
        location = self._location(path, content=not is_directory)
        if location is None:
            return
        with self._lock:
            if is_directory:
                prefix = location + "/"
                locations = [loc for loc in self._index if loc.startswith(prefix)]
            else:
                locations = [location] if location in self._index else []
            for loc in locations:
                del self._index[loc]
            if locations:
                self.metadata_store.runs.mark_artifacts_deleted(self.name, locations)

    # --- producing -----------------------------------------------------------------------------------------------
    def save_artifact(
        self, filename: str | os.PathLike[str], content: ArtifactContent, *,
        derived_from: Iterable[Artifact | int] | None = None,
    ) -> Artifact:
        """Write ``content`` to ``filename`` (relative to the folder) atomically and record it as produced by the
        executing run and node. On any write error nothing is recorded and no partial file is left.
        ``derived_from``: the artifacts it was made from (each must have been read by the executing node,
        :class:`LineageError` before anything is written); default: everything the execution read so far."""
        location = self._checked_location(filename)
        if self.metadata_store.current_run_id is None:
            raise NoActiveRunError(f"{self.name}: save_artifact() is for actions executing in a run")
        lineage = self.checked_lineage(derived_from)
        target = self.resource_path / location
        tmp_name: str | None = None
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
            with os.fdopen(fd, "wb") as fh:
                writer = _HashingWriter(fh)
                self._write_content(writer, content)
                fh.flush()
                os.fsync(fh.fileno())
            with self._lock:
                os.replace(tmp_name, target)
                tmp_name = None
                self._index[location] = writer.digest.hexdigest()
                return self.record_produced(location, writer.digest.hexdigest(), writer.size,
                                            mtime_ns=target.stat().st_mtime_ns, derived_from=lineage)
        except OSError as exc:
            raise ArtifactWriteError(
                f"resource {self.name!r}: could not save {location}: {exc.strerror or exc}"
            ) from exc
        finally:
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)

    @staticmethod
    def _write_content(writer: _HashingWriter, content: ArtifactContent) -> None:
        if isinstance(content, bytes | bytearray | memoryview):
            writer.write(content)
        elif isinstance(content, str):
            writer.write(content.encode())
        elif hasattr(content, "read"):
            while chunk := content.read(_CHUNK):
                writer.write(chunk)
        elif callable(content):
            content(writer)  # type: ignore[arg-type]
        else:
            raise ConfigurationError(
                f"save_artifact content must be bytes, str, a binary file object or a writer function, "
                f"got {type(content).__name__}"
            )

    def record_current(
        self, filepath: str | os.PathLike[str], *, derived_from: Iterable[Artifact | int] | None = None
    ) -> Artifact:
        """Record a file an action already wrote in the folder as produced by it (``current`` in this run)."""
        path = Path(filepath)
        if not path.is_absolute():
            path = self.resource_path / path
        location = self._location(path)
        if location is None:
            raise InvalidArtifactPathError(f"resource {self.name!r}: {filepath} is not inside {self.resource_path}")
        try:
            sha256, size, mtime_ns = hash_file(path)
        except (FileNotFoundError, IsADirectoryError) as exc:
            raise ArtifactNotFoundError(f"resource {self.name!r}: no file {location}") from exc
        with self._lock:
            self._index[location] = sha256
            return self.record_produced(location, sha256, size, mtime_ns=mtime_ns, derived_from=derived_from)

    # --- retention -----------------------------------------------------------------------------------------------
    def after_run(self, run_id: int, status: RunStatus) -> None:
        if self.max_old_samples is None:
            return
        for artifact in self.metadata_store.runs.prune_old(self.name, self.max_old_samples):
            with self._lock:
                if self._index.get(artifact.location) == artifact.sha256:
                    self.artifact_path(artifact).unlink(missing_ok=True)
                    del self._index[artifact.location]
