"""The chain the service tests index: the real contracts on anvil, with two models.

- RunRegistry with two anchored runs whose manifests are on the embedded IPFS blockstore — the first anchored with
  its manifest's Merkle root, the second with a wrong root; ModelNFT checking anchors against it;
- model 1: metadata JSON on an embedded IPFS blockstore (``ipfs://<cid>`` token URI), registered as a Story IP with
  zero-fee commercial terms attached, listed on ModelMarketplace at 49.99 USD (MockV3Aggregator ETH/USD feed); its
  weights are an encrypted envelope whose data key the service's key store holds;
- model 2: minted from a second anchored run of the same pipeline, not registered, not listed;
- a ModelVersions family "mnist-cnn" with model 2 as version 1 and model 1 as version 2 (lineage).

Accounts: 0 = deployer/seller, 1 = buyer, 2 = stranger.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak

from anacostia_blockchain.chain.client import ChainClient
from anacostia_blockchain.chain.deploy import DeploymentManifest
from anacostia_blockchain.chain.devnet import Devnet
from anacostia_blockchain.chain.marketplace import MarketplaceClient
from anacostia_blockchain.chain.model_nft import ModelNFTClient
from anacostia_blockchain.chain.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.price_feed import usd_units
from anacostia_blockchain.chain.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.signer import LocalSigner
from anacostia_blockchain.chain.story import StoryAddresses, StoryClient
from anacostia_blockchain.chain.story_devnet import deploy_story_suite
from anacostia_blockchain.chain.story_terms import commercial_use
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.crypto import DataKey, encrypt_bytes
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid
from anacostia_blockchain.metadata.manifest import RunManifest

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
    encrypted_model: bytes
    merkle_root: bytes
    manifest_cid: str
    plain_manifest_cid: str
    data_key_hex: str
    deploy_block: int
    family_id: int


def sender_for(client: ChainClient, devnet: Devnet, index: int) -> TxSender:
    return TxSender(client, LocalSigner.from_key(devnet.accounts[index].private_key))


def build_world(devnet: Devnet, ipfs: EmbeddedBlockstore, workdir: Path) -> WorldSetup:
    client = ChainClient(devnet.rpc_url)
    seller = sender_for(client, devnet, 0)
    try:
        admin = seller.signer.address
        deploy_block = client.block_number()
        manifest = RunManifest.from_export(PIPELINE_NAME, RUN_ID, {"notes": ["trained a CNN on MNIST"]})
        manifest_cid = str(ipfs.add_bytes(manifest.to_bytes(), cid_version=1).cid)
        merkle_root = manifest.root
        plain_manifest = RunManifest.from_export(PIPELINE_NAME, PLAIN_RUN_ID, {"notes": ["second run"]})
        plain_manifest_cid = str(ipfs.add_bytes(plain_manifest.to_bytes(), cid_version=1).cid)
        manifest = DeploymentManifest.load(workdir, client.chain_id)
        story = deploy_story_suite(seller, manifest)
        registry = seller.deploy("RunRegistry", admin, admin)
        RunRegistryClient(client, registry.address, seller).anchor_runs([
            AnchorRequest(PIPELINE_ID, RUN_ID, merkle_root, manifest_cid),
            AnchorRequest(PIPELINE_ID, PLAIN_RUN_ID, PLAIN_MERKLE_ROOT, plain_manifest_cid),
        ])
        nft = seller.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, registry.address)
        nft_client = ModelNFTClient(client, nft.address, seller)
        nft_client.grant_minter(admin)

        document = {
            "name": "mnist-cnn",
            "description": "A small CNN trained on MNIST by an Anacostia pipeline.",
            "metrics": {"accuracy": 0.9731, "loss": 0.081},
            "attributes": [{"trait_type": "f1", "value": 0.97}],
        }
        metadata_cid = str(ipfs.add_bytes(json.dumps(document).encode(), cid_version=1).cid)
        listed = nft_client.mint(
            admin, f"ipfs://{metadata_cid}", pipeline_id=PIPELINE_ID, run_id=RUN_ID, anchor_root=merkle_root,
            manifest_cid=manifest_cid,
        ).token_id
        plain = nft_client.mint(
            admin, f"ipfs://{metadata_cid}", pipeline_id=PIPELINE_ID, run_id=PLAIN_RUN_ID,
            anchor_root=PLAIN_MERKLE_ROOT, manifest_cid=plain_manifest_cid,
        ).token_id
        versions = seller.deploy("ModelVersions", nft.address, registry.address)
        versions_client = ModelVersionsClient(client, versions.address, seller)
        family = versions_client.create_family("mnist-cnn")
        versions_client.add_version(family, plain)  # version 1: the earlier model
        versions_client.add_version(family, listed)  # version 2
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
