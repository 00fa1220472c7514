"""Fixtures of the marketplace contract tests (see marketplace_world.py for the world they build).

Deploying the Story suite is the slow part, so it happens once per module (inside its own snapshot); every test then
runs in a further snapshot that is reverted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from marketplace_world import (
    ETH_USD_8,
    HEARTBEAT,
    LIST_PRICE,
    TEST_CONTRACTS,
    ZERO,
    MarketSetup,
    MarketWorld,
    make_sender,
)

from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.dev.compiler import compile_sources
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.dev.story_devnet import deploy_story_suite
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use


@pytest.fixture(scope="module")
def market_setup(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarketSetup]:
    outer = devnet.snapshot()
    client = ChainClient(devnet.rpc_url)
    seller = make_sender(client, devnet, 0)
    try:
        admin = seller.signer.address
        manifest = DeploymentManifest.load(Path(tmp_path_factory.mktemp("deployments")), client.chain_id)
        story_addresses = deploy_story_suite(seller, manifest)
        nft = seller.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, ZERO)
        nft_client = ModelNFTClient(client, nft.address, seller)
        nft_client.grant_minter(admin)
        token_id = nft_client.mint(
            admin, "ipfs://bafkreimodel", pipeline_id=b"\x01" * 32, run_id=1, anchor_root=b"\x02" * 32,
            manifest_cid="bafkreimanifest",
        ).token_id
        story = StoryClient(client, seller, story_addresses)
        ip_id = story.register_ip(nft.address, token_id).ip_id
        terms_id = story.register_pil_terms(commercial_use(minting_fee=0, currency=story_addresses.test_currency))
        story.attach_terms(ip_id, terms_id.license_terms_id)
        feed = seller.deploy("MockV3Aggregator", 8, ETH_USD_8)
        market = seller.deploy(
            "ModelMarketplace", admin, nft.address, story_addresses.ip_asset_registry,
            story_addresses.licensing_module, story_addresses.pil_license_template, feed.address, HEARTBEAT,
        )
        MarketplaceClient(client, market.address, seller).list_model(token_id, LIST_PRICE, terms_id.license_terms_id)
        yield MarketSetup(nft.address, feed.address, market.address, story_addresses, token_id, ip_id,
                          terms_id.license_terms_id)
    finally:
        seller.close()
        devnet.revert(outer)


@pytest.fixture
def market(devnet: Devnet, market_setup: MarketSetup) -> Iterator[MarketWorld]:
    snapshot = devnet.snapshot()
    client = ChainClient(devnet.rpc_url)
    senders = [make_sender(client, devnet, i) for i in range(4)]
    try:
        yield MarketWorld(devnet, client, market_setup, *senders)
    finally:
        for sender in senders:
            sender.close()
        devnet.revert(snapshot)


@pytest.fixture(scope="session")
def test_artifacts() -> dict[str, ContractArtifact]:
    """Tests-only contracts (tests/nft/contracts), compiled in memory: they are never shipped."""
    return compile_sources(sorted(TEST_CONTRACTS.glob("*.sol")))
