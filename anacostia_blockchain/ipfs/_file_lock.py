"""``file_lock(path, exclusive=...)``: a shared or exclusive lock between processes, ``flock`` on ``path``.

``flock`` is what Linux, macOS and the BSDs offer; where the system has none (Windows) the lock falls back to a
readers-writer lock held in this process, one per path: threads and every store object of the process still
exclude each other, but two *processes* sharing one repository are not protected there (run one per repository).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # no flock on this system
    fcntl = None  # type: ignore[assignment]

#: Whether the system has ``flock(2)``; without it :func:`file_lock` takes the process-local fallback.
HAS_FLOCK = fcntl is not None


class SharedExclusive:
    """Many shared holders or one exclusive holder (the process-local stand-in for ``flock``)."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._shared = 0
        self._exclusive = False

    @contextlib.contextmanager
    def hold(self, *, exclusive: bool) -> Iterator[None]:
        with self._cv:
            self._cv.wait_for(lambda: not self._exclusive and not (exclusive and self._shared))
            if exclusive:
                self._exclusive = True
            else:
                self._shared += 1
        try:
            yield
        finally:
            with self._cv:
                if exclusive:
                    self._exclusive = False
                else:
                    self._shared -= 1
                self._cv.notify_all()


_local_locks: dict[Path, SharedExclusive] = {}
_local_locks_guard = threading.Lock()


def _local_lock(path: Path) -> SharedExclusive:
    with _local_locks_guard:
        return _local_locks.setdefault(path.resolve(), SharedExclusive())


@contextlib.contextmanager
def file_lock(path: Path, *, exclusive: bool) -> Iterator[None]:
    """Hold ``path`` (created if missing) shared or exclusively (see the module docstring)."""
    if not HAS_FLOCK or fcntl is None:
        with _local_lock(path).hold(exclusive=exclusive):
            yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
