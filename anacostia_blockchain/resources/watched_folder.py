"""``WatchedFolderResource``: the part every resource fed by a local folder shares.

A watched folder (``monitoring``) must exist at launch: a missing one is a
:class:`~anacostia_blockchain.errors.WatchedFolderNotFoundError` naming it (a mistyped path shows at once), unless the
resource was built with ``create=True``, which creates it. A folder that is not watched (an output store) is created
when missing. With ``monitoring`` its inotify watch (:class:`~.watch_events.FolderWatch`) starts
*before* the resource's start-up scan, so nothing landing during the scan is missed. Changes queue up in arrival
order for the node's thread (``serve()`` calls :meth:`WatchedFolderResource.next_change`); ``request_stop()`` wakes
it with :data:`STOP`; ``teardown()`` stops the watch and then runs the base teardown.
"""

from __future__ import annotations

import logging
import queue
from collections.abc import Iterable
from enum import Enum
from pathlib import Path
from typing import Final

from ..engine import BaseMetadataStoreNode, BaseResourceNode
from ..errors import ResourceError, WatchedFolderNotFoundError
from .watch_events import FolderChange, FolderWatch


class Wakeup(Enum):
    """What ``request_stop()`` queues: ``serve()`` returns when it receives :data:`STOP`."""

    STOP = "stop"


#: What :meth:`WatchedFolderResource.next_change` returns once the node is asked to stop.
STOP: Final = Wakeup.STOP


class WatchedFolderResource(BaseResourceNode):
    """A resource over a local folder (see the module docstring); subclasses call :meth:`watch_folder`."""

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        monitoring: bool = True,
        create: bool = False,
    ) -> None:
        super().__init__(name, metadata_store, loggers, monitoring=monitoring)
        #: Create a missing watched folder at launch (``False``: a missing one is an error). Output folders
        #: (``monitoring=False``) are always created.
        self.create = create
        self._changes: queue.SimpleQueue[FolderChange | Wakeup] = queue.SimpleQueue()
        self._watch: FolderWatch | None = None

    def watch_folder(self, folder: Path) -> None:
        """Check or create ``folder`` (see the module docstring) and, when monitoring, start watching it (call before
        the start-up scan)."""
        if self.monitoring and not self.create and not folder.is_dir():
            what = "is not a folder" if folder.exists() else "does not exist"
            raise WatchedFolderNotFoundError(
                f"resource {self.name!r}: the watched folder {folder} {what} (create it, or pass create=True)",
                path=str(folder),
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResourceError(f"resource {self.name!r}: cannot create {folder}: {exc.strerror or exc}") from exc
        if self.monitoring:
            self._watch = FolderWatch(folder, self._changes.put)
            self._watch.start()

    def next_change(self, timeout: float | None = None) -> FolderChange | Wakeup | None:
        """The next folder change (or :data:`STOP`); ``None`` when ``timeout`` seconds pass without one."""
        try:
            return self._changes.get(timeout=timeout)
        except queue.Empty:
            return None

    def request_stop(self) -> None:
        super().request_stop()
        self._changes.put(STOP)

    def teardown(self) -> None:
        if self._watch is not None:
            self._watch.stop()
            self._watch = None
        super().teardown()
