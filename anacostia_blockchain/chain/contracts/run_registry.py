"""``RunRegistryClient``: typed access to ``contracts/RunRegistry.sol`` (anchor runs, read roots, check proofs).

What a user needs to know:

* ``pipeline_id`` is ``keccak256(pipelineName)`` (:func:`anacostia_blockchain.chain.contracts.merkle.pipeline_id`);
  run ids are uint64.
* The contract stores one slot per run (the root). The manifest CID and the anchoring block/time live in the
  ``RunAnchored`` event; :meth:`RunRegistryClient.anchor_record` reads them back with one ``eth_getLogs`` filtered on
  the two indexed arguments.
* ``anchorRun`` reverts ``RunAlreadyAnchored`` for a run that has a root; ``anchorRuns`` (the batch form the outbox
  uses) *skips* such runs and reports them in :attr:`AnchorOutcome.skipped`, so one anchor whose receipt was lost
  does not block a whole batch. The caller compares the stored root with its own (same root = already done).
* :meth:`RunRegistryClient.check_anchors` re-reads many anchors (their blocks' hashes and roots) in one batched
  request: what anchor finality polls.
* Writes go through :class:`~anacostia_blockchain.chain.tx.TxSender`; reverts surface as the decoded
  :class:`~anacostia_blockchain.errors.CustomContractError` (``AccessControlUnauthorizedAccount``,
  ``RunAlreadyAnchored``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from ...errors import ConfigurationError
from ..abi.contract import Contract
from ..abi.events import EventLog, receipt_events
from ..encoding import block_tag, checksum, hex_to_bytes
from ..rpc.client import ChainClient
from ..rpc.jsonrpc import batch_result
from ..rpc.receipt import Receipt
from .merkle import UINT64_MAX

if TYPE_CHECKING:
    from ..tx.pending import PendingTx
    from ..tx.sender import TxSender

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
class AnchoredRun:
    """One ``RunAnchored`` event: a run's root and manifest CID, and the transaction that anchored it."""

    pipeline_id: bytes
    run_id: int
    merkle_root: bytes
    manifest_cid: str
    block_number: int
    tx_hash: str

    @classmethod
    def from_event(cls, log: EventLog) -> AnchoredRun:
        return cls(
            pipeline_id=hex_to_bytes(log.args["pipelineId"]),
            run_id=int(log.args["runId"]),
            merkle_root=hex_to_bytes(log.args["merkleRoot"]),
            manifest_cid=str(log.args["manifestCid"]),
            block_number=log.block_number,
            tx_hash=log.tx_hash,
        )


@dataclass(frozen=True)
class AnchorSnapshot:
    """What :meth:`RunRegistryClient.check_anchors` read at one block: block hashes (``None``: the node does not
    have the block) and each run's root (``None``: not anchored)."""

    block_hashes: dict[int, str | None]
    roots: list[bytes | None]


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
        self.contract = Contract.at(client, "RunRegistry", address)
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
            (hex_to_bytes(log.args["pipelineId"]), int(log.args["runId"]))
            for log in receipt_events(self.contract, receipt, "RunAnchored")
        ]
        skipped = [
            SkippedAnchor(
                hex_to_bytes(log.args["pipelineId"]),
                int(log.args["runId"]),
                hex_to_bytes(log.args["existingRoot"]),
                hex_to_bytes(log.args["offeredRoot"]),
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

    def anchored_runs(
        self, pipeline_id: bytes, from_block: int = 0, to_block: int | str = "latest"
    ) -> list[AnchoredRun]:
        """The ``RunAnchored`` events of one pipeline in a block range, in anchoring order (one ``eth_getLogs``)."""
        logs = self.contract.events("RunAnchored", from_block=from_block, to_block=to_block, pipelineId=pipeline_id)
        return [AnchoredRun.from_event(log) for log in logs]

    def anchored_run_ids(self, pipeline_id: bytes, from_block: int = 0) -> list[int]:
        """Run ids of one pipeline anchored on chain, in anchoring order."""
        return [anchored.run_id for anchored in self.anchored_runs(pipeline_id, from_block)]

    def anchor_record(self, pipeline_id: bytes, run_id: int, from_block: int = 0) -> AnchorRecord | None:
        """Root, manifest CID, block, tx and block time of a run's anchor; ``None`` when not anchored."""
        logs = self.contract.events("RunAnchored", from_block=from_block, pipelineId=pipeline_id, runId=run_id)
        if not logs:
            return None
        anchored = AnchoredRun.from_event(logs[0])  # the contract emits RunAnchored at most once per run
        block = self.client.header(anchored.block_number)
        return AnchorRecord(
            pipeline_id=pipeline_id,
            run_id=run_id,
            merkle_root=anchored.merkle_root,
            manifest_cid=anchored.manifest_cid,
            block_number=anchored.block_number,
            tx_hash=anchored.tx_hash,
            timestamp=block.timestamp,
            block_hash=block.hash,
        )

    def check_anchors(
        self, runs: Sequence[tuple[bytes, int]], blocks: Sequence[int], at_block: int | str = "latest"
    ) -> AnchorSnapshot:
        """The hash of each of ``blocks`` and ``runRoot`` of each ``(pipeline_id, run_id)`` at ``at_block``, in ONE
        batched JSON-RPC request. Any failed item raises (the caller retries the whole check)."""
        calls: list[tuple[str, list[Any]]] = [("eth_getBlockByNumber", [block_tag(b), False]) for b in blocks]
        calls += [self.contract.call_request("runRoot", pid, run_id, block=at_block) for pid, run_id in runs]
        replies = [batch_result(reply) for reply in self.client.rpc_batch(calls)]
        block_replies, root_replies = replies[: len(blocks)], replies[len(blocks) :]
        hashes = {b: (str(reply["hash"]) if reply else None) for b, reply in zip(blocks, block_replies, strict=True)}
        roots = [bytes(self.contract.decode_reply("runRoot", 2, reply)) for reply in root_replies]
        return AnchorSnapshot(hashes, [None if root == ZERO_ROOT else root for root in roots])

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
