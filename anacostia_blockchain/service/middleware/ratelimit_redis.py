"""Rate-limit buckets kept in Redis, so every process of a deployment draws from the same budget per client.

Optional (``ServiceConfig.rate_limit_redis_url`` / ``ANACOSTIA_RATE_LIMIT_REDIS_URL``, e.g.
``redis://127.0.0.1:6379/0``); the in-process :class:`~anacostia_blockchain.service.middleware.TokenBuckets` is the
default. Same algorithm, run atomically inside Redis by one Lua script (``EVALSHA``, loaded on first use): refill by
elapsed time on Redis' own clock (``TIME``, so hosts with skewed clocks agree), take a token or report the wait, and
let idle buckets expire. One round trip per request.

The wire protocol is RESP2 spoken over a plain socket (one connection per thread) — a few lines, instead of a client
library dependency for three commands. If Redis cannot be reached, the limiter falls back to an in-process bucket
for ``retry_seconds`` and logs once: a Redis outage degrades limits to per-process, it never takes the API down.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from ...errors import ConfigurationError
from ..config import RateLimit
from .ratelimit import TokenBuckets

log = logging.getLogger(__name__)

BUCKET_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisReplyError(Exception):
    """A ``-ERR ...`` reply (internal: handled inside this module)."""


class _Resp:
    """A minimal RESP2 connection: send a command, read one reply."""

    def __init__(self, host: str, port: int, db: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.file = self.sock.makefile("rb")
        if db:
            self.command("SELECT", str(db))

    def command(self, *args: str) -> Any:
        payload = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = arg.encode()
            payload.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(payload))
        return self._reply()

    def _reply(self) -> Any:
        line = self.file.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RedisReplyError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            data = self.file.read(size + 2)[:-2]
            return data.decode()
        if kind == b"*":
            return [self._reply() for _ in range(int(rest))]
        raise ConnectionError(f"unexpected redis reply {line[:20]!r}")

    def close(self) -> None:
        self.file.close()
        self.sock.close()


class RedisTokenBuckets:
    """Drop-in for :class:`TokenBuckets` with the state in Redis (see the module docstring)."""

    blocking = True  # take() does network I/O: the middleware calls it off the event loop

    def __init__(self, url: str, limit: RateLimit, *, prefix: str = "anacostia:ratelimit:", timeout: float = 0.5,
                 retry_seconds: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "redis" or not parts.hostname:
            raise ConfigurationError(f"rate limit Redis URL must look like redis://host:port/db, got {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 6379
        self.db = int(parts.path.lstrip("/") or 0)
        self.limit = limit
        self.prefix = prefix
        self.timeout = timeout
        self.retry_seconds = retry_seconds
        self.fallback = TokenBuckets(limit)
        self._local = threading.local()
        self._sha: str | None = None
        self._down_until = 0.0

    def __repr__(self) -> str:
        return f"RedisTokenBuckets({self.host}:{self.port}/{self.db})"

    def _connection(self) -> _Resp:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = _Resp(self.host, self.port, self.db, self.timeout)
            self._local.conn = conn
        return conn

    def take(self, client: str) -> float:
        if time.monotonic() < self._down_until:
            return self.fallback.take(client)
        try:
            return self._take_remote(client)
        except (OSError, ConnectionError, RedisReplyError, ValueError) as exc:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
                self._local.conn = None
            self._down_until = time.monotonic() + self.retry_seconds
            log.warning("rate limiting falls back to in-process buckets for %.0fs: redis %s:%s: %s",
                        self.retry_seconds, self.host, self.port, exc)
            return self.fallback.take(client)

    def _take_remote(self, client: str) -> float:
        conn = self._connection()
        if self._sha is None:
            self._sha = str(conn.command("SCRIPT", "LOAD", BUCKET_SCRIPT))
        args = (str(self.limit.per_second), str(self.limit.burst))
        try:
            reply = conn.command("EVALSHA", self._sha, "1", self.prefix + client, *args)
        except RedisReplyError as exc:
            if not str(exc).startswith("NOSCRIPT"):
                raise
            reply = conn.command("EVAL", BUCKET_SCRIPT, "1", self.prefix + client, *args)
        return float(reply)
