"""``BackgroundLoop``: the one start/stop implementation of the service's polling threads.

The indexer, the metadata fetcher and the dashboard's pipeline monitor each run one daemon thread that loops until
asked to stop. This base owns that thread and its stop event: :meth:`start` is idempotent (a running loop is left
alone), :meth:`stop` sets the event, joins for up to ``timeout`` seconds and forgets the thread so the loop can be
started again. Subclasses implement :meth:`_loop` (return once ``self._stop`` is set; wait on it, never ``sleep``,
so that ``stop`` is prompt) and name their thread with ``thread_name``. What a loop committed is announced to its
``listeners`` (the response cache's index version, the dashboard's live feed) through :meth:`notify`.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from .types import Listener


class BackgroundLoop(ABC):
    """A restartable daemon thread running :meth:`_loop` until :meth:`stop`."""

    thread_name: ClassVar[str]
    stop_timeout: ClassVar[float] = 10.0  # default join timeout of stop()

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Called with a JSON-able dict after each change the loop committed (see :meth:`notify`).
        self.listeners: list[Listener] = []

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.stop_timeout if timeout is None else timeout)
            self._thread = None

    def notify(self, event: dict[str, Any]) -> None:
        """Hand ``event`` to every listener (each sees the list as it was when the event happened)."""
        for listener in list(self.listeners):
            listener(event)

    @abstractmethod
    def _loop(self) -> None:
        """The thread's body: work until ``self._stop`` is set."""
