"""``RunAnchorer``: Merkle-anchors the runs of one pipeline in ``RunRegistry``, through a persistent outbox.

For each ended run, :meth:`RunAnchorer.anchor_run` does three local writes, so the pipeline never waits for the
chain:

1. ``export_run`` -> canonical :class:`~.manifest.RunManifest` -> Merkle root and manifest CID;
2. the manifest bytes are archived in the run store's database (:class:`~.archive.ManifestArchive`) and the root is
   written to ``runs.hash``;
3. an anchor is enqueued in the persistent outbox (:class:`~anacostia_blockchain.outbox.Outbox`, kind
   ``run-anchor``).

A background :class:`~.sender.AnchorSender` (:meth:`start` / :meth:`stop`) batches pending anchors into one
``anchorRuns`` transaction, records tx hash / block / gas and retries with backoff; when the chain is down the
pipeline keeps running and the anchors land, exactly once, when it is back. :meth:`reconcile` anchors runs that
ended while the process crashed between the steps above.

Finality: an anchor is *confirmed* when its transaction is mined and *final* once its block is ``confirmations``
blocks deep (see :mod:`.finality`); until then the sender re-checks it every ``recheck_interval`` seconds and an
anchor whose block was rolled back is anchored again.

``pipelineId`` is ``keccak256(pipeline)``. One anchorer per pipeline: its outbox delivers the ``run-anchor``
entries of its pipeline (their keys start with its ``pipelineId``), so pipelines sharing a database never deliver,
resume or re-check each other's anchors. Verification (:meth:`verify_run`, :meth:`prove`,
:meth:`verify_proof`) is :class:`~.verifier.RunVerifier`: read-only, no key needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Engine

from ..chain.contracts.merkle import pipeline_id as compute_pipeline_id
from ..chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from ..engine import RunStatus
from ..errors import ConfigurationError
from ..ipfs.store import BytesByCid
from ..outbox import CLAIMED, CONFIRMED, Backoff, Outbox
from .archive import ManifestArchive, StoredManifest
from .connection import RegistryConnection
from .finality import AnchorEntry
from .manifest import RunManifest, manifest_cid
from .proofs import ItemProof, ProofCheck
from .sender import ANCHOR_KIND, AnchorSender, anchor_key, anchor_payload
from .verifier import RunVerifier, VerificationReport

logger = logging.getLogger(__name__)

#: ``log(message, level)``: where the anchorer reports what it repaired (a node's ``log``).
LogFunction = Callable[[str, str], None]


class AnchoredRuns(Protocol):
    """What anchoring reads and writes in the run store (:class:`~anacostia_blockchain.metadata.RunStore`)."""

    @property
    def engine(self) -> Engine: ...

    def get_runs(self, status: str | None = None) -> list[dict[str, Any]]: ...

    def export_run(self, run_id: int) -> dict[str, Any]: ...

    def set_run_hash(self, run_id: int, run_hash: str) -> None: ...


def _log_to_module(message: str, level: str = "INFO") -> None:
    logger.log(logging.getLevelName(level), "%s", message)


class RunAnchorer:
    """Anchors the runs of ``runs`` as ``pipeline`` through ``connection`` (see the module docstring).

    ``content_store`` (e.g. an ``EmbeddedBlockstore``) also receives every manifest so readers can fetch it by its
    CID; use a local store here — remote pinning belongs in an uploader with its own outbox.
    """

    def __init__(
        self,
        runs: AnchoredRuns,
        connection: RegistryConnection,
        *,
        pipeline: str,
        batch_size: int = 50,
        receipt_timeout: float = 120.0,
        backoff: Backoff | None = None,
        content_store: BytesByCid | None = None,
        confirmations: int | None = None,
        recheck_interval: float = 1.0,
        log: LogFunction = _log_to_module,
    ) -> None:
        self.runs = runs
        self.connection = connection
        self.pipeline = pipeline
        self.pipeline_id = compute_pipeline_id(pipeline)
        self.content_store = content_store
        self._log = log
        self.outbox = Outbox(runs.engine, backoff=backoff, key_prefix=anchor_key(self.pipeline_id, None))
        self.archive = ManifestArchive(runs.engine)
        self.sender = AnchorSender(
            self.outbox,
            connection.registry,
            batch_size=batch_size,
            receipt_timeout=receipt_timeout,
            confirmations=confirmations,
            recheck_interval=recheck_interval,
        )

    @property
    def registry(self) -> RunRegistryClient:
        """The registry client (connects on first use; raises ``ChainConnectionError`` while the chain is down)."""
        return self.connection.registry()

    @property
    def verifier(self) -> RunVerifier:
        """A :class:`RunVerifier` over this anchorer's archive, outbox and registry."""
        return RunVerifier(
            self.pipeline,
            self.runs.export_run,
            self.archive,
            self.connection.connected or self.connection.registry(),
            self.outbox,
            confirmations=self.sender.finality.required,
        )

    # --- background delivery ----------------------------------------------------------------------------------------
    def start(self, *, reconcile: bool = True) -> None:
        """Resume what a stopped process left (stale claims; with ``reconcile``, runs without an anchor) and start
        the sender thread."""
        self.release_stale_claims()
        if reconcile:
            self.reconcile()
        self.sender.start()

    def stop(self) -> None:
        """Stop the sender thread and close the connection."""
        try:
            self.sender.stop()
        finally:
            self.connection.close()

    def release_stale_claims(self) -> int:
        """Give back this pipeline's anchors still claimed at start: they belong to a process that died mid-delivery
        (the pipeline's lease makes this process its only one), and would otherwise wait for their lease (two
        minutes) to expire.

        Safe even if that delivery reached the chain: ``RunRegistry`` never overwrites an anchored run (the batch
        form skips it, the single form reverts ``RunAlreadyAnchored``) and the sender then compares the roots.
        """
        stale = self.outbox.entries(ANCHOR_KIND, CLAIMED)
        for entry in stale:
            self.outbox.release(entry.id)
        if stale:
            self._log(f"resuming {len(stale)} anchor(s) claimed by a process that stopped mid-delivery", "WARNING")
        return len(stale)

    # --- anchoring --------------------------------------------------------------------------------------------------
    def anchor_run(self, run_id: int) -> StoredManifest:
        """Build, archive and enqueue the anchor of an ended run (idempotent: a second call changes nothing)."""
        stored = self.archive.load(self.pipeline_id, run_id)
        if stored is None:
            manifest = RunManifest.from_export(self.pipeline, run_id, self.runs.export_run(run_id))
            data = manifest.to_bytes()
            cid = manifest_cid(data)
            self._publish(data, cid)
            stored = self.archive.save(manifest, cid)
        self.runs.set_run_hash(run_id, "0x" + stored.root.hex())
        request = AnchorRequest(self.pipeline_id, run_id, stored.root, stored.cid)
        self.outbox.enqueue(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id), anchor_payload(request))
        return stored

    def _publish(self, data: bytes, cid: str) -> None:
        if self.content_store is None:
            return
        published = str(self.content_store.add_bytes(data, cid_version=1).cid)
        if published != cid:
            raise ConfigurationError(
                f"{self.pipeline}: the content store gave the manifest CID {published}, expected {cid} "
                "(CIDv1, raw leaves, 256 KiB chunks): configure it with Kubo's defaults"
            )

    def reconcile(self) -> list[int]:
        """Anchor ended runs that have no manifest or no outbox entry (a crash between the steps); returns them."""
        archived = self.archive.run_ids(self.pipeline_id)
        fixed = []
        for run in self.runs.get_runs():
            run_id = int(run["id"])
            if run["status"] == RunStatus.RUNNING.value:
                continue
            if run_id in archived and self.status(run_id) is not None:
                continue
            self.anchor_run(run_id)
            fixed.append(run_id)
        if fixed:
            self._log(f"queued anchors for runs {fixed} that ended without one", "WARNING")
        return fixed

    def status(self, run_id: int) -> AnchorEntry | None:
        """The run's outbox entry: ``status`` (pending/sent/confirmed/failed), ``attempts``, ``result`` (tx, block,
        block hash), and ``finality``: ``"final"`` or ``"confirmed (N confirmations)"`` (for the latter the depth is
        read from the chain: one ``eth_blockNumber``; ``None`` while the chain is unreachable)."""
        entry = self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        if entry is None:
            return None
        finality = self.sender.finality
        depth = finality.confirmations(entry) if entry.status == CONFIRMED and not entry.final else None
        return AnchorEntry.of(entry, depth, finality.known_required)

    def check_finality(self) -> int:
        """Re-check the confirmed, not yet final anchors now (the sender does it every ``recheck_interval``);
        returns how many were examined. Rolled back ones become pending: :meth:`flush` re-sends them."""
        return self.sender.recheck_now()

    def flush(self, timeout: float = 60.0) -> bool:
        """Deliver every due anchor now, synchronously; True when nothing is left pending."""
        return self.sender.flush(timeout)

    # --- verification -----------------------------------------------------------------------------------------------
    def verify_run(self, run_id: int) -> VerificationReport:
        """Recompute the root from the archived manifest *and* from a fresh export and compare both with the chain;
        raises ``TamperedManifestError`` naming the changed items, ``RunNotAnchoredError`` if pending."""
        return self.verifier.verify_run(run_id)

    def prove(self, run_id: int, key: str) -> ItemProof:
        """A Merkle proof for one item (``metric:loss@3``, ``param:lr``, ``artifact:produced:models:m.pkl``...)."""
        return self.verifier.prove(run_id, key)

    def verify_proof(self, proof: ItemProof, *, on_chain: bool = True) -> ProofCheck:
        """Check a proof against the chain's root and through ``verifyProof`` / ``verifyMetric``, or
        (``on_chain=False``) against the root recorded locally when the run ended."""
        return self.verifier.verify_proof(proof, on_chain=on_chain)
