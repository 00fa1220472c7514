"""Local nonce allocation for one account, shared by every thread that sends from it.

The first allocation reads ``eth_getTransactionCount(address, "pending")``; afterwards nonces are handed out from
memory under a lock (no RPC per transaction). Two repairs keep the sequence gap-free:

- :meth:`release` gives back a nonce whose transaction never reached the node (the send failed for good); the
  smallest released nonce is handed out next, so later transactions do not wait forever behind a hole;
- :meth:`resync` re-reads the ``pending`` count after the node said "nonce too low" (another process used the
  account, or the chain was reset) and continues from there.
"""

from __future__ import annotations

import heapq
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..rpc.client import ChainClient


class NonceManager:
    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.address = address
        self._lock = threading.Lock()
        self._next: int | None = None
        self._released: list[int] = []
        self.resyncs = 0

    def allocate(self) -> int:
        with self._lock:
            if self._released:
                return heapq.heappop(self._released)
            if self._next is None:
                self._next = self.client.nonce(self.address, "pending")
            nonce = self._next
            self._next += 1
            return nonce

    def release(self, nonce: int) -> None:
        """Return a nonce that was never accepted by the node."""
        with self._lock:
            if self._next is not None and nonce < self._next and nonce not in self._released:
                heapq.heappush(self._released, nonce)

    def take_released_below(self, limit: int) -> int | None:
        """Pop the smallest given-back nonce if it is below ``limit`` (to fill the hole it left), else ``None``."""
        with self._lock:
            if self._released and self._released[0] < limit:
                return heapq.heappop(self._released)
            return None

    def resync(self) -> int:
        """Forget local state and continue from the node's ``pending`` count; returns it."""
        pending = self.client.nonce(self.address, "pending")
        with self._lock:
            self._released = []
            self._next = pending
            self.resyncs += 1
            return pending

    def peek(self) -> int | None:
        with self._lock:
            return self._next
