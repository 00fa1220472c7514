"""The chain the service tests index: the real contracts on anvil, with two models.

- RunRegistry with two anchored runs whose manifests (with logged metrics and params) are on the embedded IPFS
  blockstore — the first anchored with its manifest's Merkle root, the second with a wrong root; ModelNFT checking
  anchors against it;
- each model's NFT metadata is written by the project's own writer (``actions.model_metadata``) from its anchored run,
  so metrics are exact decimal strings under ``properties.metrics``, as a pipeline publishes them;
- model 1: ``ipfs://<cid>`` token URI of its metadata, registered as a Story IP with zero-fee commercial terms
  attached, listed on ModelMarketplace at 49.99 USD (MockV3Aggregator ETH/USD feed); its weights are an encrypted
  envelope whose data key the service's key store holds; its ``f1`` has more digits than a double holds;
- model 2: minted from a second anchored run of the same pipeline, not registered, not listed;
- a ModelVersions family "mnist-cnn" with model 2 as version 1 and model 1 as version 2 (lineage), version 2 promoted
  to "production" through the family's accuracy gate with a Merkle proof of its anchored metric.

Accounts: 0 = deployer/seller, 1 = buyer, 2 = stranger.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from eth_utils import keccak

from anacostia_blockchain.actions.anchored_run import VerifiedRun
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions, build_model_metadata, metadata_bytes
from anacostia_blockchain.anchoring import RunManifest
from anacostia_blockchain.chain import (
    ChainClient,
    DeploymentManifest,
    Devnet,
    LocalSigner,
    MarketplaceClient,
    ModelNFTClient,
    ModelVersionsClient,
    RunRegistryClient,
    TxSender,
)
from anacostia_blockchain.chain.contracts import AnchorRequest, scale_metric, usd_units
from anacostia_blockchain.chain.dev import deploy_story_suite
from anacostia_blockchain.chain.story import StoryAddresses, StoryClient, commercial_use
from anacostia_blockchain.crypto import DataKey, encrypt_bytes
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid

ETH_USD_8 = 2_000_00000000  # 2000 USD per ETH, 8 decimals
HEARTBEAT = 3600
LIST_PRICE = usd_units("49.99")
PIPELINE_NAME = "mnist-training"
PIPELINE_ID = keccak(text=PIPELINE_NAME)
RUN_ID = 7
PLAIN_RUN_ID = 8
#: The second run is anchored with a root its manifest does not recompute to (what tampering looks like).
PLAIN_MERKLE_ROOT = keccak(text="not the root of the second run's manifest")
MODEL_WEIGHTS = b"weights of a very small model " * 100
MODEL_NAME = "mnist-cnn"
PRODUCTION = "production"
#: What each run logged; ``f1`` of the first run is not representable as a double (it rounds to 0.97).
RUN_METRICS: dict[int, dict[str, Decimal]] = {
    RUN_ID: {"accuracy": Decimal("0.9731"), "loss": Decimal("0.081"), "f1": Decimal("0.970000000000000001")},
    PLAIN_RUN_ID: {"accuracy": Decimal("0.9512"), "loss": Decimal("0.12"), "f1": Decimal("0.97")},
}


@dataclass(frozen=True)
class WorldSetup:
    """Addresses and ids of the deployed world (stable across snapshot/revert)."""

    addresses: dict[str, str]
    story: StoryAddresses
    feed: str
    listed_token: int
    plain_token: int
    ip_id: str
    terms_id: int
    metadata_cid: str
    plain_metadata_cid: str
    encrypted_model: bytes
    merkle_root: bytes
    manifest_cid: str
    plain_manifest_cid: str
    data_key_hex: str
    deploy_block: int
    family_id: int


def sender_for(client: ChainClient, devnet: Devnet, index: int) -> TxSender:
    return TxSender(client, LocalSigner.from_key(devnet.accounts[index].private_key))


def run_export(run_id: int) -> dict[str, object]:
    """What the metadata store exports for a run of the world (the input of its manifest)."""
    return {
        "run": {"id": run_id, "status": "success"},
        "metrics": [{"key": name, "value": value, "step": 0} for name, value in RUN_METRICS[run_id].items()],
        "params": {"epochs": 5, "learning_rate": 0.001},
        "notes": ["trained a CNN on MNIST" if run_id == RUN_ID else "second run"],
    }


def publish_metadata(ipfs: EmbeddedBlockstore, registry: RunRegistryClient, manifest: RunManifest) -> str:
    """The run's NFT metadata as the publishing pipeline writes it, stored on ``ipfs``; returns its CID."""
    anchor = registry.anchor_record(PIPELINE_ID, manifest.run_id)
    assert anchor is not None
    run = VerifiedRun(pipeline=PIPELINE_NAME, run_id=manifest.run_id, anchor=anchor, manifest=manifest)
    options = ModelMetadataOptions(MODEL_NAME, description="A small CNN trained on MNIST by an Anacostia pipeline.")
    return str(ipfs.add_bytes(metadata_bytes(build_model_metadata(run, options)), cid_version=1).cid)


