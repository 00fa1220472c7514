"""``PendingTx``: the future a :class:`~.sender.TxSender` returns for every transaction.

A pending transaction keeps every signed version it went through (a fee bump or a nonce repair re-signs it), so
``tx_hashes`` lists them all and whichever one is mined resolves it; ``tx_hash`` is the mined one when known,
otherwise the latest.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import ChainConnectionError, ChainError, TransactionTimeoutError
from ..rpc.receipt import Receipt
from .fees import Fees

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from .sender import TxSender


@dataclass(frozen=True)
class TxRequest:
    """What the caller asked for; the sender derives nonce, fees and signature from it."""

    to: str | None
    data: bytes
    value: int
    gas: int
    label: str  # "RunRegistry.anchorRun" for messages
    gas_estimated: bool = False  # True when the sender estimated ``gas`` (so it may re-estimate on out-of-gas)


class PendingTx:
    """A transaction on its way: ``.tx_hash``, ``.nonce``, ``.done()``, ``.wait(timeout) -> Receipt``."""

    def __init__(self, sender: TxSender, request: TxRequest, nonce: int, fees: Fees) -> None:
        self._sender = sender
        self.request = request
        self.nonce = nonce
        self.fees = fees
        self.tx_hashes: list[str] = []
        self.raw: bytes = b""
        self.created_at = time.monotonic()
        self.submitted_at = 0.0
        #: When an attempt to submit it first failed because the node could not be reached (``None``: never).
        self.unreachable_since: float | None = None
        self.attempts = 0
        self.accepted = False
        #: The error a node returned from ``eth_sendRawTransaction`` for a transaction it nevertheless mined (Hardhat
        #: reports a mined revert that way, with the transaction hash): the decoded revert ``wait`` raises.
        self.mined_with_error: ChainError | None = None
        self._event = threading.Event()
        self._receipt: Receipt | None = None
        self._error: ChainError | None = None
        self._failure_lock = threading.Lock()
        self._failure_outcome: Receipt | ChainError | None = None

    def __repr__(self) -> str:
        state = "mined" if self._receipt else "failed" if self._error else "pending"
        return f"PendingTx({self.request.label}, nonce={self.nonce}, {self.tx_hash}, {state})"

    @property
    def tx_hash(self) -> str:
        if self._receipt is not None:
            return str(self._receipt["transactionHash"])
        return self.tx_hashes[-1] if self.tx_hashes else ""

    def done(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> Receipt:
        """Block until mined; a reverted receipt raises the decoded :class:`ContractRevertError`."""
        if not self._event.wait(timeout):
            raise TransactionTimeoutError(
                f"{self.request.label} (nonce {self.nonce}, {self.tx_hash}) not mined within {timeout}s; "
                "it is still tracked and may be mined later"
            )
        if self._error is not None:
            raise self._error
        assert self._receipt is not None
        if self._receipt.succeeded:
            return self._receipt
        # A failed receipt is explained (and an out-of-gas retry sent) once, however often wait() is called.
        with self._failure_lock:
            if self._failure_outcome is None:
                try:
                    self._failure_outcome = self._sender._handle_failed_receipt(self, self._receipt, timeout)
                except ChainError as exc:
                    self._failure_outcome = exc
        if isinstance(self._failure_outcome, ChainError):
            raise self._failure_outcome
        return self._failure_outcome

    # --- called by the sender's threads -------------------------------------------------------------------------------
    def _resolve(self, receipt: Receipt) -> None:
        self._receipt = receipt
        self._event.set()

    def _fail(self, error: ChainError) -> None:
        self._error = error
        self._event.set()

    @property
    def receipt(self) -> Receipt | None:
        return self._receipt

    @property
    def error(self) -> ChainError | None:
        return self._error


def resolve_if_mined(client: ChainClient, pending: PendingTx) -> bool:
    """Resolve ``pending`` with the receipt of whichever of its signed versions was mined (one batched request);
    ``False`` when none was (or the node cannot be reached right now)."""
    calls = [("eth_getTransactionReceipt", [tx_hash]) for tx_hash in pending.tx_hashes]
    try:
        replies = client.rpc_batch(calls)
    except ChainConnectionError:
        return False
    for reply in replies:
        if isinstance(reply, dict):
            pending._resolve(Receipt.from_rpc(reply))
            return True
    return False
