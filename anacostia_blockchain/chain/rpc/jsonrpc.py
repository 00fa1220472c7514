"""A minimal JSON-RPC transport: one HTTP round trip per call or per batch, node errors returned typed.

Why not web3's provider on the hot path: web3 adds middleware, formatters and retry sleeps per call. The sender
needs exactly one HTTP round trip per call or per *batch* of calls, and it needs the raw error object (code,
message, data) to decide between "retry", "resync the nonce", "bump the fee" and "decode the revert". The HTTP
layer is :mod:`.http_poster` (stdlib ``http.client``, one kept-alive connection per thread).

Batch replies are matched to their calls by id, never by position: a node may answer (and run) the items of a
batch in any order (Hardhat Network runs them concurrently).

Errors:
- the node cannot be reached, answers garbage or HTTP 5xx -> :class:`ChainConnectionError`;
- the endpoint answers HTTP 401, 403, 404 or 429 -> :class:`ChainConnectionError` with ``http_status`` and a message
  saying what that status means for an RPC URL (:data:`HTTP_STATUS_MEANINGS`: a 404 is a URL whose path reaches no
  JSON-RPC endpoint, not a node that is down);
- a JSON-RPC error object -> :func:`~.rpc_errors.translate_rpc_error` -> a typed :class:`ChainError` subclass,
  built with the original :class:`~.rpc_errors.RpcErrorReply` as ``rpc_error`` for callers that branch on it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from typing import Any

from ...errors import ChainConnectionError, ChainError
from .http_poster import HttpJsonPoster
from .rpc_errors import RpcErrorReply, translate_rpc_error

__all__ = [
    "HTTP_STATUS_MEANINGS",
    "JsonRpcTransport",
    "RpcErrorReply",
    "batch_result",
    "http_status_error",
    "translate_rpc_error",
]


#: What an HTTP error status from an RPC endpoint means for the URL the caller gave.
HTTP_STATUS_MEANINGS: dict[int, str] = {
    401: "Unauthorized: the endpoint wants credentials; check the user and password or the API key in the URL",
    403: "Forbidden: the endpoint refused the request; check the API key in the URL and whether the provider "
    "serves this method",
    404: "Not Found: nothing answers JSON-RPC at this URL's path; check the path (a provider's URL carries its API "
    "key or project id there, a local node answers at /)",
    429: "Too Many Requests: the provider rate-limits this key; slow down or use another endpoint",
}


def http_status_error(what: str, url: str, status: int) -> ChainConnectionError:
    """The error for an HTTP error status from ``url`` (shown without credentials, path or query)."""
    meaning = HTTP_STATUS_MEANINGS.get(status, "the node failed" if status >= 500 else "not a JSON-RPC answer")
    return ChainConnectionError(f"{what}: RPC {url} answered HTTP {status} {meaning}", http_status=status)


class JsonRpcTransport:
    """JSON-RPC over HTTP (:class:`~.http_poster.HttpJsonPoster`: kept-alive connection per thread). Thread-safe."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = HttpJsonPoster(url, timeout=timeout)
        self.url = self.http.display_url
        self.timeout = timeout
        self._ids = itertools.count(1)

    def _post(self, payload: Any, what: str, timeout: float | None) -> Any:
        status, body = self.http.post(json.dumps(payload).encode(), what, timeout)
        if status >= 500 or status in HTTP_STATUS_MEANINGS:
            raise http_status_error(what, self.url, status)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ChainConnectionError(f"{what}: RPC {self.url} answered something that is not JSON") from exc

    def call(self, method: str, params: Sequence[Any] = (), timeout: float | None = None) -> Any:
        """One call; returns ``result`` or raises the translated error."""
        reply = self._post(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}, method, timeout
        )
        return _result_or_raise(method, reply)

    def batch(self, calls: Sequence[tuple[str, Sequence[Any]]], timeout: float | None = None) -> list[Any]:
        """Several calls in one HTTP request. Each item is the result or the translated :class:`ChainError`
        (returned, not raised). A transport failure raises :class:`ChainConnectionError` for the whole batch."""
        if not calls:
            return []
        # Ids only need to be unique within one request: the position in the batch.
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        replies = self._post(payload, f"batch of {len(calls)} {calls[0][0]}", timeout)
        if not isinstance(replies, list):
            # Some nodes answer a whole batch with one error object.
            return [_result_or_error(method, replies) for method, _ in calls]
        by_id = {reply.get("id"): reply for reply in replies if isinstance(reply, dict)}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            reply = by_id.get(i)
            if reply is None:
                out.append(ChainConnectionError(f"{method}: the node sent no reply for this batch item"))
            else:
                out.append(_result_or_error(method, reply))
        return out

    def close(self) -> None:
        self.http.close()


def batch_result(reply: Any) -> Any:
    """One item of :meth:`JsonRpcTransport.batch`: its result, or raise the :class:`ChainError` it holds."""
    if isinstance(reply, ChainError):
        raise reply
    return reply


def _result_or_error(method: str, reply: Any) -> Any:
    try:
        return _result_or_raise(method, reply)
    except ChainError as exc:
        return exc


def _result_or_raise(method: str, reply: Any) -> Any:
    if not isinstance(reply, dict):
        raise ChainConnectionError(f"{method}: malformed JSON-RPC reply")
    error = reply.get("error")
    if error is not None:
        if not isinstance(error, dict):
            error = {"code": -32000, "message": str(error)}
        raise translate_rpc_error(
            RpcErrorReply(method, int(error.get("code", -32000)), str(error.get("message", "")), error.get("data"))
        )
    return reply.get("result")