def build_world(devnet: Devnet, ipfs: EmbeddedBlockstore, workdir: Path) -> WorldSetup:
    client = ChainClient(devnet.rpc_url)
    seller = sender_for(client, devnet, 0)
    try:
        admin = seller.signer.address
        deploy_block = client.block_number()
        run_manifest = RunManifest.from_export(PIPELINE_NAME, RUN_ID, run_export(RUN_ID))
        manifest_cid = str(ipfs.add_bytes(run_manifest.to_bytes(), cid_version=1).cid)
        merkle_root = run_manifest.root
        plain_manifest = RunManifest.from_export(PIPELINE_NAME, PLAIN_RUN_ID, run_export(PLAIN_RUN_ID))
        plain_manifest_cid = str(ipfs.add_bytes(plain_manifest.to_bytes(), cid_version=1).cid)
        manifest = DeploymentManifest.load(workdir, client.chain_id)
        story = deploy_story_suite(seller, manifest)
        registry = seller.deploy("RunRegistry", admin, admin)
        registry_client = RunRegistryClient(client, registry.address, seller)
        registry_client.anchor_runs([
            AnchorRequest(PIPELINE_ID, RUN_ID, merkle_root, manifest_cid),
            AnchorRequest(PIPELINE_ID, PLAIN_RUN_ID, PLAIN_MERKLE_ROOT, plain_manifest_cid),
        ])
        nft = seller.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, registry.address)
        nft_client = ModelNFTClient(client, nft.address, seller)
        nft_client.grant_minter(admin)

        metadata_cid = publish_metadata(ipfs, registry_client, run_manifest)
        plain_metadata_cid = publish_metadata(ipfs, registry_client, plain_manifest)
        listed = nft_client.mint(
            admin, f"ipfs://{metadata_cid}", pipeline_id=PIPELINE_ID, run_id=RUN_ID, anchor_root=merkle_root,
            manifest_cid=manifest_cid,
        ).token_id
        plain = nft_client.mint(
            admin, f"ipfs://{plain_metadata_cid}", pipeline_id=PIPELINE_ID, run_id=PLAIN_RUN_ID,
            anchor_root=PLAIN_MERKLE_ROOT, manifest_cid=plain_manifest_cid,
        ).token_id
        versions = seller.deploy("ModelVersions", nft.address, registry.address)
        versions_client = ModelVersionsClient(client, versions.address, seller)
        family = versions_client.create_family(MODEL_NAME)
        versions_client.add_version(family, plain)  # version 1: the earlier model
        versions_client.add_version(family, listed)  # version 2
        # version 2 proves its accuracy against the anchored run and enters "production"
        versions_client.set_gate(family, PRODUCTION, "accuracy", scale_metric(Decimal("0.95")), higher_is_better=True)
        anchor = registry_client.anchor_record(PIPELINE_ID, RUN_ID)
        assert anchor is not None
        accuracy = VerifiedRun(PIPELINE_NAME, RUN_ID, anchor, run_manifest).metric("accuracy")
        versions_client.promote(family, 2, PRODUCTION, "accuracy", accuracy.value, accuracy.step, accuracy.proof)
        story_client = StoryClient(client, seller, story)
        ip_id = story_client.register_ip(nft.address, listed).ip_id
        terms = story_client.register_pil_terms(commercial_use(minting_fee=0, currency=story.test_currency))
        story_client.attach_terms(ip_id, terms.license_terms_id)
        feed = seller.deploy("MockV3Aggregator", 8, ETH_USD_8)
        market = seller.deploy(
            "ModelMarketplace", admin, nft.address, story.ip_asset_registry, story.licensing_module,
            story.pil_license_template, feed.address, HEARTBEAT,
        )
        MarketplaceClient(client, market.address, seller).list_model(listed, LIST_PRICE, terms.license_terms_id)

        data_key = DataKey.generate()
        encrypted = encrypt_bytes(MODEL_WEIGHTS, data_key, plaintext_cid=compute_cid(MODEL_WEIGHTS, cid_version=1))
        addresses = {
            "ModelNFT": nft.address,
            "ModelMarketplace": market.address,
            "RunRegistry": registry.address,
            "IPAssetRegistry": story.ip_asset_registry,
            "LicensingModule": story.licensing_module,
            "LicenseToken": story.license_token,
            "ModelVersions": versions.address,
        }
        return WorldSetup(
            addresses=addresses,
            story=story,
            feed=feed.address,
            listed_token=listed,
            plain_token=plain,
            ip_id=ip_id,
            terms_id=terms.license_terms_id,
            metadata_cid=metadata_cid,
            plain_metadata_cid=plain_metadata_cid,
            encrypted_model=encrypted,
            merkle_root=merkle_root,
            manifest_cid=manifest_cid,
            plain_manifest_cid=plain_manifest_cid,
            data_key_hex=data_key.secret_bytes().hex(),
            deploy_block=deploy_block,
            family_id=family,
        )
    finally:
        seller.close()
