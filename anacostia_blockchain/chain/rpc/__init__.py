"""Talking to a node: HTTP transport, JSON-RPC with typed errors, the :class:`ChainClient` connection and receipts.

- :mod:`.http_poster` — POST over kept-alive ``http.client`` connections (one per thread);
- :mod:`.jsonrpc` — :class:`JsonRpcTransport` (calls and batches, replies matched by id);
- :mod:`.rpc_errors` — :func:`translate_rpc_error`, the one place node error objects become exceptions of
  :mod:`anacostia_blockchain.errors`: each client's wordings (:data:`WORDINGS`) and revert-data locations;
- :mod:`.node_kind` — :class:`NodeKind`: anvil, Hardhat Network, Ganache, geth or other, from ``web3_clientVersion``;
- :mod:`.evm` — which EVM version a chain runs, probed by executing MCOPY / PUSH0 in ``eth_call``;
- :mod:`.client` — :class:`ChainClient`: chain id checked once, typed account and block reads;
- :mod:`.receipt` — :class:`Receipt`, a receipt with hex quantities as ints.
"""

from .client import BlockHeader, ChainClient
from .evm import EVM_VERSIONS, probe_evm_version
from .http_poster import HttpJsonPoster, redact_url
from .jsonrpc import JsonRpcTransport, batch_result
from .node_kind import NodeKind, node_kind_of
from .receipt import Receipt
from .rpc_errors import WORDINGS, Condition, RpcErrorReply, Wording, translate_rpc_error

__all__ = [
    "EVM_VERSIONS",
    "WORDINGS",
    "BlockHeader",
    "ChainClient",
    "Condition",
    "HttpJsonPoster",
    "JsonRpcTransport",
    "NodeKind",
    "Receipt",
    "RpcErrorReply",
    "Wording",
    "batch_result",
    "node_kind_of",
    "probe_evm_version",
    "redact_url",
    "translate_rpc_error",
]
