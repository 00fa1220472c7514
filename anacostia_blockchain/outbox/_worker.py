"""A background thread that drains one kind of :class:`~anacostia_blockchain.outbox.Outbox` entries.

Subclasses implement one hook, :meth:`OutboxWorker.deliver`, which receives a batch of claimed entries and marks
each one (``mark_sent`` / ``mark_confirmed`` / ``mark_failed``). If ``deliver`` raises, every entry of the batch that
is still claimed is marked failed with a retry (backoff) — an exception never loses work.

The thread never sleep-polls when idle: it blocks on an event set by ``Outbox.enqueue`` (in this process), with a
timeout equal to the time until the next retry is due (or none at all when nothing is pending). ``run_once`` runs one
round synchronously (used by tests, benchmarks and ``flush``).

Finality: a subclass that confirms deliveries provisionally (``mark_confirmed(..., final=False)``) overrides
:meth:`OutboxWorker.recheck`, which receives the confirmed-but-not-final entries and marks each one final, reopens
it, or leaves it watched. Rechecks run at most every ``recheck_interval`` seconds — also while the worker is
otherwise idle, since nothing else would wake it — and cost nothing once every entry is final (the watched set
is one indexed query). ``recheck_now`` runs one synchronously.
"""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod

from ..errors import AnacostiaError, OutboxError
from ._outbox import CLAIMED, Outbox, OutboxEntry

logger = logging.getLogger(__name__)

#: How often ``flush`` re-checks while another thread's round holds entries (flush is a synchronous convenience for
#: callers that must wait; the worker thread itself never polls).
FLUSH_RECHECK = 0.05


class OutboxWorker(ABC):
    """Drains ``kind`` entries of ``outbox`` in batches of up to ``batch_size``."""

    def __init__(
        self,
        outbox: Outbox,
        kind: str,
        *,
        batch_size: int = 50,
        name: str | None = None,
        recheck_interval: float = 1.0,
    ) -> None:
        if batch_size < 1:
            raise OutboxError(f"batch_size must be >= 1, got {batch_size}")
        if not recheck_interval > 0:
            raise OutboxError(f"recheck_interval must be > 0 seconds, got {recheck_interval}")
        self.recheck_interval = recheck_interval
        self._next_recheck = 0.0  # time.monotonic() of the next due recheck
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

    def recheck(self, entries: list[OutboxEntry]) -> None:
        """Re-examine confirmed, not yet final ``entries``: ``mark_final`` / ``reopen`` each, or leave it watched.

        The default suits workers whose confirmations cannot be undone: such entries are final as they stand.
        """
        self.outbox.mark_final([entry.id for entry in entries])

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

    def recheck_now(self) -> int:
        """Re-check every watched (confirmed, not final) entry now; returns how many were examined."""
        with self._round_lock:
            return self._recheck_round()

    def _recheck_if_due(self) -> None:
        if time.monotonic() >= self._next_recheck:
            with self._round_lock:
                self._recheck_round()

    def _recheck_round(self) -> int:
        self._next_recheck = time.monotonic() + self.recheck_interval
        watched = self.outbox.unfinalized(self.kind)
        if watched:
            try:
                self.recheck(watched)
            except Exception as exc:  # a recheck that fails leaves the entries watched: retried next time
                level = logging.WARNING if isinstance(exc, AnacostiaError) else logging.ERROR
                logger.log(level, "%s: re-checking %d delivered entries failed: %s", self.name, len(watched), exc)
        return len(watched)

    def _seconds_until_recheck(self) -> float | None:
        if not self.outbox.unfinalized(self.kind, limit=1):
            return None
        return max(0.0, self._next_recheck - time.monotonic())

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
                self._recheck_if_due()
                timeout = 0.0 if handled else _earliest(
                    self.outbox.seconds_until_due(self.kind), self._seconds_until_recheck()
                )
            except AnacostiaError as exc:  # the database itself failed: back off and try again
                logger.warning("%s: outbox round failed: %s", self.name, exc)
                timeout = self.outbox.backoff.cap / 4
            if timeout is None or timeout > 0:
                self._wake.wait(timeout)


def _earliest(*delays: float | None) -> float | None:
    """The shortest of the delays that are set; ``None`` (wait for a wake-up) when none is."""
    known = [delay for delay in delays if delay is not None]
    return min(known) if known else None
