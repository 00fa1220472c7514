"""The marketplace a buyer meets, built the way the publishing pipeline builds it, on the real contracts on anvil.

- every contract of the deploy plan (``deploy_all``) recorded in a deployment manifest directory;
- a run anchored in ``RunRegistry``; the model's bytes encrypted into an envelope (data key wrapped for the seller)
  and added to an embedded IPFS blockstore; NFT metadata whose ``properties.model_cids`` names that envelope;
- model 1: minted, registered as a Story IP with zero-fee commercial terms, listed at 12.50 USD;
- model 2: the same, but its envelope's header promises a plaintext CID its content does not have (a lying seller).

Accounts: 0 = seller/deployer, 1 = buyer, 2 = another buyer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from eth_utils import keccak

from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.price_feed import usd_units
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.crypto import DataKey, encrypt_bytes, public_key_for_private_key
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid

PIPELINE_ID = keccak(text="digits-classifier")
MANIFEST_CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
PRICE = usd_units("12.50")
MODEL = json.dumps({"format": "anacostia/logreg-json@1", "coef": [[0.25, -1.5]], "intercept": [0.1]}).encode()


@dataclass(frozen=True)
class Listed:
    token_id: int
    model_cid: str
    data_key_hex: str


@dataclass(frozen=True)
class BuyerWorld:
    deployments: Path
    ipfs_path: Path
    marketplace: str
    license_token: str
    honest: Listed
    lying: Listed


def _publish(seller: TxSender, client: ChainClient, manifest: DeploymentManifest, ipfs: EmbeddedBlockstore,
             operator: bytes, run_id: int, claimed_cid: str) -> Listed:
    admin = seller.signer.address
    root = keccak(text=f"root of run {run_id}")
    RunRegistryClient(client, manifest.address("RunRegistry"), seller).anchor_runs(
        [AnchorRequest(PIPELINE_ID, run_id, root, MANIFEST_CID)]
    )
    data_key = DataKey.generate()
    envelope = encrypt_bytes(MODEL, data_key, plaintext_cid=claimed_cid, recipient_public_keys=[operator])
    model_cid = str(ipfs.add_bytes(envelope).cid)
    document = {"name": f"digits-logreg-run-{run_id}", "properties": {"run_id": run_id, "model_cids": [model_cid]}}
    metadata_cid = str(ipfs.add_bytes(json.dumps(document).encode(), cid_version=1).cid)
    nft = ModelNFTClient(client, manifest.address("ModelNFT"), seller)
    token_id = nft.mint(admin, f"ipfs://{metadata_cid}", pipeline_id=PIPELINE_ID, run_id=run_id, anchor_root=root,
                        manifest_cid=MANIFEST_CID).token_id
    story = StoryClient.from_manifest(client, seller, manifest)
    ip_id = story.register_ip(manifest.address("ModelNFT"), token_id).ip_id
    terms = story.register_pil_terms(commercial_use(minting_fee=0, currency=manifest.address("MockERC20")))
    story.attach_terms(ip_id, terms.license_terms_id)
    MarketplaceClient(client, manifest.address("ModelMarketplace"), seller).list_model(
        token_id, PRICE, terms.license_terms_id
    )
    return Listed(token_id, model_cid, data_key.secret_bytes().hex())


def build_buyer_world(devnet: Devnet, workdir: Path) -> BuyerWorld:
    client = ChainClient(devnet.rpc_url)
    deployments = workdir / "deployments"
    ipfs = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
    manifest = DeploymentManifest.load(deployments, client.chain_id)
    operator = public_key_for_private_key(bytes.fromhex(devnet.accounts[0].private_key.removeprefix("0x")))
    with TxSender(client, LocalSigner.from_key(devnet.accounts[0].private_key)) as seller:
        deploy_all(seller, manifest)
        honest = _publish(seller, client, manifest, ipfs, operator, 1, compute_cid(MODEL))
        lying = _publish(seller, client, manifest, ipfs, operator, 2, compute_cid(MODEL + b" "))
    return BuyerWorld(deployments, workdir / "ipfs", manifest.address("ModelMarketplace"),
                      manifest.address("LicenseToken"), honest, lying)
