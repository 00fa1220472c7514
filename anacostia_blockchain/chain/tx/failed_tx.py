"""Why a transaction failed, in words a user can act on.

A rejected send for lack of funds gets the numbers (what it could cost, what the account holds).

A mined failure (:func:`outcome_of_failed_receipt`) that ran out of an *estimated* gas limit is re-estimated and
resent once; one the node reported as a revert when it was sent (Hardhat answers ``eth_sendRawTransaction`` with
the revert and the transaction hash) raises that decoded revert; any other is explained as below.

For a mined failure, a receipt only says ``status == 0``. The revert bytes come from the node's call trace
(``debug_traceTransaction`` with the ``callTracer``, which anvil and geth serve) and, where tracing is not
available, from replaying the same call with ``eth_call`` on the parent block — exact for automine chains (one
transaction per block) and nearly always right elsewhere; the message says when nothing could be recovered. Every
error is built with the receipt and transaction hash it is about.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from ...errors import ChainError, ContractRevertError, InsufficientFundsError
from ..abi.revert import decode_revert
from ..encoding import to_hex, to_quantity
from ..rpc.receipt import Receipt

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from .pending import PendingTx, TxRequest
    from .sender import TxSender


def outcome_of_failed_receipt(sender: TxSender, pending: PendingTx, receipt: Receipt, timeout: float | None) -> Receipt:
    """The receipt of the one out-of-gas retry, or raise why ``pending`` failed (see the module docs)."""
    request = pending.request
    out_of_gas = receipt.gasUsed >= request.gas * 0.97
    if out_of_gas and request.gas_estimated:
        # The cached estimate for this shape was too low for these arguments: re-estimate (which raises the
        # decoded revert if the call would revert anyway) and resend once with the explicit new limit.
        sender.gas_limits.forget(request.to, request.data, request.value)
        new_gas = sender.gas_limits.for_call(request.to, request.data, request.value)
        if new_gas > request.gas:
            logger.info("%s ran out of gas at %d; resending with %d", request.label, request.gas, new_gas)
            retry = sender.send_raw_call(request.to, request.data, request.value, gas=new_gas, label=request.label)
            return retry.wait(timeout)
    tx_hash = str(receipt.transactionHash)
    if out_of_gas:
        raise ContractRevertError(
            f"{request.label} ran out of gas in {tx_hash}: used {receipt.gasUsed} of its {request.gas} gas limit",
            receipt=receipt,
            tx_hash=tx_hash,
        )
    reported = pending.mined_with_error.rpc_error if pending.mined_with_error is not None else None
    revert = reported.as_revert(receipt=receipt, tx_hash=tx_hash) if reported is not None else None
    raise revert or revert_of_receipt(sender.client, sender.signer.address, request, receipt)


def revert_of_receipt(client: ChainClient, sender: str, request: TxRequest, receipt: Receipt) -> ContractRevertError:
    """The decoded revert of a failed receipt (returned, not raised)."""
    tx_hash = str(receipt.transactionHash)
    with contextlib.suppress(ChainError):
        trace = client.rpc("debug_traceTransaction", [tx_hash, {"tracer": "callTracer"}])
        if isinstance(trace, dict) and trace.get("output"):
            reason = trace.get("revertReason")
            return decode_revert(trace["output"], fallback_reason=reason, receipt=receipt, tx_hash=tx_hash)
    replayed = _replay_revert(client, sender, request, receipt)
    if replayed is not None:
        return replayed
    return ContractRevertError(
        f"{request.label} reverted in {tx_hash} (no revert data available)", receipt=receipt, tx_hash=tx_hash
    )


def _replay_revert(
    client: ChainClient, sender: str, request: TxRequest, receipt: Receipt
) -> ContractRevertError | None:
    """The revert the same call raises on the parent block, built with the receipt's facts; ``None`` if none."""
    call: dict[str, Any] = {
        "from": sender,
        "data": to_hex(request.data),
        "value": to_quantity(request.value),
        "gas": to_quantity(request.gas),
    }
    if request.to is not None:
        call["to"] = request.to
    try:
        client.rpc("eth_call", [call, to_quantity(max(receipt.blockNumber - 1, 0))])
    except ContractRevertError as exc:
        if exc.rpc_error is None:
            return exc
        return exc.rpc_error.as_revert(receipt=receipt, tx_hash=str(receipt.transactionHash))
    except ChainError as exc:  # the replay itself failed (pruned state, node error): no revert data to decode
        logger.debug("eth_call replay of %s failed: %s", receipt.transactionHash, exc)
    return None


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
    return InsufficientFundsError(
        f"{request.label}: insufficient funds in {address}: needs up to {needed} wei "
        f"(gas {request.gas} x max fee {fees.max_fee_per_gas} + value {request.value}), account has {available} wei",
        needed=needed,
        available=available,
        rpc_error=exc.rpc_error,
    )
