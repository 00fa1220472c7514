"""The app's middleware, as plain ASGI classes, and its one error format.

- :class:`RateLimitMiddleware`: a token bucket per client, in-process (:class:`TokenBuckets`) or shared by every
  process through Redis (:class:`RedisTokenBuckets`);
- :class:`RequestSizeLimit`: request bodies over 64 KiB are refused before they are read;
- :class:`ResponseCache`: the public listings cached while the index is unchanged;
- ``errors``: ``{"error": {"type", "message"}}`` with a status per error class, for the app's exception handlers
  (:func:`install_error_handlers`) and for the middleware above.
"""

from .errors import STATUS_BY_ERROR, error_response, install_error_handlers, status_for
from .ratelimit import RateLimitMiddleware, TokenBuckets
from .ratelimit_redis import RedisTokenBuckets
from .request_limit import MAX_REQUEST_BYTES, RequestSizeLimit
from .response_cache import ResponseCache

__all__ = [
    "MAX_REQUEST_BYTES",
    "STATUS_BY_ERROR",
    "RateLimitMiddleware",
    "RedisTokenBuckets",
    "RequestSizeLimit",
    "ResponseCache",
    "TokenBuckets",
    "error_response",
    "install_error_handlers",
    "status_for",
]
