"""``TxSender``: many threads, one account, no nonce errors, no ``build_transaction`` per write.

Per transaction the calling thread only encodes calldata (eth-abi, cached ABI), looks up the gas for the call shape
(:class:`~.gas_limits.GasLimits`), reads the cached fees, takes the next local nonce and signs (coincurve): no RPC
round trip on the hot path. Two background threads do the network work for every caller at once:

- the *submitter* sends queued raw transactions as JSON-RPC batches and handles rejections (underpriced -> fresh
  fees, same nonce; nonce too low -> resync and re-sign; insufficient funds -> typed error; node unreachable ->
  retry with backoff for ``submit_timeout``, then fail and give the nonce back). A node may run batch items in
  any order; one that refuses a nonce ahead of the account's instead of queueing it (Hardhat while automining)
  gets the refused transactions again, and from then on one request per transaction in nonce order (Ganache, which
  holds such a request until the gap closes, from the start). An error
  that names the mined transaction (Hardhat reports a mined revert so) is a mined transaction: nonce used;
- the *poller* fetches receipts for everything in flight in one batch per round, resolves each ``PendingTx``, and
  re-drives transactions stuck longer than ``stuck_timeout`` (see :meth:`TxSender._handle_stuck`): same nonce with
  bumped fees, nonce holes filled with 0-value self-transfers, a fresh nonce only when no old version can execute.

A reverted receipt raises the decoded revert from ``PendingTx.wait``; a receipt that ran out of an *estimated* gas
limit re-estimates the call shape and is resent once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

from ...errors import (
    ChainConnectionError,
    ChainError,
    ConfigurationError,
    ContractRevertError,
    InsufficientFundsError,
    NonceError,
    TransactionError,
)
from ..abi.artifacts import ContractArtifact
from ..abi.contract import Contract, deployment_data
from ..encoding import checksum, quantity, to_hex
from ..rpc.client import ChainClient
from ..rpc.node_kind import NodeKind
from ..rpc.receipt import Receipt
from ..rpc.rpc_errors import RpcErrorReply
from .evm_target import artifact_for
from .failed_tx import insufficient_funds_error, outcome_of_failed_receipt
from .fees import FeeOracle, Fees, bump
from .gas_limits import GasLimits
from .nonce import NonceManager
from .pending import PendingTx, TxRequest
from .signer import LocalSigner

logger = logging.getLogger(__name__)

MAX_REPAIRS = 5  # re-signs per transaction for underpriced / nonce-too-low before giving up


class _SubmitFailed(Exception):
    """The node could not be reached while submitting; ``unsent`` are the transactions to retry."""

    def __init__(self, unsent: list[PendingTx], error: ChainConnectionError) -> None:
        super().__init__(str(error))
        self.unsent = unsent
        self.error = error


class TxSender:
    """Thread-safe transaction sender for one signer on one chain. Use as a context manager or call ``close``."""

    def __init__(
        self,
        client: ChainClient,
        signer: LocalSigner,
        *,
        gas_margin: float = 1.25,
        fee_refresh: float = 5.0,
        stuck_timeout: float | None = None,
        receipt_timeout: float = 600.0,
        submit_timeout: float = 30.0,
        poll_interval: float = 0.25,
        fast_poll_interval: float = 0.002,
        fast_poll_window: float = 0.25,
        max_batch: int = 256,
        max_gap_fill: int = 16,
        fee_oracle: FeeOracle | None = None,
    ) -> None:
        if gas_margin < 1.0:
            raise ConfigurationError(f"gas_margin must be >= 1.0, got {gas_margin}")
        self.client = client
        self.signer = signer
        self.gas_margin = gas_margin
        # anvil occasionally leaves a transaction in its pool when a JSON-RPC batch reaches it out of nonce order
        # (it handles batch items concurrently); the replacement sent after stuck_timeout gets it mined. An
        # automining node mines within milliseconds, so 3 s without a receipt already means stuck there.
        if stuck_timeout is None:
            stuck_timeout = 3.0 if client.automines() else 30.0
        self.stuck_timeout = stuck_timeout
        self.receipt_timeout = receipt_timeout
        self.submit_timeout = submit_timeout
        self.poll_interval = poll_interval
        self.fast_poll_interval = fast_poll_interval
        self.fast_poll_window = fast_poll_window
        self.max_batch = max_batch
        self.max_gap_fill = max_gap_fill
        self.fees = fee_oracle or FeeOracle(client, refresh_interval=fee_refresh)
        self.nonces = NonceManager(client, signer.address)
        #: ``repairs`` counts every re-signed transaction; ``nonce_repairs`` and ``fee_repairs`` say why.
        self.stats: dict[str, int] = {
            "sent": 0, "estimates": 0, "resubmits": 0, "repairs": 0, "nonce_repairs": 0, "fee_repairs": 0, "fillers": 0,
            "requeues": 0,
        }
        self.gas_limits = GasLimits(self.estimate_gas)
        self._order_lock = threading.Lock()
        self._stats_lock = threading.Lock()
        self._lock = threading.Lock()
        self._queue: deque[PendingTx] = deque()
        self._queue_cv = threading.Condition(self._lock)
        self._inflight: dict[int, PendingTx] = {}  # id(pending) -> pending, awaiting a receipt
        self._poll_now = threading.Event()
        self._holds = 0
        # One request per transaction, in nonce order: from the start on Ganache, whose default ("eager") instamine
        # holds a request with a nonce ahead of the account's until the gap closes; elsewhere once the node refuses
        # such a nonce (Hardhat while automining).
        self._one_per_request = client.node_kind is NodeKind.GANACHE
        self._resync_after_outage = False
        self._closed = False
        self._threads: list[threading.Thread] = []

    def __repr__(self) -> str:
        return f"TxSender({self.signer.address} on chain {self.client.chain_id})"

    def __enter__(self) -> TxSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public API ---------------------------------------------------------------------------------------------------
    def send(self, contract: Contract, fn: str, *args: Any, value: int = 0, gas: int | None = None) -> PendingTx:
        """Queue ``contract.fn(*args)``; returns at once with a :class:`PendingTx`."""
        data = contract.encode(fn, *args)
        return self.send_raw_call(contract.address, data, value=value, gas=gas, label=f"{contract.name}.{fn}")

    def transact(
        self, contract: Contract, fn: str, *args: Any, value: int = 0, gas: int | None = None,
        timeout: float | None = None,
    ) -> Receipt:  # fmt: skip
        """``send`` and wait for the receipt; a revert raises the decoded :class:`ContractRevertError`."""
        return self.send(contract, fn, *args, value=value, gas=gas).wait(timeout or self.receipt_timeout)

    def send_value(self, to: str, wei: int, timeout: float | None = None) -> Receipt:
        return self.send_raw_call(checksum(to), b"", value=wei, label="transfer").wait(timeout or self.receipt_timeout)

    def deploy(
        self, name_or_artifact: str | ContractArtifact, *ctor_args: Any, timeout: float | None = None
    ) -> Contract:
        """Deploy a shipped artifact (from the set this chain's EVM runs, :mod:`.evm_target`) or any
        :class:`ContractArtifact`, and wait for it; returns the handle."""
        if isinstance(name_or_artifact, str):
            artifact = artifact_for(self.client, name_or_artifact)
        else:
            artifact = name_or_artifact
        data = deployment_data(artifact, *ctor_args)
        pending = self.send_raw_call(None, data, label=f"deploy {artifact.name}")
        receipt = pending.wait(timeout or self.receipt_timeout)
        contract = Contract(self.client, artifact.name, artifact.abi, receipt["contractAddress"])
        contract.deployment_receipt = receipt
        return contract

    def send_raw_call(
        self, to: str | None, data: bytes, value: int = 0, gas: int | None = None, label: str = "call"
    ) -> PendingTx:
        """Queue a transaction with pre-encoded calldata (``to=None`` creates a contract)."""
        if self._closed:
            raise TransactionError("this TxSender is closed")
        estimated = gas is None
        if gas is None:
            gas = self.gas_limits.for_call(to, data, value)
        request = TxRequest(to=to, data=data, value=value, gas=gas, label=label, gas_estimated=estimated)
        fees = self.fees.current()
        self._start_threads()
        # Nonce, signature and queue position are taken together, so the queue is in nonce order. Nodes keep a
        # transaction whose nonce arrives early in a "queued" pool, and an automining anvil mines it only when a
        # later transaction arrives, so out-of-order submission can leave the last one waiting for stuck_timeout.
        with self._order_lock:
            if self._resync_after_outage and self._idle():
                # Transactions failed during an RPC outage: re-read the node's pending count (it also counts any
                # that did reach the node before the connection broke) instead of trusting the local sequence.
                self.nonces.resync()
                self._resync_after_outage = False
            nonce = self.nonces.allocate()
            pending = PendingTx(self, request, nonce, fees)
            try:
                self._sign(pending)
            except ChainError:
                self.nonces.release(nonce)
                raise
            with self._queue_cv:
                self._queue.append(pending)
                self._queue_cv.notify()
        return pending

    def estimate_gas(self, to: str | None, data: bytes, value: int = 0) -> int:
        """``eth_estimateGas`` times ``gas_margin``; a revert raises the decoded error."""
        call: dict[str, Any] = {"from": self.signer.address, "data": to_hex(data), "value": hex(value)}
        if to is not None:
            call["to"] = to
        estimate = quantity(self.client.rpc("eth_estimateGas", [call]))
        self._count("estimates")
        return int(estimate * self.gas_margin)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Hold submission while the block runs: everything sent inside goes out in one JSON-RPC batch at exit."""
        with self._queue_cv:
            self._holds += 1
        try:
            yield
        finally:
            with self._queue_cv:
                self._holds -= 1
                self._queue_cv.notify()

    def cached_gas(self, contract: Contract, fn: str, *args: Any, value: int = 0) -> int | None:
        """The gas limit cached for this call's shape, or ``None`` when it has not been estimated yet."""
        return self.gas_limits.cached(contract.address, contract.encode(fn, *args), value)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the background threads; transactions still queued or in flight fail with TransactionError."""
        with self._queue_cv:
            self._closed = True
            self._queue_cv.notify_all()
        self._poll_now.set()
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            leftovers = list(self._queue) + list(self._inflight.values())
            self._queue.clear()
            self._inflight.clear()
        for pending in leftovers:
            if not pending.done():
                pending._fail(TransactionError(f"{pending.request.label}: sender closed before it was mined"))

    # --- signing ------------------------------------------------------------------------------------------------------
    def _idle(self) -> bool:
        """Nothing queued or awaiting a receipt."""
        with self._lock:
            return not self._queue and not self._inflight

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1

    def _sign(self, pending: PendingTx) -> None:
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

    # --- background threads -------------------------------------------------------------------------------------------
    def _start_threads(self) -> None:
        if self._threads:
            return
        with self._lock:
            if self._threads:
                return
            for target, name in ((self._submit_loop, "submitter"), (self._poll_loop, "receipts")):
                thread = threading.Thread(target=target, name=f"txsender-{name}-{self.signer.address[:8]}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _submit_loop(self) -> None:
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
            self._poll_now.set()

    def _submit(self, batch: list[PendingTx]) -> None:
        """``batch`` as one JSON-RPC batch (the node may run its items in any order) or, on Ganache and once a node
        refused a nonce as too early (:meth:`_resubmit_after_predecessors`), one request per transaction in nonce
        order, stopping at the first one refused; a nonce given back is filled before any later one is sent."""
        one_by_one = self._one_per_request
        groups = [[pending] for pending in batch] if one_by_one else [batch]
        for index, group in enumerate(groups):
            try:
                replies = self.client.rpc_batch([("eth_sendRawTransaction", [to_hex(p.raw)]) for p in group])
            except ChainConnectionError as exc:
                raise _SubmitFailed(batch[index:] if one_by_one else batch, exc) from exc
            outcomes = [self._on_send_reply(pending, reply) for pending, reply in zip(group, replies, strict=True)]
            rest = batch[index + 1 :]
            if one_by_one and rest and outcomes[0] == "given back":
                self._fill_released_nonces(below=rest[0].nonce)  # never send a nonce behind a hole
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
            if now - pending.created_at > self.submit_timeout:
                self.nonces.release(pending.nonce)
                self._resync_after_outage = True
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
            self._resign(pending, bump(pending.fees, floor=self.fees.current()), "fee_repairs")
        elif isinstance(reply, NonceError) and self._resolve_if_mined(pending):
            pass  # "nonce too low" for a replacement whose earlier version was mined meanwhile: that is success
        elif isinstance(reply, NonceError) and pending.attempts < MAX_REPAIRS:
            self.nonces.resync()
            pending.nonce = self.nonces.allocate()
            self._resign(pending, pending.fees, "nonce_repairs")
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
        self._one_per_request = True
        if time.monotonic() - pending.created_at > self.submit_timeout:
            self.nonces.release(pending.nonce)
            pending._fail(NonceError(f"{pending.request.label}: {reply} (for {self.submit_timeout:.0f}s)"))
            return
        self._count("requeues")
        self._fill_released_nonces(below=pending.nonce)
        with self._queue_cv:
            self._queue.appendleft(pending)  # ahead of later nonces queued meanwhile
            self._queue_cv.notify()

    def _resign(self, pending: PendingTx, fees: Fees, reason: str) -> None:
        pending.fees = fees
        pending.accepted = False
        pending.attempts += 1
        self._count("repairs")
        self._count(reason)
        self._sign(pending)
        with self._queue_cv:
            self._queue.appendleft(pending)
            self._queue_cv.notify()

    def _track(self, pending: PendingTx) -> None:
        pending.accepted = True
        pending.submitted_at = time.monotonic()
        with self._lock:
            self._inflight[id(pending)] = pending
        self._count("sent")

    def _resolve_if_mined(self, pending: PendingTx) -> bool:
        calls = [("eth_getTransactionReceipt", [h]) for h in pending.tx_hashes]
        with contextlib.suppress(ChainConnectionError):
            for reply in self.client.rpc_batch(calls):
                if isinstance(reply, dict):
                    pending._resolve(Receipt.from_rpc(reply))
                    return True
        return False

    def _poll_loop(self) -> None:
        idle: float | None = None  # None: nothing in flight, sleep until the submitter hands over a transaction
        while not self._closed:
            self._poll_now.wait(idle)
            self._poll_now.clear()
            with self._lock:
                inflight = list(self._inflight.values())
            if not inflight:
                idle = None
                continue
            try:
                found = self._poll_receipts(inflight)
                self._handle_stuck(inflight)
            except ChainConnectionError as exc:
                logger.debug("receipt poll failed, will retry: %s", exc)
                idle = min(max((idle or 0) * 2, 0.05), 2.0)
                continue
            youngest = time.monotonic() - max(p.submitted_at for p in inflight)
            if found or youngest < self.fast_poll_window:
                idle = self.fast_poll_interval
            else:
                idle = min(max((idle or 0) * 2, self.fast_poll_interval), self.poll_interval)

    def _poll_receipts(self, inflight: list[PendingTx]) -> int:
        """One polling round; returns how many transactions it resolved.

        One account's transactions are mined in nonce order, so the account's mined count (``latest``) says which
        receipts can exist: receipts are fetched only for in-flight nonces below it, and a round in which the count
        did not move costs a single cheap call instead of one receipt query per transaction in flight.
        """
        mined_count = self.client.nonce(self.signer.address, "latest")
        calls: list[tuple[str, list[Any]]] = []
        owners: list[PendingTx] = []
        for pending in inflight:
            if pending.nonce < mined_count:
                for tx_hash in pending.tx_hashes:
                    calls.append(("eth_getTransactionReceipt", [tx_hash]))
                    owners.append(pending)
        found = 0
        for start in range(0, len(calls), self.max_batch):
            replies = self.client.rpc_batch(calls[start : start + self.max_batch])
            for pending, reply in zip(owners[start : start + self.max_batch], replies, strict=True):
                if isinstance(reply, dict) and not pending.done():
                    with self._lock:
                        self._inflight.pop(id(pending), None)
                    pending._resolve(Receipt.from_rpc(reply))
                    found += 1
        now = time.monotonic()
        for pending in inflight:
            if not pending.done() and now - pending.created_at > self.receipt_timeout:
                with self._lock:
                    self._inflight.pop(id(pending), None)
                pending._fail(TransactionError(f"{pending.request.label}: no receipt after {self.receipt_timeout}s"))
        return found

    def _handle_stuck(self, inflight: list[PendingTx]) -> None:
        """Re-drive transactions without a receipt after ``stuck_timeout``.

        Never re-sign a transaction with a *new* nonce while an old version could still execute (that would run it
        twice). So: holes below it are filled with 0-value self-transfers; a nonce already mined by someone else
        (none of our versions has a receipt) gets a fresh nonce; a gap larger than ``max_gap_fill`` means the chain
        was reset under us: resync and re-sign (later sends with the old nonces replace the stale versions). All
        others are resubmitted with the same nonce and bumped fees.
        """
        now = time.monotonic()
        stuck = sorted(
            (p for p in inflight if not p.done() and now - p.submitted_at > self.stuck_timeout), key=lambda p: p.nonce
        )
        if not stuck:
            return
        mined_count, pending_count = self.client.nonces(self.signer.address, ("latest", "pending"))
        covered = {p.nonce for p in inflight if not p.done()} | set(self._fill_released_nonces(below=stuck[-1].nonce))
        lowest = stuck[0].nonce
        gap_size = max(lowest - pending_count, 0) - sum(1 for n in covered if pending_count <= n < lowest)
        reset = gap_size > self.max_gap_fill
        if 0 < gap_size <= self.max_gap_fill:
            for nonce in range(pending_count, lowest):
                if nonce not in covered:
                    self._send_filler(nonce)
        if reset or any(p.nonce < mined_count for p in stuck):
            self.nonces.resync()
        for pending in stuck:
            with self._lock:
                self._inflight.pop(id(pending), None)
            if reset or pending.nonce < mined_count:
                if self._resolve_if_mined(pending):
                    continue  # one of our own versions took the nonce; the poller had just not seen it yet
                logger.info("%s: nonce %d is no longer usable, re-signing with a fresh one", pending, pending.nonce)
                pending.nonce = self.nonces.allocate()
                self._resign(pending, pending.fees, "nonce_repairs")
            else:
                logger.info("%s stuck for %.0fs: resubmitting with bumped fees", pending, now - pending.submitted_at)
                self._count("resubmits")
                self._resign(pending, bump(pending.fees, floor=self.fees.current()), "fee_repairs")

    def _fill_released_nonces(self, below: int) -> list[int]:
        """Fill nonces given back below ``below`` so that later transactions can be mined; returns them."""
        filled = []
        while (nonce := self.nonces.take_released_below(below)) is not None:
            self._send_filler(nonce)
            filled.append(nonce)
        return filled

    def _send_filler(self, nonce: int) -> None:
        request = TxRequest(to=self.signer.address, data=b"", value=0, gas=21_000, label="nonce filler")
        filler = PendingTx(self, request, nonce, self.fees.current())
        self._sign(filler)
        self._count("fillers")
        with self._queue_cv:
            self._queue.appendleft(filler)
            self._queue_cv.notify()

    # --- failed receipts ----------------------------------------------------------------------------------------------
    def _handle_failed_receipt(self, pending: PendingTx, receipt: Receipt, timeout: float | None) -> Receipt:
        return outcome_of_failed_receipt(self, pending, receipt, timeout)
