"""Per-client token-bucket rate limiting, in-process, as a plain ASGI middleware.

Each client (the connection's peer address, ``scope["client"]``) owns a bucket of ``burst`` tokens refilled at
``per_second``. Forwarded headers are never read here: behind a reverse proxy, the app rewrites the client address
from ``X-Forwarded-For`` first, and only for connections from the configured proxies (``ServiceConfig.trusted_proxies``,
uvicorn's ``ProxyHeadersMiddleware``: the right-most address no trusted proxy added), so a client cannot pick its own
bucket by sending the header. A request takes one token; an empty bucket answers
``429`` with a ``Retry-After`` header and the usual JSON error body. Buckets live in a bounded LRU map, so a flood of
distinct addresses costs bounded memory.

It is a raw ASGI middleware rather than a Starlette ``BaseHTTPMiddleware`` because the latter adds a task and a
stream copy per request, which shows in the p99 of ``GET /models`` at 50 concurrent clients. In-process state means
each worker process limits on its own; with ``rate_limit_redis_url`` the buckets live in Redis instead
(:mod:`.ratelimit_redis`) and all processes share them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from ...errors import RateLimitedError
from ..config import RateLimit
from .errors import send_error


class TokenBuckets:
    """Thread-safe buckets keyed by client; :meth:`take` returns 0 when allowed, else seconds to wait."""

    def __init__(self, limit: RateLimit, *, max_clients: int = 50_000, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self._max = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        now = self._clock()
        rate, burst = self.limit.per_second, float(self.limit.burst)
        with self._lock:
            tokens, stamp = self._buckets.pop(client, (burst, now))
            tokens = min(burst, tokens + (now - stamp) * rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1.0 - tokens) / rate if rate > 0 else math.inf
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """ASGI middleware applying :class:`TokenBuckets` to every HTTP request (not to lifespan events)."""

    def __init__(self, app: ASGIApp, *, limit: RateLimit, buckets: Any | None = None) -> None:
        self.app = app
        self.buckets = buckets if buckets is not None else TokenBuckets(limit)
        self._blocking = bool(getattr(self.buckets, "blocking", False))
        self.enabled = limit.per_second > 0
        #: Requests answered 429 (read by the service's ``/metrics``).
        self.refusals = 0

    @staticmethod
    def client_key(scope: Scope) -> str:
        """The client's address: the peer, or the forwarded client when the peer is a trusted proxy (see above)."""
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.enabled:
            await self.app(scope, receive, send)
            return
        key = self.client_key(scope)
        wait = await anyio.to_thread.run_sync(self.buckets.take, key) if self._blocking else self.buckets.take(key)
        if wait <= 0:
            await self.app(scope, receive, send)
            return
        self.refusals += 1
        retry_after = max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
        error = RateLimitedError(f"too many requests: retry after {retry_after}s", retry_after=retry_after)
        await send_error(send, error, [(b"retry-after", str(retry_after).encode())])
