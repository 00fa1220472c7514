"""``TxSender``: many threads, one account, no nonce errors, no ``build_transaction`` per write.

Per transaction the calling thread only encodes calldata (eth-abi, cached ABI), looks up the gas for the call shape
(:class:`~.gas_limits.GasLimits`), reads the cached fees, takes the next local nonce and signs (coincurve): no RPC
round trip on the hot path. Two background threads do the network work for every caller at once:

- the *submitter* (:class:`~.submission.Submitter`, its own module) sends queued raw transactions as JSON-RPC
  batches in nonce order and repairs rejections (fees, nonces, outages, nodes that refuse early nonces, mined
  reverts reported at send time);
- the *poller* (here) fetches receipts for everything in flight in one batch per round, resolves each ``PendingTx``, and
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
from collections.abc import Iterator
from typing import Any

from ...errors import ChainConnectionError, ChainError, ConfigurationError, TransactionError
from ..abi.artifacts import ContractArtifact
from ..abi.contract import Contract, deployment_data
from ..encoding import checksum, quantity, to_hex
from ..rpc.client import ChainClient
from ..rpc.node_kind import NodeKind
from ..rpc.receipt import Receipt
from .evm_target import artifact_for
from .failed_tx import outcome_of_failed_receipt
from .fees import FeeOracle, bump
from .gas_limits import GasLimits
from .nonce import NonceManager
from .pending import PendingTx, TxRequest, resolve_if_mined
from .signer import LocalSigner
from .submission import MAX_REPAIRS, Submitter

__all__ = ["MAX_REPAIRS", "TxSender"]

logger = logging.getLogger(__name__)


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
        self._inflight: dict[int, PendingTx] = {}  # id(pending) -> pending, awaiting a receipt
        self._poll_now = threading.Event()
        self._submitter = Submitter(
            self, client, signer, self.nonces, self.fees, track=self._track, count=self._count,
            submitted=self._poll_now, submit_timeout=submit_timeout, max_batch=max_batch,
            # One request per transaction, in nonce order: from the start on Ganache, whose default ("eager")
            # instamine holds a request with a nonce ahead of the account's until the gap closes; elsewhere once the
            # node refuses such a nonce (Hardhat while automining).
            one_per_request=client.node_kind is NodeKind.GANACHE,
        )  # fmt: skip
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
            if self._submitter.resync_after_outage and self._idle():
                # Transactions failed during an RPC outage: re-read the node's pending count (it also counts any
                # that did reach the node before the connection broke) instead of trusting the local sequence.
                self.nonces.resync()
                self._submitter.resync_after_outage = False
            nonce = self.nonces.allocate()
            pending = PendingTx(self, request, nonce, fees)
            try:
                self._submitter.sign(pending)
            except ChainError:
                self.nonces.release(nonce)
                raise
            self._submitter.enqueue(pending)
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
        with self._submitter.held():
            yield

    def cached_gas(self, contract: Contract, fn: str, *args: Any, value: int = 0) -> int | None:
        """The gas limit cached for this call's shape, or ``None`` when it has not been estimated yet."""
        return self.gas_limits.cached(contract.address, contract.encode(fn, *args), value)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the background threads; transactions still queued or in flight fail with TransactionError."""
        self._closed = True
        queued = self._submitter.close()
        self._poll_now.set()
        for thread in self._threads:
            thread.join(timeout)
        queued += self._submitter.close()  # anything the submitter queued again before it stopped
        with self._lock:
            leftovers = queued + list(self._inflight.values())
            self._inflight.clear()
        for pending in leftovers:
            if not pending.done():
                pending._fail(TransactionError(f"{pending.request.label}: sender closed before it was mined"))

    # --- shared by both threads ---------------------------------------------------------------------------------------
    def _idle(self) -> bool:
        """Nothing queued or awaiting a receipt."""
        with self._lock:
            waiting = bool(self._inflight)
        return not waiting and self._submitter.idle()

    def _count(self, name: str) -> None:
        with self._stats_lock:
            self.stats[name] += 1

    # --- background threads -------------------------------------------------------------------------------------------
    def _start_threads(self) -> None:
        if self._threads:
            return
        with self._lock:
            if self._threads:
                return
            for target, name in ((self._submitter.run, "submitter"), (self._poll_loop, "receipts")):
                thread = threading.Thread(target=target, name=f"txsender-{name}-{self.signer.address[:8]}", daemon=True)
                thread.start()
                self._threads.append(thread)

    def _track(self, pending: PendingTx) -> None:
        pending.accepted = True
        pending.submitted_at = time.monotonic()
        with self._lock:
            self._inflight[id(pending)] = pending
        self._count("sent")

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
        covered = {p.nonce for p in inflight if not p.done()}
        covered |= set(self._submitter.fill_released_nonces(below=stuck[-1].nonce))
        lowest = stuck[0].nonce
        gap_size = max(lowest - pending_count, 0) - sum(1 for n in covered if pending_count <= n < lowest)
        reset = gap_size > self.max_gap_fill
        if 0 < gap_size <= self.max_gap_fill:
            for nonce in range(pending_count, lowest):
                if nonce not in covered:
                    self._submitter.send_filler(nonce)
        if reset or any(p.nonce < mined_count for p in stuck):
            self.nonces.resync()
        for pending in stuck:
            with self._lock:
                self._inflight.pop(id(pending), None)
            if reset or pending.nonce < mined_count:
                if resolve_if_mined(self.client, pending):
                    continue  # one of our own versions took the nonce; the poller had just not seen it yet
                logger.info("%s: nonce %d is no longer usable, re-signing with a fresh one", pending, pending.nonce)
                pending.nonce = self.nonces.allocate()
                self._submitter.resign(pending, pending.fees, "nonce_repairs")
            else:
                logger.info("%s stuck for %.0fs: resubmitting with bumped fees", pending, now - pending.submitted_at)
                self._count("resubmits")
                self._submitter.resign(pending, bump(pending.fees, floor=self.fees.current()), "fee_repairs")

    # --- failed receipts ----------------------------------------------------------------------------------------------
    def _handle_failed_receipt(self, pending: PendingTx, receipt: Receipt, timeout: float | None) -> Receipt:
        return outcome_of_failed_receipt(self, pending, receipt, timeout)
