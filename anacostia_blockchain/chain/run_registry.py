"""``RunRegistryClient``: typed access to ``contracts/RunRegistry.sol`` (anchor runs, read roots, check proofs).

What a user needs to know:

* ``pipeline_id`` is ``keccak256(pipelineName)`` (:func:`anacostia_blockchain.chain.merkle.pipeline_id`); run ids
  are uint64.
* The contract stores one slot per run (the root). The manifest CID and the anchoring block/time live in the
  ``RunAnchored`` event; :meth:`RunRegistryClient.anchor_record` reads them back with one ``eth_getLogs`` filtered on
  the two indexed arguments.
* ``anchorRun`` reverts ``RunAlreadyAnchored`` for a run that has a root; ``anchorRuns`` (the batch form the outbox
  uses) *skips* such runs and reports them in :attr:`AnchorOutcome.skipped`, so one anchor whose receipt was lost
  does not block a whole batch. The caller compares the stored root with its own (same root = already done).
* Writes go through :class:`~anacostia_blockchain.chain.tx.TxSender`; reverts surface as the decoded
  :class:`~anacostia_blockchain.errors.CustomContractError` (``AccessControlUnauthorizedAccount``,
  ``RunAlreadyAnchored``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eth_utils import keccak

from ..errors import ConfigurationError
from .client import ChainClient, checksum
from .contract import Contract
from .merkle import UINT64_MAX
from .receipt import Receipt
from .receipt_logs import receipt_events

if TYPE_CHECKING:
    from .pending import PendingTx
    from .tx import TxSender

ANCHOR_ROLE = keccak(text="ANCHOR_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32
ZERO_ROOT = b"\x00" * 32


@dataclass(frozen=True)
class AnchorRequest:
    """One run to anchor: what ``anchorRun`` / one ``AnchorInput`` of ``anchorRuns`` takes."""

    pipeline_id: bytes
    run_id: int
    merkle_root: bytes
    manifest_cid: str

    def __post_init__(self) -> None:
        if len(self.pipeline_id) != 32 or len(self.merkle_root) != 32:
            raise ConfigurationError("pipeline_id and merkle_root must be 32 bytes")
        if not 0 <= self.run_id <= UINT64_MAX:
            raise ConfigurationError(f"run id {self.run_id} does not fit in uint64")
        if self.merkle_root == ZERO_ROOT:
            raise ConfigurationError(f"run {self.run_id}: a zero Merkle root cannot be anchored")
        if not self.manifest_cid:
            raise ConfigurationError(f"run {self.run_id}: the manifest CID must not be empty")

    def as_tuple(self) -> tuple[bytes, int, bytes, str]:
        return (self.pipeline_id, self.run_id, self.merkle_root, self.manifest_cid)


@dataclass(frozen=True)
class SkippedAnchor:
    pipeline_id: bytes
    run_id: int
    existing_root: bytes
    offered_root: bytes


@dataclass(frozen=True)
class AnchorOutcome:
    """What one anchoring transaction did, read from its receipt."""

    tx_hash: str
    block_number: int
    gas_used: int
    anchored: list[tuple[bytes, int]] = field(default_factory=list)
    skipped: list[SkippedAnchor] = field(default_factory=list)


@dataclass(frozen=True)
class AnchorRecord:
    """A run's anchor as the chain knows it (root from storage, the rest from its ``RunAnchored`` event)."""

    pipeline_id: bytes
    run_id: int
    merkle_root: bytes
    manifest_cid: str
    block_number: int
    tx_hash: str
    timestamp: int
    block_hash: str = ""  # of the block that holds the anchor (a rollback of that block changes or removes it)


