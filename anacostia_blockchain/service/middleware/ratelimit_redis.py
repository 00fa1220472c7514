"""Rate-limit buckets kept in Redis, so every process of a deployment draws from the same budget per client.

Optional (``ServiceConfig.rate_limit_redis_url`` / ``ANACOSTIA_RATE_LIMIT_REDIS_URL``); the in-process
:class:`~anacostia_blockchain.service.middleware.TokenBuckets` is the default. The URL is the ``redis`` client's:
``redis://[[user]:password@]host:port/db`` or ``rediss://…`` for TLS (certificate options as query parameters, e.g.
``?ssl_ca_certs=/etc/ssl/redis-ca.pem``). Same algorithm as in-process, run atomically inside Redis by one Lua script
(registered with ``register_script``: ``EVALSHA``, reloaded by the client when Redis lost it): refill by elapsed time
on Redis' own clock (``TIME``, so hosts with skewed clocks agree), take a token or report the wait, and let idle
buckets expire. One round trip per request, over the client's thread-safe connection pool.

**When Redis is unavailable** (down, unreachable, slower than ``timeout``, or refusing the credentials), the limiter
falls back to an in-process bucket for ``retry_seconds`` and logs a warning naming Redis by ``host:port`` only — a
Redis outage degrades limits to per-process, it never takes the API down. The URL's password never appears in a log
line, an error or a ``repr``.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.exceptions import AuthenticationError, RedisError, ResponseError

from ...errors import ConfigurationError
from ..config import RateLimit, display_url
from .ratelimit import TokenBuckets

log = logging.getLogger(__name__)

SCHEMES = ("redis", "rediss")

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


def _client(url: str, timeout: float) -> redis.Redis:
    """The ``redis`` client of ``url`` (password, database and TLS options from the URL itself)."""
    try:
        parts = urlsplit(url)
        valid = parts.scheme in SCHEMES and bool(parts.hostname)
    except ValueError:
        valid = False
    if not valid:
        raise ConfigurationError(
            f"rate limit Redis URL must look like redis://[:password@]host:port/db or rediss://..., "
            f"got {display_url(url)!r}"
        )
    try:
        return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    except (ValueError, RedisError) as exc:
        raise ConfigurationError(f"bad rate limit Redis URL {display_url(url)}: {type(exc).__name__}") from None


class RedisTokenBuckets:
    """Drop-in for :class:`TokenBuckets` with the state in Redis (see the module docstring)."""

    blocking = True  # take() does network I/O: the middleware calls it off the event loop

    def __init__(
        self,
        url: str,
        limit: RateLimit,
        *,
        prefix: str = "anacostia:ratelimit:",
        timeout: float = 0.5,
        retry_seconds: float = 5.0,
    ) -> None:
        self.redis = _client(url, timeout)
        self.where = display_url(url)
        self.limit = limit
        self.prefix = prefix
        self.retry_seconds = retry_seconds
        self.fallback = TokenBuckets(limit)
        self._script: Any = self.redis.register_script(BUCKET_SCRIPT)
        self._down_until = 0.0

    def __repr__(self) -> str:
        return f"RedisTokenBuckets({self.where})"

    def take(self, client: str) -> float:
        """Seconds ``client`` must wait (0: allowed), from Redis — or from the in-process fallback while Redis is
        unavailable."""
        if time.monotonic() < self._down_until:
            return self.fallback.take(client)
        try:
            reply = self._script(keys=[self.prefix + client], args=[self.limit.per_second, self.limit.burst])
            return float(reply)
        except (RedisError, ValueError) as exc:
            self._down_until = time.monotonic() + self.retry_seconds
            log.warning(
                "rate limiting falls back to in-process buckets for %.0fs: redis at %s %s",
                self.retry_seconds,
                self.where,
                _reason(exc),
            )
            return self.fallback.take(client)

    def close(self) -> None:
        self.redis.close()


def _reason(exc: Exception) -> str:
    """Why Redis could not be used, in words that carry no secret (a server reply may echo the command)."""
    if isinstance(exc, AuthenticationError) or (isinstance(exc, ResponseError) and "NOAUTH" in str(exc)):
        return "refused the credentials (check the password in the URL)"
    if isinstance(exc, ResponseError):
        return f"answered an error ({str(exc).split(' ', 1)[0]})"
    return f"is unavailable ({type(exc).__name__})"
