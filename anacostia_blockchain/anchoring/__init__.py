"""Anchoring: a run's canonical manifest, its Merkle root in ``RunRegistry``, and checking both later.

- :class:`RunAnchorer` anchors the runs of one pipeline (manifest -> archive -> outbox -> ``AnchorSender``);
- :class:`RunManifest` is the canonical manifest of one run and its Merkle tree (:mod:`.manifest`);
- :class:`ManifestArchive` keeps every anchored manifest in the run store's database (:mod:`.archive`);
- :class:`AnchorSender` delivers anchors exactly once, :class:`AnchorFinality` re-checks them until final;
- :class:`RunVerifier` checks a run and single items against the chain (read-only, keyless).

``BlockchainMetadataStore`` (in ``anacostia_blockchain.metadata``) is the pipeline node that uses a
:class:`RunAnchorer`.
"""

from .anchorer import AnchoredRuns, RunAnchorer
from .archive import ManifestArchive, StoredManifest
from .connection import RegistryConnection
from .finality import CHAIN_CONFIRMATIONS, DEVNET_CONFIRMATIONS, AnchorEntry, AnchorFinality, FinalityRound
from .manifest import ManifestItem, RunManifest, canonical_json, manifest_cid
from .sender import ANCHOR_KIND, AnchorSender, anchor_key
from .verifier import ItemProof, ProofCheck, RunVerifier, VerificationReport

__all__ = [
    "ANCHOR_KIND",
    "CHAIN_CONFIRMATIONS",
    "DEVNET_CONFIRMATIONS",
    "AnchorEntry",
    "AnchorFinality",
    "AnchorSender",
    "AnchoredRuns",
    "FinalityRound",
    "ItemProof",
    "ManifestArchive",
    "ManifestItem",
    "ProofCheck",
    "RegistryConnection",
    "RunAnchorer",
    "RunManifest",
    "RunVerifier",
    "StoredManifest",
    "VerificationReport",
    "anchor_key",
    "canonical_json",
    "manifest_cid",
]
