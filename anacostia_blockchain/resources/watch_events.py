"""The watchdog boundary: inotify events for a folder, reduced to the three facts a resource needs.

Why these events (watchdog's ``on_created`` fires before a file is written, so it is never used):

- ``FileClosedEvent`` (``IN_CLOSE_WRITE``): a writer closed the file -> its content is complete: ``Landed``.
- ``FileMovedEvent`` into the folder (atomic writers rename a finished temp file into place) -> ``Landed`` at the
  destination; out of the folder or from inside -> ``Gone`` at the source. The observer runs with
  ``generate_full_events=True`` so a rename from *outside* the folder arrives as a move (not a create) and
  directories moved in are reported as ``LandedTree`` (their files are complete).
- ``FileDeletedEvent`` / ``DirDeletedEvent`` -> ``Gone``.

Close events and read leases are Linux's (inotify, ``F_SETLEASE``). Elsewhere the watch falls back to watchdog's
platform observer (FSEvents, kqueue, Windows' ReadDirectoryChangesW, or polling), which reports writes as
created/modified events: each is a ``Landed`` candidate, and :func:`open_for_writing` answers ``False``, so a file
counts as complete once the caller's before/after stat check sees it unchanged while it is read.

This module is the only importer of watchdog; its exceptions become :class:`ResourceError` here.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.utils import UnsupportedLibcError

from ..errors import ResourceError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]
try:
    from watchdog.observers.inotify import InotifyObserver
except (ImportError, OSError, UnsupportedLibcError):  # not Linux
    InotifyObserver = None  # type: ignore[assignment,misc]

#: Linux's read lease; ``None`` where the system has none (then :func:`open_for_writing` answers ``False``).
SETLEASE: int | None = getattr(fcntl, "F_SETLEASE", None)

#: Names a watched folder never treats as content: editors' swap files and writers' temporary files.
IGNORED_SUFFIXES = (".partial", ".tmp", ".swp", "~")


def is_ignored(relative: PurePath) -> bool:
    """Whether a path (relative to a watched folder) is not content: any hidden part (``.name``, which includes
    atomic writers' temp files such as ``.x.partial`` and ``.anacostia-tmp-*``) or a temporary suffix."""
    return any(part.startswith(".") for part in relative.parts) or relative.name.endswith(IGNORED_SUFFIXES)


def open_for_writing(path: str | os.PathLike[str]) -> bool:
    """Whether some process has ``path`` open for writing right now.

    Linux refuses a read *lease* (``F_SETLEASE``) on a file that is open for writing anywhere, which answers exactly
    the question a watcher has when a close event arrives late: is another writer already rewriting the file (its own
    close event will follow)? The lease is released at once. Where leases are unavailable (a filesystem without them,
    or a file owned by another user without ``CAP_LEASE``) this answers ``False`` and callers rely on their
    before/after stat check alone.
    """
    if SETLEASE is None or fcntl is None:
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    else:
        fcntl.fcntl(fd, SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Landed:
    """A complete file now exists at ``path``."""

    path: str


@dataclass(frozen=True, slots=True)
class LandedTree:
    """A directory with complete files was moved in at ``path``."""

    path: str


@dataclass(frozen=True, slots=True)
class Gone:
    """``path`` (a file, or a directory when ``is_directory``) no longer exists."""

    path: str
    is_directory: bool


FolderChange = Landed | LandedTree | Gone


def _text(path: bytes | str) -> str:
    return os.fsdecode(path)


class _ChangeHandler(FileSystemEventHandler):
    def __init__(self, sink: Callable[[FolderChange], None]) -> None:
        self._sink = sink

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self._sink(Landed(_text(event.src_path)))

    on_created = on_modified = on_closed  # only scheduled without close events (see the module docstring)

    def on_moved(self, event: FileSystemEvent) -> None:
        src, dest = _text(event.src_path), _text(event.dest_path)
        if src:
            self._sink(Gone(src, event.is_directory))
        if dest:
            self._sink(LandedTree(dest) if event.is_directory else Landed(dest))

    def on_deleted(self, event: FileSystemEvent) -> None:
        self._sink(Gone(_text(event.src_path), event.is_directory))


class FolderWatch:
    """A watch on ``root`` (recursive; inotify on Linux) delivering :data:`FolderChange` values to ``sink``.

    ``sink`` runs on watchdog's emitter thread and must only enqueue.
    """

    def __init__(
        self, root: Path, sink: Callable[[FolderChange], None], *, observer: BaseObserver | None = None
    ) -> None:
        """``observer``: a watchdog observer to use instead of inotify (the fallback elsewhere; tests force it)."""
        self.root = root
        self.close_events = observer is None and InotifyObserver is not None
        self._observer: BaseObserver
        if self.close_events:
            self._observer = InotifyObserver(generate_full_events=True)
        else:
            self._observer = observer if observer is not None else Observer()
        self._handler = _ChangeHandler(sink)

    def start(self) -> None:
        events: list[type[FileSystemEvent]] = [FileMovedEvent, DirMovedEvent, FileDeletedEvent, DirDeletedEvent]
        events += [FileClosedEvent] if self.close_events else [FileCreatedEvent, FileModifiedEvent]
        try:
            self._observer.schedule(self._handler, str(self.root), recursive=True, event_filter=events)
            self._observer.start()
        except OSError as exc:
            raise ResourceError(
                f"cannot watch {self.root}: {exc.strerror or exc} (for 'inotify watch limit reached' raise "
                "fs.inotify.max_user_watches)"
            ) from exc

    def stop(self) -> None:
        if self._observer.is_alive():
            self._observer.stop()
            self._observer.join(timeout=10)
