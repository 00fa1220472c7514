"""A background thread that drains one kind of :class:`~anacostia_blockchain.metadata.outbox.Outbox` entries.

Subclasses implement one hook, :meth:`OutboxWorker.deliver`, which receives a batch of claimed entries and marks
each one (``mark_sent`` / ``mark_confirmed`` / ``mark_failed``). If ``deliver`` raises, every entry of the batch that
is still claimed is marked failed with a retry (backoff) — an exception never loses work.

The thread never sleep-polls when idle: it blocks on an event set by ``Outbox.enqueue`` (in this process), with a
timeout equal to the time until the next retry is due (or none at all when nothing is pending). ``run_once`` runs one
round synchronously (used by tests, benchmarks and ``flush``).
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

from ..errors import AnacostiaError, OutboxError
from .outbox import CLAIMED, Outbox, OutboxEntry

logger = logging.getLogger(__name__)

#: How often ``flush`` re-checks while another thread's round holds entries (flush is a synchronous convenience for
#: callers that must wait; the worker thread itself never polls).
FLUSH_RECHECK = 0.05


class OutboxWorker(ABC):
    """Drains ``kind`` entries of ``outbox`` in batches of up to ``batch_size``."""

    def __init__(self, outbox: Outbox, kind: str, *, batch_size: int = 50, name: str | None = None) -> None:
        if batch_size < 1:
            raise OutboxError(f"batch_size must be >= 1, got {batch_size}")
        self.outbox = outbox
        self.kind = kind
        self.batch_size = batch_size
        self.name = name or f"outbox-{kind}"
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._round_lock = threading.Lock()
        self._progress = threading.Condition()  # notified after every round, for flush() waiting on another thread
        outbox.add_listener(self._wake.set)

    # --- the hook ---------------------------------------------------------------------------------------------------
    @abstractmethod
    def deliver(self, entries: list[OutboxEntry]) -> None:
        """Deliver ``entries`` and mark each of them (sent / confirmed / failed)."""

    # --- rounds -----------------------------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Claim one batch of due entries and deliver it; returns how many entries were handled."""
        with self._round_lock:
            entries = self.outbox.claim(self.kind, self.batch_size)
            if not entries:
                return 0
            try:
                self.deliver(entries)
            except Exception as exc:  # any failure must leave the entries retryable
                level = logging.WARNING if isinstance(exc, AnacostiaError) else logging.ERROR
                logger.log(level, "%s: delivery of %d entries failed: %s", self.name, len(entries), exc)
                self._fail_still_claimed(entries, f"{type(exc).__name__}: {exc}")
            finally:
                with self._progress:
                    self._progress.notify_all()
            return len(entries)

    def _fail_still_claimed(self, entries: list[OutboxEntry], error: str) -> None:
        for entry in entries:
            current = self.outbox.get(entry.kind, entry.key)
            if current is not None and current.status == CLAIMED:
                self.outbox.mark_failed(entry.id, error)

    def flush(self, timeout: float = 30.0) -> bool:
        """Run rounds until nothing of ``kind`` is pending/claimed/sent-and-due, or ``timeout``; True when drained."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run_once()
            counts = self.outbox.counts(self.kind)
            if counts["pending"] + counts["claimed"] + counts["sent"] == 0:
                return True
            due = self.outbox.seconds_until_due(self.kind)
            wait = due if due is not None else FLUSH_RECHECK
            if counts["claimed"] or counts["sent"]:
                # another thread's round holds entries: its end notifies us; re-check soon in any case, since the
                # round may have ended between our count and this wait
                wait = min(wait, FLUSH_RECHECK)
            with self._progress:
                self._progress.wait(min(wait, max(0.0, deadline - time.monotonic())))
        return False

    # --- thread -----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the current round (entries in flight are finished or stay retryable in the database)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                handled = self.run_once()
                timeout = 0.0 if handled else self.outbox.seconds_until_due(self.kind)
            except AnacostiaError as exc:  # the database itself failed: back off and try again
                logger.warning("%s: outbox round failed: %s", self.name, exc)
                timeout = self.outbox.backoff.cap / 4
            if timeout is None or timeout > 0:
                self._wake.wait(timeout)
