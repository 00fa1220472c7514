"""Fixtures for the model NFT and versioning tests: a fresh anvil state per test with RunRegistry, ModelNFT and
ModelVersions deployed through the chain layer, and helpers that anchor a run's metrics the way the metadata store
does (metric leaves + run leaf in a sorted-pair Merkle tree)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.contracts.merkle import MerkleTree, metric_leaf, pipeline_id, run_leaf, scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.ipfs import EmbeddedBlockstore

ANCHORED_PIPELINE = "fraud"


def sample_export(run_id: int, accuracy: float) -> dict:
    """A run export in the shape ``SqliteMetadataStore.export_run`` returns."""
    return {
        "run": {"id": run_id, "status": "success"},
        "nodes": [{"node_name": "train", "status": "success", "code_fingerprint": "sha256:abc"}],
        "metrics": [
            {"key": "accuracy", "value": accuracy - 0.1, "step": 0},
            {"key": "accuracy", "value": accuracy, "step": 1},
            {"key": "loss", "value": 0.3, "step": None},
        ],
        "params": {"depth": 6},
        "tags": {},
        "lineage": [],
    }


@dataclass
class AnchoredManifests:
    """Manifests stored in an EmbeddedBlockstore and anchored in RunRegistry, like the blockchain store does."""

    reader: AnchoredRunReader
    registry: RunRegistryClient
    blocks: EmbeddedBlockstore

    def publish(
        self, run_id: int, accuracy: float, *, anchor_as: int | None = None, root_of: RunManifest | None = None
    ) -> tuple[RunManifest, str]:
        manifest = RunManifest.from_export(ANCHORED_PIPELINE, run_id, sample_export(run_id, accuracy))
        cid = str(self.blocks.add_bytes(manifest.to_bytes()).cid)
        root = (root_of or manifest).root
        self.registry.anchor_run(AnchorRequest(manifest.pipeline_id, anchor_as or run_id, root, cid))
        return manifest, cid


@dataclass
class AnchoredRun:
    """A run whose metrics were anchored in RunRegistry; ``proof(name, step)`` gives the metric's Merkle proof."""

    pipeline: str
    run_id: int
    metrics: dict[tuple[str, int], int]
    tree: MerkleTree
    manifest_cid: str
    leaves: dict[tuple[str, int], bytes] = field(default_factory=dict)

    @property
    def pipeline_id(self) -> bytes:
        return pipeline_id(self.pipeline)

    @property
    def root(self) -> bytes:
        return self.tree.root

    def proof(self, name: str, step: int = 0) -> list[bytes]:
        return self.tree.proof(self.leaves[(name, step)])


@dataclass
class NftWorld:
    devnet: Devnet
    client: ChainClient
    admin: TxSender
    stranger: TxSender
    registry_address: str
    nft: ModelNFTClient
    versions: ModelVersionsClient
    senders: list[TxSender]

    def sender_for(self, index: int) -> TxSender:
        sender = TxSender(self.client, LocalSigner.from_key(self.devnet.accounts[index].private_key))
        self.senders.append(sender)
        return sender

    def anchor_run(self, pipeline: str, run_id: int, metrics: dict[str, float | Decimal | int]) -> AnchoredRun:
        """Anchor ``metrics`` (step 0) for ``pipeline``/``run_id`` in RunRegistry, like the metadata store would."""
        scaled = {(name, 0): scale_metric(value) for name, value in metrics.items()}
        leaves = {key: metric_leaf(key[0], value, key[1]) for key, value in scaled.items()}
        all_leaves = [*leaves.values(), run_leaf(pipeline_id(pipeline), run_id, '{"status":"finished"}')]
        tree = MerkleTree(all_leaves)
        cid = f"bafkreitestmanifest{pipeline.replace(' ', '').lower()}{run_id}"
        registry = Contract.at(self.client, "RunRegistry", self.registry_address)
        self.admin.transact(registry, "anchorRun", pipeline_id(pipeline), run_id, tree.root, cid)
        return AnchoredRun(pipeline, run_id, scaled, tree, cid, leaves)

    def mint_for(self, run: AnchoredRun, to: str | None = None) -> int:
        minted = self.nft.mint(
            to or self.admin.signer.address,
            f"ipfs://bafkreimetadata{run.run_id}",
            pipeline_id=run.pipeline_id,
            run_id=run.run_id,
            anchor_root=run.root,
            manifest_cid=run.manifest_cid,
        )
        return minted.token_id


@pytest.fixture
def nft_world(fresh_chain: Devnet) -> Iterator[NftWorld]:
    client = ChainClient(fresh_chain.rpc_url)
    admin = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    stranger = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[1].private_key))
    admin_address = admin.signer.address
    registry = admin.deploy("RunRegistry", admin_address, admin_address)
    nft_contract = admin.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin_address, registry.address)
    versions_contract = admin.deploy("ModelVersions", nft_contract.address, registry.address)
    nft = ModelNFTClient(client, nft_contract.address, admin)
    nft.grant_minter(admin_address)
    world = NftWorld(
        devnet=fresh_chain,
        client=client,
        admin=admin,
        stranger=stranger,
        registry_address=registry.address,
        nft=nft,
        versions=ModelVersionsClient(client, versions_contract.address, admin),
        senders=[admin, stranger],
    )
    try:
        yield world
    finally:
        for sender in world.senders:
            sender.close()


@pytest.fixture
def anchored(nft_world: NftWorld, tmp_path) -> AnchoredManifests:
    blocks = EmbeddedBlockstore(tmp_path / "blocks")
    registry = RunRegistryClient(nft_world.client, nft_world.registry_address, nft_world.admin)
    return AnchoredManifests(AnchoredRunReader(registry, blocks, ANCHORED_PIPELINE), registry, blocks)
