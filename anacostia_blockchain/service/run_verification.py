"""Checking that an anchored root really commits to the run manifest its anchor names.

``RunRegistry`` stores ``(pipelineId, runId) -> merkleRoot`` and emits the manifest's CID. The root alone proves
nothing about the manifest until someone fetches the manifest by that CID (the content store verifies every block
against the CID), parses it (``anchoring.manifest.RunManifest``) and recomputes the Merkle root from its items. That is
what :class:`ContentManifestVerifier` does for ``GET /runs/{id}/verify``; it raises
:class:`~anacostia_blockchain.errors.TamperedManifestError` when the roots differ, a
:class:`~anacostia_blockchain.errors.ValidationError` for something that is not a manifest of that run, and lets a
:class:`~anacostia_blockchain.errors.StorageError` through when the manifest cannot be fetched (the endpoint reports
that as *not checked*, not as *failed*).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..anchoring.manifest import RunManifest
from ..errors import TamperedManifestError, ValidationError

if TYPE_CHECKING:
    from ..ipfs import ContentStore


class ContentManifestVerifier:
    """``verifier(manifest_cid, anchored_root_hex, pipeline_id_hex, run_id)`` (see the module docstring)."""

    def __init__(self, content_store: ContentStore) -> None:
        self.content_store = content_store

    def __call__(self, manifest_cid: str, anchored_root: str | None, pipeline_id: str, run_id: int) -> None:
        manifest = RunManifest.from_bytes(self.content_store.cat(manifest_cid))
        if "0x" + manifest.pipeline_id.hex() != pipeline_id.lower() or manifest.run_id != run_id:
            raise ValidationError(
                f"manifest {manifest_cid} describes run {manifest.run_id} of pipeline {manifest.pipeline!r}, "
                f"not run {run_id} of {pipeline_id}"
            )
        root = "0x" + manifest.root.hex()
        if anchored_root is None or root.lower() != anchored_root.lower():
            raise TamperedManifestError(
                f"manifest {manifest_cid} recomputes to root {root}, the anchor holds {anchored_root}",
                items=[],
            )
