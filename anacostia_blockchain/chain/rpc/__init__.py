"""Talking to a node: HTTP transport, JSON-RPC with typed errors, the :class:`ChainClient` connection and receipts.

- :mod:`.http_poster` — POST over kept-alive ``http.client`` connections (one per thread);
- :mod:`.jsonrpc` — :class:`JsonRpcTransport` (calls and batches) and :func:`translate_rpc_error`, the one place node
  error objects become exceptions of :mod:`anacostia_blockchain.errors`;
- :mod:`.client` — :class:`ChainClient`: chain id checked once, typed account and block reads;
- :mod:`.receipt` — :class:`Receipt`, a receipt with hex quantities as ints.
"""

from .client import BlockHeader, ChainClient
from .http_poster import HttpJsonPoster, redact_url
from .jsonrpc import JsonRpcTransport, RpcErrorReply, batch_result, translate_rpc_error
from .receipt import Receipt

__all__ = [
    "BlockHeader",
    "ChainClient",
    "HttpJsonPoster",
    "JsonRpcTransport",
    "Receipt",
    "RpcErrorReply",
    "batch_result",
    "redact_url",
    "translate_rpc_error",
]
