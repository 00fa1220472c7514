"""A small publish/subscribe hub that turns events from worker threads into server-sent events.

Producers are plain threads (the indexer, the pipeline monitor) calling :meth:`LiveFeed.publish`; consumers are the
asyncio tasks streaming ``GET /events`` to browsers. Each subscriber owns a bounded queue; a subscriber that does not
keep up loses its *oldest* events rather than slowing producers down or growing memory (a dashboard re-reads full
state on reconnect, so dropping is safe). ``publish`` is thread-safe: it hands each event to the subscriber's event
loop with ``call_soon_threadsafe``.

SSE framing follows the WHATWG spec: ``event:`` line, ``data:`` line (JSON, one line), blank line; a ``: ping``
comment every ``keepalive`` seconds keeps proxies from closing idle streams.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any


class _Subscriber:
    def __init__(self, loop: asyncio.AbstractEventLoop, size: int) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=size)

    def offer(self, event: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)


class LiveFeed:
    """Fan-out of JSON events to SSE subscribers (see the module docstring)."""

    def __init__(self, queue_size: int = 256, keepalive: float = 15.0) -> None:
        self.queue_size = queue_size
        self.keepalive = keepalive
        self._subscribers: set[_Subscriber] = set()
        self._lock = threading.Lock()

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for sub in subscribers:
            try:
                sub.loop.call_soon_threadsafe(sub.offer, event)
            except RuntimeError:  # the subscriber's loop is closed: it is going away
                self._discard(sub)

    def _discard(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    async def stream(self, first: dict[str, Any] | None = None) -> AsyncIterator[str]:
        """SSE text for one client: ``first`` (a snapshot) and then every published event."""
        sub = _Subscriber(asyncio.get_running_loop(), self.queue_size)
        with self._lock:
            self._subscribers.add(sub)
        try:
            if first is not None:
                yield format_sse(first)
            while True:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), timeout=self.keepalive)
                except TimeoutError:
                    yield ": ping\n\n"
                    continue
                yield format_sse(event)
        finally:
            self._discard(sub)


def format_sse(event: dict[str, Any]) -> str:
    kind = str(event.get("type", "message")).replace("\n", " ")
    return f"event: {kind}\ndata: {json.dumps(event, separators=(',', ':'), default=str)}\n\n"
