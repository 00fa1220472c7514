"""The deploy plan entries of issue 5 (ModelNFT, ModelVersions, MockV3Aggregator, ModelMarketplace) on anvil."""

from __future__ import annotations

import pytest

from anacostia_blockchain.chain.contracts.marketplace import PRICER_ROLE
from anacostia_blockchain.chain.contracts.model_nft import MINTER_ROLE
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.story_devnet import deploy_story_suite
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner

OURS = ["RunRegistry", "ModelNFT", "ModelVersions", "MockV3Aggregator", "ModelMarketplace"]


@pytest.fixture
def deployer(fresh_chain):
    client = ChainClient(fresh_chain.rpc_url)
    sender = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    yield sender
    sender.close()


def test_plan_wires_contracts_roles_and_is_idempotent(fresh_chain, deployer, tmp_path):
    manifest = DeploymentManifest.load(tmp_path, deployer.client.chain_id)
    story = deploy_story_suite(deployer, manifest)
    minter, pricer = fresh_chain.accounts[5].address, fresh_chain.accounts[6].address
    settings = {"minter": minter, "pricer": pricer, "eth_usd_heartbeat": 7200}
    results = deploy_all(deployer, manifest, only=OURS, settings=settings)
    by_name = {r.contract.name: r.contract for r in results}
    assert set(by_name) == set(OURS)
    nft, versions, market = by_name["ModelNFT"], by_name["ModelVersions"], by_name["ModelMarketplace"]
    assert nft.call("runRegistry") == by_name["RunRegistry"].address
    assert nft.call("hasRole", MINTER_ROLE, minter) is True
    assert versions.call("modelNFT") == nft.address
    assert market.call("modelNFT") == nft.address
    assert market.call("licensingModule") == story.licensing_module
    assert market.call("ipAssetRegistry") == story.ip_asset_registry
    assert market.call("licenseTemplate") == story.pil_license_template
    assert market.call("hasRole", PRICER_ROLE, pricer) is True
    feed, heartbeat, sequencer, grace = market.call("feedConfig")
    assert (feed.lower(), heartbeat, grace) == (by_name["MockV3Aggregator"].address.lower(), 7200, 0)
    assert int(sequencer, 16) == 0
    again = deploy_all(deployer, DeploymentManifest.load(tmp_path, deployer.client.chain_id), only=OURS,
                       settings=settings)
    assert {r.contract.name: r.contract.address for r in again} == {n: c.address for n, c in by_name.items()}
