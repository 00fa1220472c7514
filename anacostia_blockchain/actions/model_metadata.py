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
        "training_batch"   : {"cid", "uri", "sha256", "size", "name", "items"},       (when the run recorded one)
        "checkpoint"       : {"cid", "uri", "sha256", "size", "name", "serializer", "framework",
                              "framework_version", "weights_cid", "trained_on"},
        "relationships"    : [{"type", "source", "target"}, ...],
        "dataset_cids"     : [...],  "model_cids": [...],  "artifacts": [{location, cid, sha256, size, resource}],
        "code_fingerprints": {node: fingerprint}
      }
    }

When the run saved a model checkpoint (an anchored ``artefact:model_checkpoint:*`` tag, see
:mod:`anacostia_blockchain.artefacts`), the checkpoint document is fetched by CID from the content store and checked
against its anchored sha256, and so is the dataset batch it was ``trained_on``: ``training_batch`` and
``checkpoint`` point at both manifests, ``dataset_cids`` lists **every** item of the training batch (the exact
training set, rebuildable from IPFS) and ``model_cids`` the checkpoint's weights. Anyone holding the token can go
token URI -> metadata -> checkpoint -> weights and -> batch -> items, each step checked by CID, and back to the
anchored run by ``manifest_cid`` and ``anchor_root``. A run without a checkpoint falls back to the artifacts of the
run, split into dataset and model CIDs by the name of the resource that recorded them.

Metric values are decimal *strings* (``"0.93"``), never floats, so the JSON says exactly what was anchored. The bytes
are canonical JSON (sorted keys, no whitespace), so the same run and options always give the same CID — minting
twice for one run would store identical metadata.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from ..anchoring.manifest import canonical_json
from ..artefacts import ContentRef, DatasetBatch, ModelCheckpoint, Relationship
from ..artefacts.relationships import TAG_PREFIX as RELATIONSHIP_PREFIX
from ..artefacts.store import ARTEFACT_TAG_PREFIX
from ..errors import ConfigurationError
from ..ipfs.store import BytesByCid
from .anchored_run import VerifiedRun

_CHECKPOINT_PREFIX = f"{ARTEFACT_TAG_PREFIX}{ModelCheckpoint.kind}:"


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


@dataclass(frozen=True)
class TrainingArtefacts:
    """The checkpoint an anchored run saved and the batch it was trained on, fetched and checked by CID."""

    checkpoint_ref: ContentRef
    checkpoint: ModelCheckpoint
    batch_ref: ContentRef | None
    batch: DatasetBatch | None
    relationships: tuple[Relationship, ...]


def _resource_of(artifact: dict[str, Any]) -> str:
    return str(artifact.get("resource") or artifact.get("resource_name") or "")


def anchored_tags(run: VerifiedRun) -> dict[str, Any]:
    """The run's tags as anchored (name -> decoded JSON value)."""
    return {str(i.fields["name"]): json.loads(i.fields["value"]) for i in run.manifest.items if i.kind == "tag"}


def training_artefacts(run: VerifiedRun, content: BytesByCid) -> TrainingArtefacts | None:
    """The run's model checkpoint and training batch (``None`` when it recorded no checkpoint); each document is
    fetched by CID and checked against the sha256 anchored in the run's tags."""
    tags = anchored_tags(run)
    entries = sorted(key for key in tags if key.startswith(_CHECKPOINT_PREFIX))
    if not entries:
        return None
    checkpoint_ref = ContentRef.from_json(tags[entries[0]]["ref"])
    checkpoint = ModelCheckpoint.from_bytes(checkpoint_ref.fetch(content.cat))
    batch = None
    if checkpoint.trained_on is not None:
        batch = DatasetBatch.from_bytes(checkpoint.trained_on.fetch(content.cat))
    relationships = tuple(Relationship.from_json(value) for key, value in sorted(tags.items())
                          if key.startswith(RELATIONSHIP_PREFIX))
    return TrainingArtefacts(checkpoint_ref, checkpoint, checkpoint.trained_on, batch, relationships)


def _pointer(ref: ContentRef, name: str) -> dict[str, Any]:
    return {"cid": ref.cid, "uri": f"ipfs://{ref.cid}", "sha256": ref.sha256, "size": ref.size, "name": name}


def _artefact_properties(found: TrainingArtefacts) -> dict[str, Any]:
    checkpoint = found.checkpoint
    properties: dict[str, Any] = {
        "checkpoint": {
            **_pointer(found.checkpoint_ref, checkpoint.name), "serializer": checkpoint.serializer,
            "framework": checkpoint.framework, "framework_version": checkpoint.framework_version,
            "weights_cid": checkpoint.weights.cid,
            "trained_on": found.batch_ref.cid if found.batch_ref is not None else None,
        },
        "relationships": [r.to_json() for r in found.relationships],
        "model_cids": [checkpoint.weights.cid] if checkpoint.weights.cid else [],
    }
    if found.batch_ref is not None and found.batch is not None:
        properties["training_batch"] = {**_pointer(found.batch_ref, found.batch.name),
                                        "items": len(found.batch.items)}
        properties["dataset_cids"] = found.batch.cids
    return properties


def build_model_metadata(
    run: VerifiedRun, options: ModelMetadataOptions, content: BytesByCid | None = None
) -> dict[str, Any]:
    """The metadata document for ``run`` (see the module docstring for the layout). ``content``: where the run's
    artefact documents are fetched from (without it, the run's own artifacts are listed)."""
    metrics = {name: str(value) for name, value in run.metrics().items()}
    artifacts = run.artifacts()
    datasets = [a["cid"] for a in artifacts if a["cid"] and _resource_of(a) in options.dataset_resources]
    models = [a["cid"] for a in artifacts if a["cid"] and _resource_of(a) in options.model_resources]
    properties: dict[str, Any] = {
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
    }
    found = training_artefacts(run, content) if content is not None else None
    if found is not None:
        properties.update(_artefact_properties(found))
    document: dict[str, Any] = {
        "name": options.name,
        "description": options.description
        or f"Model produced by run {run.run_id} of pipeline {run.pipeline!r}, anchored on chain.",
        "attributes": [{"trait_type": name, "value": value} for name, value in metrics.items()],
        "properties": properties,
    }
    if options.image:
        document["image"] = options.image
    if options.model_card:
        document["model_card"] = options.model_card
    return document


def metadata_bytes(document: dict[str, Any]) -> bytes:
    """Canonical JSON bytes: one document, one CID."""
    return canonical_json(document).encode()
