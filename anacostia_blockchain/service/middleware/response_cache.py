"""A small response cache for the public, index-only listings (``GET /models``, ``GET /runs``, ``GET /runs/{id}``).

A marketplace front page is the same few queries over and over, and their answers change only when the indexer (or
the metadata fetcher) commits. So the cache key is the exact path and query string, and an entry is valid while

- the in-process *index version* is unchanged — the indexer and fetcher bump it after every commit, so a page never
  lags behind this process's own index; and
- it is younger than ``ttl`` seconds — the bound on staleness when another process writes the same database.

Concurrent misses of one key are coalesced: the first request computes the page, the others wait for it (no
stampede of identical queries when an entry expires under load). Only 200 responses of the listed endpoints are
cached; anything involving a session, a live chain read
(``/models/{id}``, quotes, keys, ``/verify``) or the dashboard stream passes straight through. It is a raw ASGI
middleware placed inside CORS and rate limiting, so those still apply to every request, hit or miss.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHEABLE = re.compile(r"^/(models|runs|runs/0x[0-9a-fA-F]{64}-[0-9]+)$")


@dataclass(frozen=True)
class _Entry:
    version: int
    stored_at: float
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class ResponseCache:
    """ASGI middleware (see the module docstring). ``version`` returns the current index version."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        version: Callable[[], int],
        ttl: float = 2.0,
        max_entries: int = 2048,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.version = version
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[str, asyncio.Event] = {}
        #: Cacheable requests answered from the cache / computed by the app (read by the service's ``/metrics``).
        self.hits = 0
        self.misses = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or self.ttl <= 0 or not CACHEABLE.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
        version = self.version()
        now = self.clock()
        entry = self._fresh(key, version)
        if entry is None:
            leader = self._inflight.get(key)
            if leader is not None:  # the same page is being computed right now: wait for it instead of piling on
                await leader.wait()
                entry = self._fresh(key, version)
        if entry is not None:
            self.hits += 1
            await send({"type": "http.response.start", "status": entry.status, "headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        self.misses += 1
        done = self._inflight.setdefault(key, asyncio.Event())
        try:
            await self._fill(key, version, now, scope, receive, send)
        finally:
            if self._inflight.get(key) is done:
                del self._inflight[key]
            done.set()

    def _fresh(self, key: str, version: int) -> _Entry | None:
        """The entry of ``key`` if it was stored at ``version`` less than ``ttl`` ago (marked recently used)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version or self.clock() - entry.stored_at >= self.ttl:
                return None
            self._entries.move_to_end(key)
            return entry

    async def _fill(self, key: str, version: int, now: float, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None and start["status"] == 200:
                    self._store(key, _Entry(version, now, 200, list(start.get("headers", [])), b"".join(chunks)))
            await send(message)

        await self.app(scope, receive, capture)

    def _store(self, key: str, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
