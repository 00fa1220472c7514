"""Why a transaction failed, in words a user can act on.

A rejected send for lack of funds gets the numbers (what it could cost, what the account holds).

For a mined failure, a receipt only says ``status == 0``. The revert bytes come from the node's call trace
(``debug_traceTransaction`` with the ``callTracer``, which anvil and geth serve) and, where tracing is not
available, from replaying the same call with ``eth_call`` on the parent block — exact for automine chains (one
transaction per block) and nearly always right elsewhere; the message says when nothing could be recovered.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ..errors import ChainError, ContractRevertError, InsufficientFundsError
from .receipt import Receipt
from .revert import decode_revert

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from .client import ChainClient
    from .pending import PendingTx, TxRequest


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
    except ChainError as exc:  # the replay itself failed (pruned state, node error): no revert data to decode
        logger.debug("eth_call replay of %s failed: %s", tx_hash, exc)
    return ContractRevertError(f"{request.label} reverted in {tx_hash} (no revert data available)")


def insufficient_funds_error(
    client: ChainClient, address: str, pending: PendingTx, exc: InsufficientFundsError
) -> InsufficientFundsError:
    """A readable insufficient-funds error: what the transaction could cost against what the account holds."""
    request, fees = pending.request, pending.fees
    needed = request.gas * fees.max_fee_per_gas + request.value
    try:
        available = client.balance(address)
    except ChainError:
        return exc
    error = InsufficientFundsError(
        f"{request.label}: insufficient funds in {address}: needs up to {needed} wei "
        f"(gas {request.gas} x max fee {fees.max_fee_per_gas} + value {request.value}), account has {available} wei"
    )
    error.needed = needed
    error.available = available
    error.rpc_error = exc.rpc_error
    return error
