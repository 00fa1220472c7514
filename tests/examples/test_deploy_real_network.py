"""examples/deploy_real_network.py against anvil with real-network settings: chain id 1315 with the Story suite at
Story Aeneid's published addresses, a Chainlink-style ETH/USD feed already on chain, a keystore and its password in
the environment. The script must target those contracts (not deploy its own) and be idempotent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from example_loader import load_example

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.dev.story_devnet import place_story_suite_on_devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import AENEID_CHAIN_ID, addresses_for_chain
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner

example = load_example("deploy_real_network")
PASSWORD = "correct horse battery staple"
ETH_USD = 3_141_59000000  # 3141.59 USD, 8 decimals


@pytest.fixture(scope="module")
def aeneid_like() -> Iterator[tuple[Devnet, str]]:
    """Anvil as chain 1315 with Story where Aeneid has it and an ETH/USD feed deployed by someone else."""
    with Devnet(chain_id=AENEID_CHAIN_ID) as devnet:
        place_story_suite_on_devnet(devnet)
        client = ChainClient(devnet.rpc_url)
        with TxSender(client, LocalSigner.from_key(devnet.accounts[0].private_key)) as chainlink:
            feed = chainlink.deploy("MockV3Aggregator", 8, ETH_USD)
        yield devnet, feed.address


@pytest.fixture
def chain(aeneid_like: tuple[Devnet, str]) -> Iterator[tuple[Devnet, str]]:
    devnet, feed = aeneid_like
    snapshot = devnet.snapshot()
    try:
        yield devnet, feed
    finally:
        devnet.revert(snapshot)


@pytest.fixture
def keystore(tmp_path: Path, aeneid_like: tuple[Devnet, str]) -> Path:
    signer = LocalSigner.from_key(aeneid_like[0].accounts[1].private_key)
    return signer.write_keystore(tmp_path / "deployer.json", PASSWORD, kdf="pbkdf2", iterations=2)


def write_config(tmp_path: Path, devnet: Devnet, keystore: Path, feed: str, **story: str) -> Path:
    story_table = "\n".join(f'{k} = "{v}"' for k, v in (story or {"use": "network"}).items())
    config = tmp_path / "network.toml"
    config.write_text(
        f'rpc_url = "{devnet.rpc_url}"\nchain_id = {AENEID_CHAIN_ID}\nkeystore = "{keystore}"\n'
        f'manifest_dir = "{tmp_path / "deployments"}"\n\n[story]\n{story_table}\n\n'
        f'[chainlink]\neth_usd_feed = "{feed}"\nheartbeat = 86400\n'
    )
    return config


def test_targets_story_and_the_feed_deploys_the_rest_and_is_idempotent(chain, keystore: Path, tmp_path: Path,
                                                                        capsys) -> None:
    devnet, feed = chain
    config = write_config(tmp_path, devnet, keystore, feed)
    env = {"ANACOSTIA_KEYSTORE_PASSWORD": PASSWORD}
    assert example.main(["--config", str(config), "--json"], env=env) == 0
    out = capsys.readouterr().out
    report = json.loads(out)
    deployer = devnet.accounts[1]
    assert report["chainId"] == AENEID_CHAIN_ID and report["deployer"] == deployer.address
    assert set(report["contracts"]) == {"RunRegistry", "ModelNFT", "ModelVersions", "ModelMarketplace"}
    assert {c["status"] for c in report["contracts"].values()} == {"deployed"}

    story = addresses_for_chain(AENEID_CHAIN_ID)
    client = ChainClient(devnet.rpc_url)
    market = Contract.at(client, "ModelMarketplace", report["contracts"]["ModelMarketplace"]["address"])
    assert market.call("ipAssetRegistry") == story.ip_asset_registry
    assert market.call("licensingModule") == story.licensing_module
    assert market.call("licenseTemplate") == story.pil_license_template
    assert market.call("feedConfig")[0].lower() == feed.lower() and market.call("ethUsdPrice")[0] == ETH_USD
    nft = Contract.at(client, "ModelNFT", report["contracts"]["ModelNFT"]["address"])
    minter_role = nft.call("MINTER_ROLE")
    assert nft.call("hasRole", minter_role, deployer.address)
    assert report["ethUsdFeed"] == {"source": "configured", "address": feed, "price": "3141.59",
                                    "updatedAt": report["ethUsdFeed"]["updatedAt"]}
    manifest = json.loads((tmp_path / "deployments" / f"{AENEID_CHAIN_ID}.json").read_text())
    assert set(manifest["contracts"]) == set(report["contracts"])  # no mock feed, no Story suite of its own
    assert deployer.private_key[2:] not in out and PASSWORD not in out

    assert example.main(["--config", str(config)], env=env) == 0
    text = capsys.readouterr().out
    assert text.count(" reused ") == 4 and "deployed" not in text.split("Story")[0]
    assert f"ETH/USD feed (configured): {feed} = 3141.59 USD" in text


def test_explicit_story_addresses_and_the_environment_override_the_file(chain, keystore: Path, tmp_path: Path,
                                                                         capsys) -> None:
    devnet, feed = chain
    story = addresses_for_chain(AENEID_CHAIN_ID)
    config = write_config(tmp_path, devnet, keystore, "0x" + "00" * 20, **{
        k: v for k, v in story.as_dict().items()})
    env = {"ANACOSTIA_KEYSTORE_PASSWORD": PASSWORD, "ANACOSTIA_ETH_USD_FEED": feed,
           "ANACOSTIA_DEPLOYMENTS": str(tmp_path / "elsewhere")}
    assert example.main(["--config", str(config), "--json"], env=env) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ethUsdFeed"]["address"] == feed and report["story"]["source"] == "configured"
    assert Path(report["manifest"]).parent == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": "31337"}, "connected to chain id 1315, expected 31337"),
        ({"feed": "0x" + "12" * 20}, "no contract code at 0x1212121212121212121212121212121212121212"),
        ({"password": "hunter2-not-it"}, "wrong password for keystore"),
        ({"password": None}, "ANACOSTIA_KEYSTORE_PASSWORD"),
        ({"story": {"ip_asset_registry": "0x" + "34" * 20}},
         "[story] addresses: missing licensing_module, pil_license_template"),
    ],
    ids=["wrong-chain", "feed-without-code", "wrong-password", "no-password", "incomplete-story"],
)
def test_refuses_before_spending_gas(chain, keystore: Path, tmp_path: Path, capsys, change: dict,
                                     message: str) -> None:
    devnet, feed = chain
    config = write_config(tmp_path, devnet, keystore, change.get("feed", feed), **change.get("story", {}))
    if "chain_id" in change:
        text = config.read_text().replace(f"chain_id = {AENEID_CHAIN_ID}", f"chain_id = {change['chain_id']}")
        config.write_text(text)
    env = {} if change.get("password", PASSWORD) is None else {
        "ANACOSTIA_KEYSTORE_PASSWORD": change.get("password", PASSWORD)}
    client = ChainClient(devnet.rpc_url)
    nonce = client.w3.eth.get_transaction_count(devnet.accounts[1].address)
    assert example.main(["--config", str(config)], env=env) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1 and message in captured.err
    assert PASSWORD not in captured.err and "hunter2" not in captured.err
    assert client.w3.eth.get_transaction_count(devnet.accounts[1].address) == nonce  # nothing was sent
    assert not (tmp_path / "deployments").exists()


def test_story_and_feed_deployed_on_a_plain_test_chain(fresh_chain: Devnet, tmp_path: Path, capsys) -> None:
    config = tmp_path / "network.json"
    config.write_text(json.dumps({
        "rpc_url": fresh_chain.rpc_url, "chain_id": fresh_chain.chain_id, "manifest_dir": str(tmp_path / "d"),
        "story": {"use": "deploy"}, "chainlink": {"mock": True},
    }))
    env = {"ANACOSTIA_PRIVATE_KEY": fresh_chain.accounts[2].private_key}
    assert example.main(["--config", str(config), "--json"], env=env) == 0
    report = json.loads(capsys.readouterr().out)
    assert {"MockV3Aggregator", "IPAssetRegistry", "LicensingModule", "ModelMarketplace"} <= set(report["contracts"])
    assert report["ethUsdFeed"] == {"source": "deployed mock",
                                    "address": report["contracts"]["MockV3Aggregator"]["address"]}
    assert report["story"]["ip_asset_registry"] == report["contracts"]["IPAssetRegistry"]["address"]


def test_story_network_on_an_unknown_chain_and_a_missing_feed_are_configuration_errors(fresh_chain: Devnet,
                                                                                       tmp_path: Path, capsys) -> None:
    env = {"ANACOSTIA_PRIVATE_KEY": fresh_chain.accounts[2].private_key}
    argv = ["--rpc-url", fresh_chain.rpc_url, "--chain-id", str(fresh_chain.chain_id), "--manifest-dir",
            str(tmp_path)]
    assert example.main(argv, env=env) == 1
    assert "Story Protocol has no published deployment on chain 31337" in capsys.readouterr().err
    config = tmp_path / "c.toml"
    config.write_text('[story]\nuse = "deploy"\n')
    assert example.main([*argv, "--config", str(config)], env=env) == 1
    assert "set chainlink.eth_usd_feed" in capsys.readouterr().err
    assert example.main(["--config", str(config)], env=env) == 1
    assert "set rpc_url and chain_id" in capsys.readouterr().err
