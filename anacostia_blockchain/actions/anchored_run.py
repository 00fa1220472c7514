"""An anchored run, loaded from IPFS and checked against the chain — the input of every publishing action.

Publishing actions (mint, promote, price) never trust the local SQL store for what they put on chain. They take a
run's anchor from RunRegistry (root + manifest CID from the ``RunAnchored`` event), fetch the manifest by its CID
from a content store (the CID already guarantees the bytes), rebuild its Merkle root and require it to equal the
anchored root. Everything they publish — metrics in the NFT metadata, the value a promotion proves, the metric a
price is derived from — then comes from a manifest the chain vouches for, and each metric comes with the Merkle
proof a contract can check (``RunRegistry.verifyMetric``).

A run is published after it ends (anchoring happens in ``on_run_end``), so a publishing node working inside run N
publishes an *earlier* anchored run; :meth:`AnchoredRunReader.anchored_run_ids` lists them from the chain's
``RunAnchored`` events, which is also how a restarted pipeline finds what it has not published yet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..anchoring.manifest import RunManifest
from ..chain.contracts import AnchorRecord, RunRegistryClient, unscale_metric
from ..chain.contracts import pipeline_id as pipeline_id_of
from ..errors import ManifestItemNotFoundError, RunNotAnchoredError, TamperedManifestError
from ..ipfs.store import BytesByCid


@dataclass(frozen=True)
class ProvenMetric:
    """A metric of an anchored run with the proof ``RunRegistry.verifyMetric`` accepts."""

    name: str
    value: int  # scaled by 1e18, as anchored
    step: int
    proof: list[bytes]

    @property
    def decimal(self) -> Decimal:
        return unscale_metric(self.value)


@dataclass(frozen=True)
class VerifiedRun:
    """A run whose manifest was fetched by CID and whose Merkle root equals the root anchored on chain."""

    pipeline: str
    run_id: int
    anchor: AnchorRecord
    manifest: RunManifest

    @property
    def pipeline_id(self) -> bytes:
        return self.anchor.pipeline_id

    @property
    def status(self) -> str | None:
        """The run's final status as anchored (``success``, ``failed``, ``aborted``)."""
        for item in self.manifest.items:
            if item.kind == "run":
                status = json.loads(item.fields["details"]).get("status")
                return None if status is None else str(status)
        return None

    def has_metric(self, name: str) -> bool:
        return any(i.kind == "metric" and i.fields["name"] == name for i in self.manifest.items)

    def metric(self, name: str, step: int | None = None) -> ProvenMetric:
        """The metric ``name`` at ``step`` (default: its highest logged step) with its Merkle proof."""
        items = self.manifest.items
        logged = {int(i.fields["step"]): i for i in items if i.kind == "metric" and i.fields["name"] == name}
        if not logged:
            raise ManifestItemNotFoundError(f"run {self.run_id} of {self.pipeline!r} logged no metric {name!r}")
        chosen = max(logged) if step is None else step
        if chosen not in logged:
            raise ManifestItemNotFoundError(
                f"run {self.run_id} logged {name!r} at steps {sorted(logged)}, not at step {chosen}"
            )
        item = logged[chosen]
        _leaf, proof = self.manifest.proof(item.key)
        return ProvenMetric(name, int(item.fields["value"]), chosen, proof)

    def metrics(self) -> dict[str, Decimal]:
        """Each metric's value at its highest step, unscaled exactly."""
        latest: dict[str, tuple[int, int]] = {}
        for item in self.manifest.items:
            if item.kind == "metric":
                name, step = str(item.fields["name"]), int(item.fields["step"])
                if name not in latest or step > latest[name][0]:
                    latest[name] = (step, int(item.fields["value"]))
        return {name: unscale_metric(value) for name, (_step, value) in sorted(latest.items())}

    def params(self) -> dict[str, Any]:
        return {str(i.fields["name"]): json.loads(i.fields["value"]) for i in self.manifest.items if i.kind == "param"}

    def artifacts(self) -> list[dict[str, Any]]:
        """Artifacts as ``{location, sha256, size, cid, **details}``."""
        found = []
        for item in self.manifest.items:
            if item.kind == "artifact":
                details = json.loads(item.fields["details"])
                found.append({**details, "location": item.fields["location"], "sha256": item.fields["sha256"],
                              "size": int(item.fields["size"]), "cid": item.fields["cid"]})
        return found

    def code_fingerprints(self) -> dict[str, str]:
        """Node name -> code fingerprint, from the anchored node results."""
        prints = {}
        for item in self.manifest.items:
            if item.kind == "node":
                details = json.loads(item.fields["details"])
                fingerprint = details.get("code_fingerprint") or details.get("fingerprint")
                if fingerprint:
                    prints[str(item.fields["name"])] = str(fingerprint)
        return dict(sorted(prints.items()))


class AnchoredRunReader:
    """Loads and verifies anchored runs of one pipeline."""

    def __init__(self, registry: RunRegistryClient, content: BytesByCid, pipeline: str) -> None:
        self.registry = registry
        self.content = content
        self.pipeline = pipeline
        self.pipeline_id = pipeline_id_of(pipeline)

    def __repr__(self) -> str:
        return f"AnchoredRunReader({self.pipeline!r}, {self.registry!r})"

    def anchored_run_ids(self, from_block: int = 0) -> list[int]:
        """Run ids of this pipeline anchored on chain, in anchoring order."""
        return self.registry.anchored_run_ids(self.pipeline_id, from_block)

    def load(self, run_id: int) -> VerifiedRun:
        """The run's manifest from the content store, checked against the anchored root."""
        anchor = self.registry.anchor_record(self.pipeline_id, run_id)
        if anchor is None:
            raise RunNotAnchoredError(f"run {run_id} of {self.pipeline!r} is not anchored (yet)")
        manifest = RunManifest.from_bytes(self.content.cat(anchor.manifest_cid))
        if (manifest.pipeline, manifest.run_id) != (self.pipeline, run_id):
            raise TamperedManifestError(
                f"manifest {anchor.manifest_cid} is for {manifest.pipeline!r} run {manifest.run_id}, "
                f"not {self.pipeline!r} run {run_id}",
                items=["run"],
            )
        if manifest.root != anchor.merkle_root:
            raise TamperedManifestError(
                f"manifest {anchor.manifest_cid} has root 0x{manifest.root.hex()}, the chain anchored "
                f"0x{anchor.merkle_root.hex()} for run {run_id}",
                items=["root"],
            )
        return VerifiedRun(self.pipeline, run_id, anchor, manifest)
