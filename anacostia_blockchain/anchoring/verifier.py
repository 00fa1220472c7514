"""``RunVerifier``: check a run against its anchor, and prove single items (off chain and through the contract).

Verification compares independent records and names what differs:

* the **archived manifest** (the exact bytes hashed when the run ended, :mod:`.archive`) and the root and CID
  recorded with it;
* a **fresh re-export** of the run from the SQL tables (``export_run``) turned into a manifest the same way (in the
  archived manifest's format);
* the **root on chain** (``RunRegistry.runRoot``) and the manifest CID in its ``RunAnchored`` event.

If the archived manifest matches the chain but the re-export does not, an SQL value was changed; if the re-export
matches the chain but the archive does not, the manifest was changed; either way :class:`TamperedManifestError`
lists the differing item keys (``metric:loss@3``, ``param:lr``, ``artifact:model.pkl``...). A run without a root on
chain raises :class:`RunNotAnchoredError` (the message says whether its anchor is still pending in the outbox); a
root anchored by someone else for this run (the outbox parked ours as a conflict) raises :class:`AnchorConflictError`.

:meth:`RunVerifier.verify_local` is the same without the chain: against the root **recorded** when the run ended
(:meth:`RunVerifier.recorded_root`). Item proofs (:mod:`.proofs`) are checked against the recorded root offline and
against the chain's root online — never against a root recomputed from the archive they were taken from.

Verification is read-only: it needs no key and works without IPFS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
from ..outbox import CONFIRMED, Outbox
from .archive import ManifestArchive, StoredManifest
from .finality import default_confirmations
from .manifest import MANIFEST_VERSION, RunManifest, manifest_cid
from .proofs import ItemProof, ProofCheck, ProofReference, check_proof
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
    leaves: Mapping[str, bytes] = field(default_factory=dict)  # item key -> its double-hashed leaf
    manifest_version: int = MANIFEST_VERSION
    tree_layout: str = merkle.MerkleTree.layout
    against: ProofReference = "chain"  # "recorded": checked offline against the root recorded at the run's end

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
        if self.against == "recorded":
            return "not checked (offline)"
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
            "manifestVersion": self.manifest_version,
            "treeLayout": self.tree_layout,
            "against": self.against,
            "items": self.items,
            "leaves": {key: "0x" + leaf.hex() for key, leaf in self.leaves.items()},
            "anchor": None
            if anchor is None
            else {"block": anchor.block_number, "txHash": anchor.tx_hash, "timestamp": anchor.timestamp},
        }


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

    def fresh_manifest(self, run_id: int, version: int = MANIFEST_VERSION) -> RunManifest:
        """The run re-exported from the SQL store, as a manifest of format ``version``."""
        return RunManifest.from_export(self.pipeline, run_id, self.export_run(run_id), version=version)

    def recorded_root(self, run_id: int) -> bytes:
        """The root recorded locally when the run ended: the archive's root, which the run row's ``hash`` and the
        anchor request in the outbox (where present) must repeat; :class:`TamperedManifestError` when they differ."""
        stored = self.stored(run_id)
        others = {"runs.hash": self.export_run(run_id).get("run", {}).get("hash")}
        entry = None if self.outbox is None else self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        if entry is not None:
            others["the outbox's anchor request"] = entry.payload.get("root")
        recorded = "0x" + stored.root.hex()
        differing = [f"{name} {value}" for name, value in others.items() if value is not None and value != recorded]
        if differing:
            raise TamperedManifestError(
                f"run {run_id}: the local records disagree on its root: the archive holds {recorded}, "
                + ", ".join(differing),
                ["root"],
            )
        return stored.root

    def _archived_manifest(self, stored: StoredManifest) -> RunManifest:
        """The archived manifest, readable and hashing to the root and CID recorded with it."""
        try:
            archived = stored.manifest()
        except ValidationError as exc:
            raise TamperedManifestError(
                f"run {stored.run_id}: the archived manifest is unreadable: {exc}", ["*"]
            ) from exc
        if archived.root != stored.root or manifest_cid(stored.data) != stored.cid:
            items = archived.diff(self.fresh_manifest(stored.run_id, archived.version)) or ["*"]
            raise TamperedManifestError(
                f"run {stored.run_id}: the archived manifest no longer hashes to its recorded root/CID "
                f"(changed items: {', '.join(items)})",
                items,
            )
        return archived

    def _report(
        self, stored: StoredManifest, archived: RunManifest, anchor: AnchorRecord | None = None, **details: Any
    ) -> VerificationReport:
        return VerificationReport(
            self.pipeline,
            stored.run_id,
            stored.root,
            stored.cid,
            len(archived.items),
            anchor,
            leaves=archived.leaves,
            manifest_version=archived.version,
            tree_layout=archived.tree.layout,
            **details,
        )

    def verify_local(self, run_id: int) -> VerificationReport:
        """Verify a run offline, against the root recorded when it ended: the archive hashes to it, the local records
        agree on it and the SQL store still gives it. Raises :class:`TamperedManifestError` naming the changes."""
        stored = self.stored(run_id)
        archived = self._archived_manifest(stored)
        recorded = self.recorded_root(run_id)
        fresh = self.fresh_manifest(run_id, archived.version)
        if fresh.root != recorded:
            differing = archived.diff(fresh)
            raise TamperedManifestError(
                f"run {run_id}: the SQL store no longer matches the recorded manifest; changed: {', '.join(differing)}",
                differing,
            )
        return self._report(stored, archived, against="recorded")

    # --- against the chain ------------------------------------------------------------------------------------------
    def _registry(self) -> RunRegistryClient:
        if self.registry is None:
            raise ConfigurationError("no RunRegistry configured: pass an RPC URL and the registry address")
        return self.registry

    def _not_anchored(self, run_id: int) -> str:
        """Why the chain has no root for the run, from its outbox entry, and (after a chain reset) what to do."""
        entry = None if self.outbox is None else self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        run = f"run {run_id} of {self.pipeline!r}"
        if self.outbox is None:
            return f"{run} is not anchored yet"
        if entry is None:
            return f"{run} is not anchored yet (no anchor was ever queued for it)"
        if entry.status == CONFIRMED:
            landed = (entry.result or {}).get("block")
            return (
                f"{run} is not on this chain, though this database recorded its anchor as confirmed"
                f"{f' in block {landed}' if landed is not None else ''}: the chain was reset (a restarted devnet) or "
                "is another one; point --rpc-url at the chain it was anchored on, or verify it with --offline "
                "against the root recorded when the run ended"
            )
        note = f"{run} is not anchored yet (its anchor is {entry.status} in the outbox after {entry.attempts} failed "
        return note + (f"attempt(s); last error: {entry.last_error})" if entry.last_error else "attempt(s))")

    def _parked_as_conflict(self, run_id: int) -> bool:
        entry = None if self.outbox is None else self.outbox.get(ANCHOR_KIND, anchor_key(self.pipeline_id, run_id))
        return entry is not None and entry.status == "failed" and "AnchorConflict" in (entry.last_error or "")

    def verify_run(self, run_id: int) -> VerificationReport:
        """Verify a run end to end; raises :class:`TamperedManifestError` / :class:`RunNotAnchoredError`."""
        stored = self.stored(run_id)
        archived = self._archived_manifest(stored)
        fresh = self.fresh_manifest(run_id, archived.version)
        registry = self._registry()
        on_chain = registry.run_root(self.pipeline_id, run_id)
        if on_chain is None:
            raise RunNotAnchoredError(self._not_anchored(run_id))
        self._compare_with_chain(run_id, archived, fresh, on_chain)
        record = registry.anchor_record(self.pipeline_id, run_id)
        if record is not None and record.manifest_cid != stored.cid:
            raise TamperedManifestError(
                f"run {run_id}: the anchored manifest CID {record.manifest_cid} differs from the archived {stored.cid}",
                ["manifestCid"],
            )
        depth = None if record is None else max(0, registry.client.block_number() - record.block_number + 1)
        if self.confirmations is None:
            self.confirmations = default_confirmations(registry.client.automines())
        return self._report(
            stored, archived, anchor=record, confirmations=depth, required_confirmations=self.confirmations
        )

    def _compare_with_chain(self, run_id: int, archived: RunManifest, fresh: RunManifest, on_chain: bytes) -> None:
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

    # --- proofs -----------------------------------------------------------------------------------------------------
    def prove(self, run_id: int, key: str) -> ItemProof:
        """A proof of item ``key`` from the archived manifest, for the root recorded when the run ended
        (``ManifestItemNotFoundError`` for unknown keys; ``TamperedManifestError`` for an unreadable archive)."""
        stored = self.stored(run_id)
        try:
            archived = stored.manifest()
        except ValidationError as exc:
            raise TamperedManifestError(f"run {run_id}: the archived manifest is unreadable: {exc}", ["*"]) from exc
        leaf, proof = archived.proof(key)
        return ItemProof(self.pipeline, run_id, archived.item(key), leaf, proof, stored.root)

    def verify_proof(self, proof: ItemProof, *, on_chain: bool = True) -> ProofCheck:
        """Check a proof: the item hashes to the leaf and the leaf reaches the run's root — offline the root recorded
        when the run ended (:meth:`recorded_root`), online the root on chain, where the contract checks it too
        (``verifyProof``, and ``verifyMetric`` for metrics). ``proof.root`` is never trusted."""
        if proof.pipeline != self.pipeline:
            raise ValidationError(f"a proof for pipeline {proof.pipeline!r} given to the verifier of {self.pipeline!r}")
        if on_chain:
            registry = self._registry()
            root = registry.run_root(self.pipeline_id, proof.run_id)
            problem = None if root is not None else f"run {proof.run_id} is not anchored"
            return check_proof(proof, root, registry=registry, problem=problem)
        try:
            return check_proof(proof, self.recorded_root(proof.run_id))
        except (TamperedManifestError, RunNotAnchoredError) as exc:
            return check_proof(proof, None, problem=str(exc))
