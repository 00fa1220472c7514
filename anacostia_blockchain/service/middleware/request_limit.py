"""Refuse request bodies larger than the API can ever need, before they are read into memory.

The largest body the marketplace accepts is a SIWE login (a message of at most 4,096 characters and a signature),
so :data:`MAX_REQUEST_BYTES` (64 KiB) leaves ample room while a client can no longer make the service buffer and
parse megabytes of JSON. A declared ``Content-Length`` over the limit is answered ``413`` at once without reading
the body; a body without one (chunked) is counted as it streams and cut off as soon as it passes the limit. A request
within its declared length, or without a body at all (most of them: ``GET``), goes to the app untouched — wrapping
its ``receive`` and ``send`` would cost every request a layer of calls for nothing. Either
way the answer is the API's error body, ``{"error": {"type": "RequestTooLargeError", "message": ...}}``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ...errors import RequestTooLargeError
from .errors import send_error

MAX_REQUEST_BYTES = 64 * 1024


class RequestSizeLimit:
    """ASGI middleware enforcing ``max_bytes`` on every HTTP request body (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        streamed = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._refuse(send)
                    return
                # the server delivers no more than the declared length (HTTP framing): nothing to count
                await self.app(scope, receive, send)
                return
            if name == b"transfer-encoding":
                streamed = True
        if not streamed:  # neither a length nor a transfer coding: the request has no body (RFC 9112, 6.3)
            await self.app(scope, receive, send)
            return
        received = 0
        refused = False

        async def counted() -> Message:
            # Past the limit the 413 goes out at once and the app sees the client gone (it stops reading).
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:  # after a refusal, whatever the app still answers is dropped
                await send(message)

        await self.app(scope, counted, guarded)

    async def _refuse(self, send: Send) -> None:
        error = RequestTooLargeError(f"request body is larger than {self.max_bytes} bytes")
        await send_error(send, error, [(b"connection", b"close")])
