"""``AnchorSender``: the outbox worker that lands run anchors in ``RunRegistry`` exactly once.

Each outbox entry of kind :data:`ANCHOR_KIND` holds ``{pipelineId, runId, root, manifestCid}``. A round:

1. Entries that may already have been delivered (status ``sent``, or any earlier attempt: a receipt can be lost
   when the chain goes down after accepting the transaction) are checked first with ``runRoot``: the same root on
   chain means *done* (confirmed without sending anything), another root means *conflict* (parked as ``failed``
   with the two roots in the error — never overwritten, never retried blindly).
2. The rest go out in **one** transaction: ``anchorRun`` for a single entry (cheapest), ``anchorRuns`` for several.
   The entries are marked ``sent`` with the tx hash before waiting, so a crash while waiting is re-examined (1.)
3. The receipt's ``RunAnchored`` events confirm entries; ``AnchorSkipped`` (the batch met an anchored run) is
   confirmation when the stored root equals ours and a conflict otherwise. ``RunAlreadyAnchored`` from the single
   form is handled the same way.

4. Finality (:mod:`.finality`): entries are confirmed provisionally until their block is ``confirmations``
   deep; :meth:`AnchorSender.recheck` (every ``recheck_interval`` s) marks them final, or reopens those whose block
   was rolled back, and the next round delivers them again through 1.-3.: exactly once in the end.

Any chain error (node down, timeout, a revert such as a missing ``ANCHOR_ROLE``) marks the round's unconfirmed
entries failed *with retry*: backoff grows to the outbox's cap and the entries are retried until they land, so an
outage or a late role grant only delays anchoring. The connection is made lazily (and re-made after a failure),
so a store can start while the chain is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..chain.contracts.run_registry import AnchorOutcome, AnchorRequest, RunRegistryClient
from ..chain.rpc.receipt import Receipt
from ..errors import ChainError, ConfigurationError, CustomContractError
from ..outbox import SENT, Outbox, OutboxEntry, OutboxWorker
from .finality import AnchorFinality, FinalityRound

logger = logging.getLogger(__name__)

ANCHOR_KIND = "run-anchor"


def anchor_key(pipeline_id: bytes, run_id: int | None) -> str:
    """The outbox key of a run's anchor (unique per pipeline and run: enqueueing twice is a no-op); with
    ``run_id=None``, the prefix every anchor key of the pipeline starts with."""
    return f"0x{pipeline_id.hex()}:{'' if run_id is None else run_id}"


def anchor_payload(request: AnchorRequest) -> dict[str, Any]:
    return {
        "pipelineId": "0x" + request.pipeline_id.hex(),
        "runId": request.run_id,
        "root": "0x" + request.merkle_root.hex(),
        "manifestCid": request.manifest_cid,
    }


def request_from_payload(payload: dict[str, Any]) -> AnchorRequest:
    try:
        return AnchorRequest(
            pipeline_id=bytes.fromhex(str(payload["pipelineId"]).removeprefix("0x")),
            run_id=int(payload["runId"]),
            merkle_root=bytes.fromhex(str(payload["root"]).removeprefix("0x")),
            manifest_cid=str(payload["manifestCid"]),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"malformed anchor payload: {exc!r}") from exc


class AnchorSender(OutboxWorker):
    """Delivers :data:`ANCHOR_KIND` entries through ``connect()`` (a factory for the :class:`RunRegistryClient`).

    ``confirmations``: blocks an anchor must be deep to be final (``None``: the default of :mod:`.finality`,
    2 on an automining devnet, 12 elsewhere); ``recheck_interval``: seconds between re-checks of watched anchors.
    """

    def __init__(
        self,
        outbox: Outbox,
        connect: Callable[[], RunRegistryClient],
        *,
        batch_size: int = 50,
        receipt_timeout: float = 120.0,
        confirmations: int | None = None,
        recheck_interval: float = 1.0,
    ) -> None:
        super().__init__(
            outbox, ANCHOR_KIND, batch_size=batch_size, name="anchor-sender", recheck_interval=recheck_interval
        )
        self._connect = connect
        self.receipt_timeout = receipt_timeout
        self.finality = AnchorFinality(connect, confirmations)
        self.last_recheck: FinalityRound | None = None

    @property
    def registry(self) -> RunRegistryClient:
        """Asked of ``connect()`` every round (it caches), so a reconnect after ``on_stop``/``on_start`` is seen."""
        return self._connect()

    # --- the hooks ----------------------------------------------------------------------------------------------------
    def recheck(self, entries: list[OutboxEntry]) -> None:
        """Finality round over the watched anchors; after a rollback the signer's nonce is re-read from the node
        (the rolled-back blocks took our transactions' nonces with them), so the resend is not stuck behind a gap."""
        requests = {}
        for entry in entries:
            try:
                requests[entry.id] = request_from_payload(entry.payload)
            except ConfigurationError as exc:  # cannot happen for an entry that was delivered; never re-check it
                logger.error("anchor entry %d has a malformed payload (%s); not re-checked", entry.id, exc)
                self.outbox.mark_final([entry.id])
        watched = [entry for entry in entries if entry.id in requests]
        self.last_recheck = self.finality.check(self.outbox, watched, requests)
        if self.last_recheck.reopened and self.registry.sender is not None:
            self.registry.sender.nonces.resync()

    def deliver(self, entries: list[OutboxEntry]) -> None:
        open_entries: dict[int, OutboxEntry] = {entry.id: entry for entry in entries}
        try:
            self._deliver(open_entries)
        except ChainError as exc:
            for entry in open_entries.values():
                self.outbox.mark_failed(entry.id, f"{type(exc).__name__}: {exc}")
            logger.warning("anchoring %d run(s) failed, will retry: %s", len(open_entries), exc)

    def _deliver(self, open_entries: dict[int, OutboxEntry]) -> None:
        requests: dict[int, AnchorRequest] = {}
        for entry in list(open_entries.values()):
            try:
                requests[entry.id] = request_from_payload(entry.payload)
            except ConfigurationError as exc:
                self.outbox.mark_failed(entry.id, str(exc), retry=False)
                del open_entries[entry.id]
        # 1. entries that may have landed already
        for entry in list(open_entries.values()):
            if entry.status == SENT or entry.attempts > 0:
                on_chain = self.registry.run_root(requests[entry.id].pipeline_id, requests[entry.id].run_id)
                if on_chain is not None:
                    self._settle(entry, requests[entry.id], on_chain, entry.result or {})
                    del open_entries[entry.id]
        if not open_entries:
            return
        # 2. one transaction for the rest
        batch = [requests[entry_id] for entry_id in open_entries]
        try:
            pending = self.registry.send_anchor_runs(batch)  # gas estimation may already revert
            for entry in open_entries.values():
                self.outbox.mark_sent(entry.id, {"txHash": pending.tx_hash}, confirm_within=self.receipt_timeout)
            receipt = pending.wait(self.receipt_timeout)
        except CustomContractError as exc:
            if exc.error_name != "RunAlreadyAnchored" or len(open_entries) != 1:
                raise
            (entry,) = open_entries.values()  # only the single form reverts on an anchored run
            self._settle(entry, requests[entry.id], bytes(exc.error_args[2]), {})
            open_entries.clear()
            return
        # 3. read the outcome
        outcome = self.registry.outcome(receipt)
        self._apply(outcome, receipt, open_entries, requests)

    def _apply(
        self,
        outcome: AnchorOutcome,
        receipt: Receipt,
        open_entries: dict[int, OutboxEntry],
        requests: dict[int, AnchorRequest],
    ) -> None:
        by_run = {(requests[i].pipeline_id, requests[i].run_id): open_entries[i] for i in open_entries}
        tx = {
            "txHash": outcome.tx_hash,
            "block": outcome.block_number,
            "blockHash": str(receipt.get("blockHash") or ""),
            "gasUsed": outcome.gas_used,  # of the whole transaction
            "batchSize": len(open_entries),
        }
        final = self.finality.final_on_receipt()
        for run in outcome.anchored:
            entry = by_run.pop(run, None)
            if entry is not None:
                self.outbox.mark_confirmed(entry.id, tx, final=final)
                del open_entries[entry.id]
        for skipped in outcome.skipped:
            entry = by_run.pop((skipped.pipeline_id, skipped.run_id), None)
            if entry is not None:
                self._settle(entry, requests[entry.id], skipped.existing_root, tx)
                del open_entries[entry.id]
        if open_entries:  # mined, but without an event for these runs: re-examine them on chain
            raise ChainError(f"tx {outcome.tx_hash} emitted no anchor event for {len(open_entries)} run(s)")

    def _settle(self, entry: OutboxEntry, request: AnchorRequest, on_chain: bytes, result: dict[str, Any]) -> None:
        """The run already has ``on_chain`` as its root: ours (done, nothing sent) or another one (conflict).

        Ours: where it is anchored now is read from its ``RunAnchored`` event (``result`` may describe a transaction
        or block that a rollback removed), so finality counts from the block that really holds it.
        """
        if on_chain == request.merkle_root:
            located = self.registry.anchor_record(request.pipeline_id, request.run_id)
            where = (
                {}
                if located is None
                else {"txHash": located.tx_hash, "block": located.block_number, "blockHash": located.block_hash}
            )
            stale = ("block", "blockHash")  # never keep the location of an earlier, possibly rolled back, delivery
            confirmed = {**{k: v for k, v in result.items() if k not in stale}, **where, "alreadyAnchored": True}
            self.outbox.mark_confirmed(entry.id, confirmed, final=self.finality.final_on_receipt())
            return
        message = (
            f"AnchorConflict: run {request.run_id} is anchored with root 0x{on_chain.hex()}, "
            f"this store computed 0x{request.merkle_root.hex()}"
        )
        logger.error("%s (not retried; inspect with `anacostia-chain verify %d`)", message, request.run_id)
        self.outbox.mark_failed(entry.id, message, retry=False)
