"""Single-use SIWE nonces with a time-to-live, kept in this process.

Nonces live in memory: run one service process per SIWE domain, or route a client's ``/auth/nonce`` and
``/auth/login`` to the same process.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from ...errors import SiweError

Clock = Callable[[], float]


class NonceStore:
    """Issued nonces with a time-to-live; :meth:`consume` succeeds once per nonce. Thread-safe, in-process.

    Bounded: at most ``max_pending`` outstanding nonces (oldest evicted first), so a client hammering
    ``/auth/nonce`` cannot grow memory without limit (and the rate limiter slows it down first).
    """

    def __init__(self, ttl: timedelta, *, max_pending: int = 100_000, clock: Clock = time.time) -> None:
        self._ttl = ttl.total_seconds()
        self._max = max_pending
        self._clock = clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = secrets.token_hex(16)
        now = self._clock()
        with self._lock:
            self._purge(now)
            while len(self._issued) >= self._max:
                self._issued.pop(next(iter(self._issued)))
            self._issued[nonce] = now + self._ttl
        return nonce

    def consume(self, nonce: str) -> None:
        """Use a nonce up; :class:`SiweError` if it was never issued, already used or expired."""
        now = self._clock()
        with self._lock:
            expires = self._issued.pop(nonce, None)
        if expires is None:
            raise SiweError("unknown or already used nonce: request a new one")
        if expires < now:
            raise SiweError("nonce expired: request a new one")

    def peek(self, nonce: str) -> bool:
        with self._lock:
            expires = self._issued.get(nonce)
        return expires is not None and expires >= self._clock()

    def _purge(self, now: float) -> None:
        for nonce in [n for n, exp in self._issued.items() if exp < now]:
            del self._issued[nonce]

    def __len__(self) -> int:
        with self._lock:
            return len(self._issued)