class RunRegistryClient:
    """Typed access to one deployed RunRegistry. ``sender`` may be ``None`` for read-only use."""

    def __init__(self, client: ChainClient, address: str, sender: TxSender | None = None) -> None:
        self.client = client
        self.contract: Contract = client.contract("RunRegistry", address)
        self.sender = sender

    def __repr__(self) -> str:
        return f"RunRegistryClient({self.contract.address})"

    @property
    def address(self) -> str:
        return self.contract.address

    # --- writes -----------------------------------------------------------------------------------------------------
    def anchor_run(self, request: AnchorRequest) -> AnchorOutcome:
        """Anchor one run and wait for the receipt (``RunAlreadyAnchored`` if it has a root)."""
        receipt = self._sender().transact(self.contract, "anchorRun", *request.as_tuple())
        return self.outcome(receipt)

    def send_anchor_runs(self, requests: Sequence[AnchorRequest]) -> PendingTx:
        """Submit one ``anchorRuns`` (``anchorRun`` for a single request — cheaper) without waiting."""
        if not requests:
            raise ConfigurationError("nothing to anchor: the batch is empty")
        if len(requests) == 1:
            return self._sender().send(self.contract, "anchorRun", *requests[0].as_tuple())
        return self._sender().send(self.contract, "anchorRuns", [r.as_tuple() for r in requests])

    def anchor_runs(self, requests: Sequence[AnchorRequest]) -> AnchorOutcome:
        """Anchor several runs in one transaction, skipping those already anchored; waits for the receipt."""
        if not requests:
            raise ConfigurationError("nothing to anchor: the batch is empty")
        receipt = self._sender().transact(self.contract, "anchorRuns", [r.as_tuple() for r in requests])
        return self.outcome(receipt)

    def outcome(self, receipt: Receipt) -> AnchorOutcome:
        """Which runs a mined anchoring transaction anchored and which it skipped."""
        anchored = [
            (bytes(log.args["pipelineId"]), int(log.args["runId"]))
            for log in receipt_events(self.contract, receipt, "RunAnchored")
        ]
        skipped = [
            SkippedAnchor(
                bytes(log.args["pipelineId"]),
                int(log.args["runId"]),
                bytes(log.args["existingRoot"]),
                bytes(log.args["offeredRoot"]),
            )
            for log in receipt_events(self.contract, receipt, "AnchorSkipped")
        ]
        return AnchorOutcome(
            tx_hash=str(receipt["transactionHash"]),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            anchored=anchored,
            skipped=skipped,
        )

    def grant_anchorer(self, account: str) -> None:
        """Give ``account`` ANCHOR_ROLE (the sender needs the admin role)."""
        self._sender().transact(self.contract, "grantRole", ANCHOR_ROLE, checksum(account))

    # --- reads ------------------------------------------------------------------------------------------------------
    def run_root(self, pipeline_id: bytes, run_id: int) -> bytes | None:
        """The anchored root, or ``None`` when the run is not anchored."""
        root = bytes(self.contract.call("runRoot", pipeline_id, run_id))
        return None if root == ZERO_ROOT else root

    def is_anchored(self, pipeline_id: bytes, run_id: int) -> bool:
        return bool(self.contract.call("isAnchored", pipeline_id, run_id))

    def is_anchorer(self, account: str) -> bool:
        return bool(self.contract.call("hasRole", ANCHOR_ROLE, checksum(account)))

    def anchor_record(self, pipeline_id: bytes, run_id: int, from_block: int = 0) -> AnchorRecord | None:
        """Root, manifest CID, block, tx and block time of a run's anchor; ``None`` when not anchored."""
        logs = self.contract.events("RunAnchored", from_block=from_block, pipelineId=pipeline_id, runId=run_id)
        if not logs:
            return None
        log = logs[0]  # the contract emits RunAnchored at most once per run
        block = self.client.get_block(log.block_number)
        timestamp = block.get("timestamp", 0)
        return AnchorRecord(
            pipeline_id=pipeline_id,
            run_id=run_id,
            merkle_root=bytes(log.args["merkleRoot"]),
            manifest_cid=str(log.args["manifestCid"]),
            block_number=log.block_number,
            tx_hash=log.tx_hash,
            timestamp=int(timestamp, 16) if isinstance(timestamp, str) else int(timestamp),
            block_hash=str(block.get("hash") or ""),
        )

    def verify_proof(self, pipeline_id: bytes, run_id: int, leaf: bytes, proof: Sequence[bytes]) -> bool:
        """``RunRegistry.verifyProof`` (reverts ``RunNotAnchored`` for an unknown run)."""
        return bool(self.contract.call("verifyProof", pipeline_id, run_id, leaf, list(proof)))

    def metric_leaf(self, name: str, scaled_value: int, step: int) -> bytes:
        return bytes(self.contract.call("metricLeaf", name, scaled_value, step))

    def verify_metric(
        self, pipeline_id: bytes, run_id: int, name: str, scaled_value: int, step: int, proof: Sequence[bytes]
    ) -> bool:
        """``RunRegistry.verifyMetric``: the run logged ``name`` = ``scaled_value / 1e18`` at ``step``."""
        return bool(self.contract.call("verifyMetric", pipeline_id, run_id, name, scaled_value, step, list(proof)))

    def _sender(self) -> TxSender:
        if self.sender is None:
            raise ConfigurationError("this RunRegistryClient is read-only: pass a TxSender to send transactions")
        return self.sender
