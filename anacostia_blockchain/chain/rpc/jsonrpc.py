"""A minimal JSON-RPC transport and the one place where transport and node errors become typed errors.

Why not web3's provider on the hot path: web3 adds middleware, formatters and retry sleeps per call. The sender
needs exactly one HTTP round trip per call or per *batch* of calls, and it needs the raw error object (code,
message, data) to decide between "retry", "resync the nonce", "bump the fee" and "decode the revert". The HTTP
layer is :mod:`.http_poster` (stdlib ``http.client``, one kept-alive connection per thread).

Errors:
- the node cannot be reached, answers garbage or HTTP 5xx -> :class:`ChainConnectionError`;
- a JSON-RPC error object -> :func:`translate_rpc_error` -> a typed :class:`ChainError` subclass (revert data is
  decoded by :mod:`..abi.revert`), built with the original ``RpcErrorReply`` as ``rpc_error`` for callers that
  branch on it (the sender does).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...errors import (
    ChainConnectionError,
    ChainError,
    ContractRevertError,
    InsufficientFundsError,
    NonceError,
    TransactionError,
)
from ..abi.revert import decode_revert
from ..encoding import hex_to_bytes
from .http_poster import HttpJsonPoster


@dataclass(frozen=True)
class RpcErrorReply:
    """A JSON-RPC ``error`` object as the node sent it."""

    method: str
    code: int
    message: str
    data: Any = None

    @property
    def lowered(self) -> str:
        return self.message.lower()

    @property
    def is_nonce_too_low(self) -> bool:
        return "nonce too low" in self.lowered or "nonce has already been used" in self.lowered

    @property
    def is_already_known(self) -> bool:
        text = self.lowered
        return "already known" in text or "already imported" in text or "known transaction" in text

    @property
    def is_underpriced(self) -> bool:
        text = self.lowered
        return "underpriced" in text or "less than block base fee" in text or "fee cap less than" in text

    @property
    def is_insufficient_funds(self) -> bool:
        return "insufficient funds" in self.lowered

    @property
    def revert_data(self) -> bytes | None:
        """Revert bytes when this error is an EVM revert (code 3, or a message saying so with hex data)."""
        raw = self.data
        if isinstance(raw, dict):
            raw = raw.get("data")
        if isinstance(raw, str) and raw.startswith("0x"):
            try:
                return hex_to_bytes(raw)
            except ValueError:
                return None
        if self.code == 3 or "revert" in self.lowered:
            return b""
        return None

    def as_revert(self, *, receipt: Any = None, tx_hash: str | None = None) -> ContractRevertError | None:
        """The decoded revert this reply reports (``None`` when it is not a revert), built with the given facts of
        the mined transaction it belongs to, if any."""
        data = self.revert_data
        if data is None:
            return None
        reason = _reason_from_message(self.message)
        return decode_revert(data, fallback_reason=reason, rpc_error=self, receipt=receipt, tx_hash=tx_hash)


_HAVE_WANT = re.compile(r"have (\d+) want (\d+)")


def translate_rpc_error(error: RpcErrorReply) -> ChainError:
    """Map a node's error reply onto the exception tree (the returned error carries it as ``rpc_error``)."""
    revert = error.as_revert()
    if revert is not None:
        return revert
    if error.is_insufficient_funds:
        match = _HAVE_WANT.search(error.message)
        detail = f": needs {int(match.group(2))} wei, account has {int(match.group(1))} wei" if match else ""
        return InsufficientFundsError(
            f"insufficient funds for gas * price + value{detail} ({error.message})", rpc_error=error
        )
    if error.is_nonce_too_low:
        return NonceError(f"{error.method}: {error.message}", rpc_error=error)
    if error.is_underpriced or error.is_already_known:
        return TransactionError(f"{error.method}: {error.message}", rpc_error=error)
    return ChainError(f"{error.method} failed ({error.code}): {error.message}", rpc_error=error)


def _reason_from_message(message: str) -> str | None:
    prefix = "execution reverted"
    if message.lower().startswith(prefix):
        rest = message[len(prefix) :].lstrip(": ").strip()
        return rest or None
    return None


class JsonRpcTransport:
    """JSON-RPC over HTTP (:class:`~.http_poster.HttpJsonPoster`: kept-alive connection per thread). Thread-safe."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.http = HttpJsonPoster(url, timeout=timeout)
        self.url = self.http.display_url
        self.timeout = timeout
        self._ids = itertools.count(1)

    def _post(self, payload: Any, what: str, timeout: float | None) -> Any:
        status, body = self.http.post(json.dumps(payload).encode(), what, timeout)
        if status >= 500 or status in (401, 403, 404, 429):
            raise ChainConnectionError(f"{what}: RPC {self.url} answered HTTP {status}")
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
