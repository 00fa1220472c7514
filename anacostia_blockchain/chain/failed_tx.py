"""Why a mined transaction failed: recover its revert data and decode it.

A receipt only says ``status == 0``. The revert bytes come from the node's call trace
(``debug_traceTransaction`` with the ``callTracer``, which anvil and geth serve) and, where tracing is not
available, from replaying the same call with ``eth_call`` on the parent block — exact for automine chains (one
transaction per block) and nearly always right elsewhere; the message says when nothing could be recovered.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ..errors import ChainError, ContractRevertError
from .receipt import Receipt
from .revert import decode_revert

if TYPE_CHECKING:
    from .client import ChainClient
    from .pending import TxRequest


def revert_of_receipt(client: ChainClient, sender: str, request: TxRequest, receipt: Receipt) -> ContractRevertError:
    """The decoded revert of a failed receipt (returned, not raised)."""
    tx_hash = receipt.transactionHash
    with contextlib.suppress(ChainError):
        trace = client.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        if isinstance(trace, dict) and trace.get("output"):
            return decode_revert(trace["output"], fallback_reason=trace.get("revertReason"))
    call: dict[str, Any] = {
        "from": sender,
        "data": "0x" + request.data.hex(),
        "value": hex(request.value),
        "gas": hex(request.gas),
    }
    if request.to is not None:
        call["to"] = request.to
    try:
        client.rpc("eth_call", [call, hex(max(receipt.blockNumber - 1, 0))])
    except ContractRevertError as exc:
        return exc
    except ChainError:
        pass
    return ContractRevertError(f"{request.label} reverted in {tx_hash} (no revert data available)")
