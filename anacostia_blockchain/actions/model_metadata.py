"""The ERC-721 metadata JSON of a model NFT, built only from a verified anchored run.

Layout (ERC-721 metadata JSON schema + the ``properties`` object marketplaces show)::

    {
      "name", "description",
      "image"        : ipfs:// URI of an image, when given,
      "model_card"   : ipfs:// URI (or text) of the model card, when given,
      "attributes"   : [{"trait_type": metric, "value": "0.93"}, ...]        (display; values are exact strings)
      "properties"   : {
        "pipeline", "pipeline_id", "run_id", "anchor_root", "manifest_cid", "anchor_tx", "anchor_block",
        "metrics"          : {name: "exact decimal"},
        "params"           : {name: value},
        "dataset_cids"     : [...],  "model_cids": [...],  "artifacts": [{location, cid, sha256, size, resource}],
        "code_fingerprints": {node: fingerprint}
      }
    }

Metric values are decimal *strings* (``"0.93"``), never floats, so the JSON says exactly what was anchored. The bytes
are canonical JSON (sorted keys, no whitespace), so the same run and options always give the same CID — minting
twice for one run would store identical metadata. Artifacts are split into dataset and model CIDs by the name of the
resource that recorded them (``resource`` in the anchored artifact record).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ..anchoring.manifest import canonical_json
from ..errors import ConfigurationError
from .anchored_run import VerifiedRun


@dataclass(frozen=True)
class ModelMetadataOptions:
    """What the metadata says beyond the run: display text and how artifacts are classified."""

    name: str
    description: str = ""
    image: str | None = None
    model_card: str | None = None
    dataset_resources: Collection[str] = field(default_factory=tuple)
    model_resources: Collection[str] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise ConfigurationError("a model NFT needs a non-empty name")


def _resource_of(artifact: dict[str, Any]) -> str:
    return str(artifact.get("resource") or artifact.get("resource_name") or "")


def build_model_metadata(run: VerifiedRun, options: ModelMetadataOptions) -> dict[str, Any]:
    """The metadata document for ``run`` (see the module docstring for the layout)."""
    metrics = {name: str(value) for name, value in run.metrics().items()}
    artifacts = run.artifacts()
    datasets = [a["cid"] for a in artifacts if a["cid"] and _resource_of(a) in options.dataset_resources]
    models = [a["cid"] for a in artifacts if a["cid"] and _resource_of(a) in options.model_resources]
    document: dict[str, Any] = {
        "name": options.name,
        "description": options.description
        or f"Model produced by run {run.run_id} of pipeline {run.pipeline!r}, anchored on chain.",
        "attributes": [{"trait_type": name, "value": value} for name, value in metrics.items()],
        "properties": {
            "pipeline": run.pipeline,
            "pipeline_id": "0x" + run.pipeline_id.hex(),
            "run_id": run.run_id,
            "anchor_root": "0x" + run.anchor.merkle_root.hex(),
            "manifest_cid": run.anchor.manifest_cid,
            "anchor_tx": run.anchor.tx_hash,
            "anchor_block": run.anchor.block_number,
            "metrics": metrics,
            "params": run.params(),
            "dataset_cids": datasets,
            "model_cids": models,
            "artifacts": [
                {"location": a["location"], "cid": a["cid"], "sha256": a["sha256"], "size": a["size"],
                 "resource": _resource_of(a)}
                for a in artifacts
            ],
            "code_fingerprints": run.code_fingerprints(),
        },
    }
    if options.image:
        document["image"] = options.image
    if options.model_card:
        document["model_card"] = options.model_card
    return document


def metadata_bytes(document: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: one document, one CID."""
    return canonical_json(document).encode()
