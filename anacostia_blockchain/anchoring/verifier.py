"""``RunVerifier``: check a run against its anchor, and prove single items (off chain and through the contract).

Verification compares three independent things and names what differs:

* the **archived manifest** (the exact bytes hashed when the run ended, :mod:`.archive`),
* a **fresh re-export** of the run from the SQL tables (``export_run``) turned into a manifest the same way,
* the **root on chain** (``RunRegistry.runRoot``) and the manifest CID in its ``RunAnchored`` event.

If the archived manifest matches the chain but the re-export does not, an SQL value was changed; if the re-export
matches the chain but the archive does not, the manifest was changed; either way :class:`TamperedManifestError`
lists the differing item keys (``metric:loss@3``, ``param:lr``, ``artifact:model.pkl``...). A run without a root on
chain raises :class:`RunNotAnchoredError` (the message says whether its anchor is still pending in the outbox); a
root anchored by someone else for this run (the outbox parked ours as a conflict) raises :class:`AnchorConflictError`.

Verification is read-only: it needs no key and works without IPFS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..chain.contracts import merkle
from ..chain.contracts.run_registry import AnchorRecord, RunRegistryClient
from ..errors import (
    AnchorConflictError,
    ConfigurationError,
    RunNotAnchoredError,
    TamperedManifestError,
    ValidationError,
)
from ..outbox import Outbox
from .archive import ManifestArchive, StoredManifest
from .finality import default_confirmations
from .manifest import ManifestItem, RunManifest, manifest_cid
from .sender import ANCHOR_KIND, anchor_key


@dataclass(frozen=True)
class VerificationReport:
    """A run that verified: its root, CID, item count and where it was anchored."""

    pipeline: str
    run_id: int
    root: bytes
    manifest_cid: str
    items: int
    anchor: AnchorRecord | None
    verdict: str = "verified"
    confirmations: int | None = None  # depth of the anchor's block when verified (None: no RunAnchored event seen)
    required_confirmations: int | None = None  # depth at which the anchor counts as final

    @property
    def final(self) -> bool:
        return (
            self.confirmations is not None
            and self.required_confirmations is not None
            and self.confirmations >= self.required_confirmations
        )

    @property
    def finality(self) -> str:
        """``"final"`` or ``"confirmed (N confirmations)"`` (a verified anchor can still be rolled back until final)."""
        if self.final:
            return "final"
        if self.confirmations is None:
            return "confirmed (confirmations unknown)"
        return f"confirmed ({self.confirmations} confirmation{'' if self.confirmations == 1 else 's'})"

    def to_json(self) -> dict[str, Any]:
        anchor = self.anchor
        return {
            "verdict": self.verdict,
            "finality": self.finality,
            "confirmations": self.confirmations,
            "pipeline": self.pipeline,
            "runId": self.run_id,
            "root": "0x" + self.root.hex(),
            "manifestCid": self.manifest_cid,
            "items": self.items,
            "anchor": None
            if anchor is None
            else {"block": anchor.block_number, "txHash": anchor.tx_hash, "timestamp": anchor.timestamp},
        }


@dataclass(frozen=True)
class ItemProof:
    """A Merkle proof of one manifest item: enough to check it against the chain without the manifest."""

    pipeline: str
    run_id: int
    item: ManifestItem
    leaf: bytes
    proof: list[bytes] = field(default_factory=list)
    root: bytes = b""

    @property
    def pipeline_id(self) -> bytes:
        return merkle.pipeline_id(self.pipeline)

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "pipelineId": "0x" + self.pipeline_id.hex(),
            "runId": self.run_id,
            **self.item.to_json(),
            "leaf": "0x" + self.leaf.hex(),
            "proof": ["0x" + p.hex() for p in self.proof],
            "root": "0x" + self.root.hex(),
        }


@dataclass(frozen=True)
class ProofCheck:
    """Outcome of :meth:`RunVerifier.verify_proof`; ``on_chain``/``metric_on_chain`` are ``None`` when not asked."""

    key: str
    leaf_matches_item: bool
    off_chain: bool
    on_chain: bool | None
    metric_on_chain: bool | None

    @property
    def ok(self) -> bool:
        checks = [self.leaf_matches_item, self.off_chain, self.on_chain, self.metric_on_chain]
        return all(c for c in checks if c is not None)


class RunVerifier:
    """Verification and proofs for one pipeline's runs (``export_run`` is the SQL store's)."""

    def __init__(
        self,
        pipeline: str,
        export_run: Callable[[int], dict[str, Any]],
        archive: ManifestArchive,
        registry: RunRegistryClient | None,
        outbox: Outbox | None = None,
        *,
        confirmations: int | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.pipeline_id = merkle.pipeline_id(pipeline)
        self.export_run = export_run
        self.archive = archive
        self.registry = registry
        self.outbox = outbox
        #: Depth at which a verified anchor is reported "final"; ``None``: the anchoring default for this node
        #: (:mod:`.finality`: 2 on an automining devnet, 12 elsewhere), resolved on first verification.
        self.confirmations = confirmations

    # --- local ------------------------------------------------------------------------------------------------------
    def stored(self, run_id: int) -> StoredManifest:
        stored = self.archive.load(self.pipeline_id, run_id)
        if stored is None:
            self.export_run(run_id)  # RunNotFoundError when the run does not exist at all
            raise RunNotAnchoredError(
                f"run {run_id} of {self.pipeline!r} has no manifest: it is still running or was recorded by a "
                "store that does not anchor"
            )
        return stored

    def fresh_manifest(self, run_id: int) -> RunManifest:
        return RunManifest.from_export(self.pipeline, run_id, self.export_run(run_id))

    def _archived_manifest(self, stored: StoredManifest, fresh: RunManifest) -> RunManifest:
        try:
            archived = stored.manifest()
        except ValidationError as exc:
            raise TamperedManifestError(
                f"run {stored.run_id}: the archived manifest is unreadable: {exc}", ["*"]
            ) from exc
        if archived.root != stored.root or manifest_cid(stored.data) != stored.cid:
            items = archived.diff(fresh) or ["*"]
            raise TamperedManifestError(
                f"run {stored.run_id}: the archived manifest no longer hashes to its recorded root/CID "
                f"(changed items: {', '.join(items)})",
                items,
            )
        return archived

    # --- against the chain ------------------------------------------------------------------------------------------
    def _registry(self) -> RunRegistryClient:
        if self.registry is None:
            raise ConfigurationError("no RunRegistry configured: pass an RPC URL and the registry address")
        return self.registry

    def _pending_note(self, run_id: int) -> str:
        if self.outbox is None:
            return ""
        entry = self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        if entry is None:
            return " (no anchor was ever queued for it)"
        note = f" (its anchor is {entry.status} in the outbox after {entry.attempts} failed attempt(s)"
        return note + (f"; last error: {entry.last_error})" if entry.last_error else ")")

    def _parked_as_conflict(self, run_id: int) -> bool:
        entry = None if self.outbox is None else self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        return entry is not None and entry.status == "failed" and "AnchorConflict" in (entry.last_error or "")

    def verify_run(self, run_id: int) -> VerificationReport:
        """Verify a run end to end; raises :class:`TamperedManifestError` / :class:`RunNotAnchoredError`."""
        stored = self.stored(run_id)
        fresh = self.fresh_manifest(run_id)
        archived = self._archived_manifest(stored, fresh)
        registry = self._registry()
        on_chain = registry.run_root(self.pipeline_id, run_id)
        if on_chain is None:
            raise RunNotAnchoredError(
                f"run {run_id} of {self.pipeline!r} is not anchored yet{self._pending_note(run_id)}"
            )
        archive_ok, sql_ok = archived.root == on_chain, fresh.root == on_chain
        differing = archived.diff(fresh)
        if not sql_ok and archive_ok:
            raise TamperedManifestError(
                f"run {run_id}: the SQL store no longer matches the anchored manifest; changed: {', '.join(differing)}",
                differing,
            )
        if not archive_ok and sql_ok:
            raise TamperedManifestError(
                f"run {run_id}: the archived manifest no longer matches the anchor; changed: {', '.join(differing)}",
                differing,
            )
        if not archive_ok and not differing and self._parked_as_conflict(run_id):
            raise AnchorConflictError(
                f"run {run_id}: the chain holds root 0x{on_chain.hex()} from another anchor; this store's manifest "
                f"(root 0x{archived.root.hex()}) was never anchored — two writers share pipeline {self.pipeline!r}?"
            )
        if not archive_ok:
            raise TamperedManifestError(
                f"run {run_id}: neither the SQL store nor the archived manifest matches the anchored root "
                f"0x{on_chain.hex()}" + (f"; they differ in: {', '.join(differing)}" if differing else ""),
                differing,
            )
        record = registry.anchor_record(self.pipeline_id, run_id)
        if record is not None and record.manifest_cid != stored.cid:
            raise TamperedManifestError(
                f"run {run_id}: the anchored manifest CID {record.manifest_cid} differs from the archived {stored.cid}",
                ["manifestCid"],
            )
        depth = None if record is None else max(0, registry.client.block_number() - record.block_number + 1)
        if self.confirmations is None:
            self.confirmations = default_confirmations(registry.client.automines())
        return VerificationReport(
            self.pipeline,
            run_id,
            on_chain,
            stored.cid,
            len(archived.items),
            record,
            confirmations=depth,
            required_confirmations=self.confirmations,
        )

    # --- proofs -----------------------------------------------------------------------------------------------------
    def prove(self, run_id: int, key: str) -> ItemProof:
        """A proof of item ``key`` from the archived manifest (``ManifestItemNotFoundError`` for unknown keys)."""
        stored = self.stored(run_id)
        archived = stored.manifest()
        leaf, proof = archived.proof(key)
        return ItemProof(self.pipeline, run_id, archived.item(key), leaf, proof, archived.root)

    def verify_proof(self, proof: ItemProof, *, on_chain: bool = True) -> ProofCheck:
        """Check a proof: the item hashes to the leaf, the leaf reaches the root, and (``on_chain``) the
        contract agrees via ``verifyProof`` — and for metrics ``verifyMetric``, which checks the value itself."""
        leaf_ok = proof.item.leaf(proof.pipeline_id, proof.run_id) == proof.leaf
        off_ok = merkle.verify_proof(proof.root, proof.leaf, proof.proof)
        chain_ok: bool | None = None
        metric_ok: bool | None = None
        if on_chain:
            registry = self._registry()
            chain_ok = registry.verify_proof(proof.pipeline_id, proof.run_id, proof.leaf, proof.proof)
            if proof.item.kind == "metric":
                fields = proof.item.fields
                metric_ok = registry.verify_metric(
                    proof.pipeline_id,
                    proof.run_id,
                    fields["name"],
                    int(fields["value"]),
                    int(fields["step"]),
                    proof.proof,
                )
        return ProofCheck(proof.item.key, leaf_ok, off_ok, chain_ok, metric_ok)
