"""The submitting side of a :class:`~.sender.TxSender`: signed transactions queued in nonce order, sent by one
background thread, and what each node answer means for them.

:class:`Submitter` owns the queue and the thread that drains it:

- the queue goes out as JSON-RPC batches in nonce order (a node may run batch items in any order);
- rejections are repaired: underpriced -> fresh fees, same nonce; nonce too low -> resync and re-sign (or, for a
  replacement whose earlier version was mined meanwhile, that receipt); insufficient funds -> typed error and the
  nonce given back; node unreachable -> retried with backoff for ``submit_timeout`` from its first failed attempt,
  then failed and the nonce given back;
- a node that refuses a nonce ahead of the account's instead of queueing it (Hardhat while automining) gets the
  refused transactions again after their predecessors, and from then on one request per transaction in nonce order
  (Ganache, which holds such a request until the gap closes, from the start);
- an error that names the mined transaction (Hardhat reports a mined revert so) is a mined transaction: nonce used,
  tracked for its receipt;
- a nonce given back is filled with a 0-value self-transfer before any later nonce is sent.

Accepted transactions are handed to the receipt side through ``track``; :meth:`Submitter.resign` and
:meth:`Submitter.send_filler` are also how the receipt side re-drives stuck transactions.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ...errors import (
    ChainConnectionError,
    ChainError,
    ContractRevertError,
    InsufficientFundsError,
    NonceError,
    TransactionError,
)
from ..encoding import to_hex
from ..rpc.client import ChainClient
from ..rpc.rpc_errors import RpcErrorReply
from .failed_tx import insufficient_funds_error
from .fees import FeeOracle, Fees, bump
from .nonce import NonceManager
from .pending import PendingTx, TxRequest, resolve_if_mined
from .signer import LocalSigner

if TYPE_CHECKING:
    from .sender import TxSender

logger = logging.getLogger(__name__)

MAX_REPAIRS = 5  # re-signs per transaction for underpriced / nonce-too-low before giving up


class _SubmitFailed(Exception):
    """The node could not be reached while submitting; ``unsent`` are the transactions to retry."""

    def __init__(self, unsent: list[PendingTx], error: ChainConnectionError) -> None:
        super().__init__(str(error))
        self.unsent = unsent
        self.error = error


class Submitter:
    """The queue of signed transactions and the thread that submits them (see the module docs). Thread-safe."""

    def __init__(
        self,
        owner: TxSender,
        client: ChainClient,
        signer: LocalSigner,
        nonces: NonceManager,
        fees: FeeOracle,
        *,
        track: Callable[[PendingTx], None],
        count: Callable[[str], None],
        submitted: threading.Event,
        submit_timeout: float,
        max_batch: int,
        one_per_request: bool,
    ) -> None:
        self.client = client
        self.signer = signer
        self.nonces = nonces
        self.fees = fees
        self.submit_timeout = submit_timeout
        self.max_batch = max_batch
        #: One request per transaction, in nonce order (set on Ganache from the start, elsewhere once the node
        #: refuses a nonce ahead of the account's).
        self.one_per_request = one_per_request
        #: Transactions failed during an RPC outage: the next send re-reads the node's pending count first.
        self.resync_after_outage = False
        self._owner = owner  # the sender whose transactions these are (a filler's PendingTx reports to it)
        self._track = track
        self._count = count
        self._submitted = submitted
        self._lock = threading.Lock()
        self._queue: deque[PendingTx] = deque()
        self._queue_cv = threading.Condition(self._lock)
        self._holds = 0
        self._closed = False

    # --- what the sender calls ----------------------------------------------------------------------------------------
    def sign(self, pending: PendingTx) -> None:
        """Sign ``pending`` with its current nonce and fees; the new hash joins its versions."""
        request = pending.request
        tx: dict[str, Any] = {
            "type": 2,
            "chainId": self.client.chain_id,
            "nonce": pending.nonce,
            "gas": request.gas,
            "maxFeePerGas": pending.fees.max_fee_per_gas,
            "maxPriorityFeePerGas": pending.fees.max_priority_fee_per_gas,
            "value": request.value,
            "data": request.data,
        }
        if request.to is not None:
            tx["to"] = request.to
        signed = self.signer.sign_transaction(tx)
        pending.raw = signed.raw
        pending.tx_hashes.append(signed.tx_hash)

    def enqueue(self, pending: PendingTx) -> None:
        """Queue a signed transaction behind those queued before (the caller keeps nonce order)."""
        with self._queue_cv:
            self._queue.append(pending)
            self._queue_cv.notify()

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold submission while the block runs: everything queued inside goes out together at exit."""
        with self._queue_cv:
            self._holds += 1
        try:
            yield
        finally:
            with self._queue_cv:
                self._holds -= 1
                self._queue_cv.notify()

    def idle(self) -> bool:
        """Nothing queued."""
        with self._lock:
            return not self._queue

    def close(self) -> list[PendingTx]:
        """Stop the thread (after the round in progress) and return what was still queued."""
        with self._queue_cv:
            self._closed = True
            self._queue_cv.notify_all()
            leftovers = list(self._queue)
            self._queue.clear()
        return leftovers

    def resign(self, pending: PendingTx, fees: Fees, reason: str) -> None:
        """Re-sign ``pending`` with ``fees`` (and its current nonce) and send it ahead of the queue; ``reason`` is
        the stats counter (``fee_repairs`` / ``nonce_repairs``)."""
        pending.fees = fees
        pending.accepted = False
        pending.attempts += 1
        self._count("repairs")
        self._count(reason)
        self.sign(pending)
        with self._queue_cv:
            self._queue.appendleft(pending)
            self._queue_cv.notify()

    def fill_released_nonces(self, below: int) -> list[int]:
        """Fill nonces given back below ``below`` so that later transactions can be mined; returns them."""
        filled = []
        while (nonce := self.nonces.take_released_below(below)) is not None:
            self.send_filler(nonce)
            filled.append(nonce)
        return filled

    def send_filler(self, nonce: int) -> None:
        """A 0-value self-transfer with ``nonce``, ahead of the queue (fills a hole in the account's nonces)."""
        request = TxRequest(to=self.signer.address, data=b"", value=0, gas=21_000, label="nonce filler")
        filler = PendingTx(self._owner, request, nonce, self.fees.current())
        self.sign(filler)
        self._count("fillers")
        with self._queue_cv:
            self._queue.appendleft(filler)
            self._queue_cv.notify()

    # --- the thread ---------------------------------------------------------------------------------------------------
    def run(self) -> None:
        """The submitter thread: send whatever is queued until closed."""
        backoff = 0.05
        while True:
            with self._queue_cv:
                while (not self._queue or self._holds) and not self._closed:
                    self._queue_cv.wait()
                if self._closed:
                    return
                batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            batch.sort(key=lambda p: p.nonce)  # repairs are queued first; keep every batch in nonce order
            try:
                self._submit(batch)
            except _SubmitFailed as failed:
                self._retry_later(failed.unsent, failed.error, backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            self._submitted.set()

    def _submit(self, batch: list[PendingTx]) -> None:
        """``batch`` as one JSON-RPC batch (the node may run its items in any order) or, on Ganache and once a node
        refused a nonce as too early (:meth:`_resubmit_after_predecessors`), one request per transaction in nonce
        order, stopping at the first one refused; a nonce given back is filled before any later one is sent."""
        one_by_one = self.one_per_request
        groups = [[pending] for pending in batch] if one_by_one else [batch]
        for index, group in enumerate(groups):
            try:
                replies = self.client.rpc_batch([("eth_sendRawTransaction", [to_hex(p.raw)]) for p in group])
            except ChainConnectionError as exc:
                raise _SubmitFailed(batch[index:] if one_by_one else batch, exc) from exc
            outcomes = [self._on_send_reply(pending, reply) for pending, reply in zip(group, replies, strict=True)]
            rest = batch[index + 1 :]
            if one_by_one and rest and outcomes[0] == "given back":
                self.fill_released_nonces(below=rest[0].nonce)  # never send a nonce behind a hole
            if one_by_one and outcomes[0] in ("too early", "given back"):  # the rest waits behind it
                with self._queue_cv:
                    self._queue.extendleft(reversed(rest))
                if index == 0:
                    time.sleep(0.005)  # no progress this round: a predecessor is still on its way
                return

    def _retry_later(self, batch: list[PendingTx], exc: ChainConnectionError, delay: float) -> None:
        now = time.monotonic()
        keep = []
        for pending in batch:
            # the clock starts at the first failed attempt: a slow answer to a big batch (a read timeout) never
            # fails transactions that had no retry (resending the same signed transaction is harmless)
            if pending.unreachable_since is None:
                pending.unreachable_since = now
            if now - pending.unreachable_since > self.submit_timeout:
                self.nonces.release(pending.nonce)
                self.resync_after_outage = True
                pending._fail(
                    ChainConnectionError(
                        f"{pending.request.label}: could not submit for {self.submit_timeout:.0f}s: {exc} "
                        f"(if an attempt reached the node before failing, {pending.tx_hash} may still be mined)"
                    )
                )
            else:
                keep.append(pending)
        logger.warning("RPC unreachable, retrying %d transaction(s) in %.2fs: %s", len(keep), delay, exc)
        time.sleep(delay)
        with self._queue_cv:
            self._queue.extendleft(reversed(keep))

    def _on_send_reply(self, pending: PendingTx, reply: Any) -> str | None:
        """Act on the node's answer to one submission; returns ``"too early"`` when the node refused the nonce as
        ahead of the account's (the transaction is queued again), ``"given back"`` when the transaction failed and
        its nonce is free again."""
        if not isinstance(reply, ChainError):
            self._track(pending)
            return None
        rpc_error = reply.rpc_error if isinstance(reply.rpc_error, RpcErrorReply) else None
        if rpc_error is not None and rpc_error.is_already_known:
            self._track(pending)
        elif rpc_error is not None and rpc_error.mined_tx_hash is not None:
            # Mined with an error (Hardhat answers a mined revert this way): the nonce is used, the receipt will
            # come, and wait() raises the decoded revert. Never resent, never given back.
            pending.mined_with_error = reply
            self._track(pending)
        elif rpc_error is not None and rpc_error.is_nonce_too_high:
            self._resubmit_after_predecessors(pending, reply)
            return "too early"
        elif isinstance(reply, InsufficientFundsError):
            self.nonces.release(pending.nonce)
            pending._fail(insufficient_funds_error(self.client, self.signer.address, pending, reply))
            return "given back"
        elif rpc_error is not None and rpc_error.is_underpriced and pending.attempts < MAX_REPAIRS:
            self.fees.invalidate()
            self.resign(pending, bump(pending.fees, floor=self.fees.current()), "fee_repairs")
        elif isinstance(reply, NonceError) and resolve_if_mined(self.client, pending):
            pass  # "nonce too low" for a replacement whose earlier version was mined meanwhile: that is success
        elif isinstance(reply, NonceError) and pending.attempts < MAX_REPAIRS:
            self.nonces.resync()
            pending.nonce = self.nonces.allocate()
            self.resign(pending, pending.fees, "nonce_repairs")
        else:
            if isinstance(reply, NonceError | TransactionError | ContractRevertError):
                pending._fail(reply)
            else:
                pending._fail(TransactionError(f"{pending.request.label} rejected by the node: {reply}"))
            if not isinstance(reply, NonceError):  # a "too low" nonce is used up: never hand it out again
                self.nonces.release(pending.nonce)
                return "given back"
        return None

    def _resubmit_after_predecessors(self, pending: PendingTx, reply: ChainError) -> None:
        """The node refused a nonce ahead of the account's instead of queueing it (Hardhat while automining; it also
        runs batch items concurrently, so a batch in nonce order can reach it out of order). The same signed
        transaction goes out again in the next batch, after the ones before it; holes left by given-back nonces are
        filled first. Refused for longer than ``submit_timeout``: fails, and its nonce is given back."""
        self.one_per_request = True
        if time.monotonic() - pending.created_at > self.submit_timeout:
            self.nonces.release(pending.nonce)
            pending._fail(NonceError(f"{pending.request.label}: {reply} (for {self.submit_timeout:.0f}s)"))
            return
        self._count("requeues")
        self.fill_released_nonces(below=pending.nonce)
        with self._queue_cv:
            self._queue.appendleft(pending)  # ahead of later nonces queued meanwhile
            self._queue_cv.notify()
