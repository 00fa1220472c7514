"""Anchoring: a run's canonical manifest, its Merkle root in ``RunRegistry``, and checking both later.

- :class:`RunAnchorer` anchors the runs of one pipeline (manifest -> archive -> outbox -> ``AnchorSender``);
- :class:`RunManifest` is the canonical manifest of one run and its Merkle tree (:mod:`.manifest`);
- :class:`ManifestArchive` keeps every anchored manifest in the run store's database (:mod:`.archive`);
- :class:`AnchorSender` delivers anchors exactly once, :class:`AnchorFinality` re-checks them until final;
- :class:`RunVerifier` checks a run against the chain, or offline against the root recorded when it ended
  (read-only, keyless); :class:`ItemProof` / :class:`ProofCheck` prove single items (:mod:`.proofs`).

``BlockchainMetadataStore`` (in ``anacostia_blockchain.metadata``) is the pipeline node that uses a
:class:`RunAnchorer`.
"""

from .anchorer import AnchoredRuns, RunAnchorer
from .archive import ManifestArchive, StoredManifest
from .connection import RegistryConnection
from .finality import CHAIN_CONFIRMATIONS, DEVNET_CONFIRMATIONS, AnchorEntry, AnchorFinality, FinalityRound
from .manifest import MANIFEST_VERSION, TREE_LAYOUTS, ManifestItem, RunManifest, canonical_json, manifest_cid
from .proofs import ItemProof, ProofCheck, check_proof
from .sender import ANCHOR_KIND, AnchorSender, anchor_key
from .verifier import RunVerifier, VerificationReport

__all__ = [
    "ANCHOR_KIND",
    "CHAIN_CONFIRMATIONS",
    "DEVNET_CONFIRMATIONS",
    "MANIFEST_VERSION",
    "TREE_LAYOUTS",
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
    "check_proof",
    "manifest_cid",
]
