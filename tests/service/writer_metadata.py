"""NFT metadata for service tests, written by the project's own writer (``actions.model_metadata``).

A publishing pipeline writes a model's metadata from an anchored, verified run; here the run is a manifest built from
a metadata-store export and an anchor record that names its root, so tests get byte-for-byte what a pipeline would
store on IPFS without running one.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from anacostia_blockchain.actions.anchored_run import VerifiedRun
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions, build_model_metadata, metadata_bytes
from anacostia_blockchain.anchoring import RunManifest
from anacostia_blockchain.chain.contracts import AnchorRecord, pipeline_id

Metric = Decimal | int | float


def writer_document(name: str, metrics: Mapping[str, Metric], *, run_id: int = 1,
                    pipeline: str = "service-tests") -> bytes:
    """The canonical metadata bytes of a model named ``name`` whose run logged ``metrics`` (at step 0)."""
    export = {
        "run": {"id": run_id, "status": "success"},
        "metrics": [{"key": key, "value": value, "step": 0} for key, value in metrics.items()],
        "params": {"epochs": 3},
    }
    manifest = RunManifest.from_export(pipeline, run_id, export)
    anchor = AnchorRecord(pipeline_id=pipeline_id(pipeline), run_id=run_id, merkle_root=manifest.root,
                          manifest_cid="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
                          block_number=run_id, tx_hash="0x" + "ab" * 32, timestamp=1_700_000_000)
    run = VerifiedRun(pipeline=pipeline, run_id=run_id, anchor=anchor, manifest=manifest)
    return metadata_bytes(build_model_metadata(run, ModelMetadataOptions(name)))
