"""The two deployment layouts of the Story suite and the ``anacostia-chain devnet --story-compat`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.deploy_plan import DEPLOY_PLAN
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.dev.story_devnet import (
    STORY_DEPLOY_PLAN,
    deploy_story_suite,
    place_story_suite_on_devnet,
)
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import (
    ERC6551_REGISTRY,
    STORY_NETWORKS,
    StoryClient,
    addresses_from_manifest,
    ip_id_for,
)
from anacostia_blockchain.chain.story.terms import non_commercial_social_remixing
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import ConfigurationError, NoContractCodeError


def test_manifest_layout_is_idempotent_and_derives_real_erc6551_ids(fresh_chain: Devnet, tmp_path: Path) -> None:
    client = ChainClient(fresh_chain.rpc_url)
    with TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key)) as sender:
        manifest = DeploymentManifest.load(tmp_path, client.chain_id)
        first = deploy_story_suite(sender, manifest)
        block = client.block_number()
        again = deploy_story_suite(sender, DeploymentManifest.load(tmp_path, client.chain_id))
        assert again == first and client.block_number() == block  # nothing re-deployed, nothing re-initialized
        assert first.erc6551_registry == ERC6551_REGISTRY and client.get_code(ERC6551_REGISTRY)
        story = StoryClient.from_manifest(client, sender, DeploymentManifest.load(tmp_path, client.chain_id))
        nft = sender.deploy("MockERC721")
        sender.transact(nft, "mint", sender.signer.address)
        registration = story.register_ip(nft.address, 0)
        expected = ip_id_for(client.chain_id, nft.address, 0, implementation=first.ip_account_impl)
        assert registration.ip_id == expected == story.ip_id_offline(nft.address, 0)
        terms_id = story.register_pil_terms(non_commercial_social_remixing()).license_terms_id
        assert story.attach_terms(registration.ip_id, terms_id).created


def test_placement_refuses_a_chain_that_is_not_aeneid(devnet: Devnet) -> None:
    with pytest.raises(ConfigurationError, match="1315"):
        place_story_suite_on_devnet(devnet)


def _rpc(url: str, method: str, params: list[object]) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


def test_devnet_command_with_story_compat_serves_the_suite_on_chain_1315() -> None:
    command = [sys.executable, "-m", "anacostia_blockchain.cli.main", "devnet", "--story-compat", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ})
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip())
            if line.startswith("Press Ctrl-C"):
                break
        output = "\n".join(lines)
        assert "Press Ctrl-C" in output, output
        url = next(line.split()[-1] for line in lines if line.startswith("RPC URL:"))
        assert int(str(_rpc(url, "eth_chainId", [])), 16) == 1315
        aeneid = STORY_NETWORKS[1315]
        assert aeneid.licensing_module in output and aeneid.ip_asset_registry in output
        for address in (aeneid.ip_asset_registry, aeneid.licensing_module, ERC6551_REGISTRY):
            assert _rpc(url, "eth_getCode", [address, "latest"]) not in (None, "0x")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert process.returncode == 0


def test_the_default_deploy_plan_deploys_and_initializes_the_suite(fresh_chain: Devnet, tmp_path: Path) -> None:
    client = ChainClient(fresh_chain.rpc_url)
    names = [entry.name for entry in STORY_DEPLOY_PLAN]
    assert set(names) <= {entry.name for entry in DEPLOY_PLAN}
    with TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key)) as sender:
        manifest = DeploymentManifest.load(tmp_path, client.chain_id)
        results = deploy_all(sender, manifest, only=names)
        assert [r.status for r in results] == ["deployed"] * len(names)
        addresses = addresses_from_manifest(manifest)
        for name in ("LicenseRegistry", "LicenseToken", "RoyaltyModule"):
            assert Contract.at(client, name, manifest.address(name)).call("initialized")
        royalty = Contract.at(client, "RoyaltyModule", addresses.royalty_module)
        assert royalty.call("isWhitelistedRoyaltyToken", addresses.test_currency)
        role = keccak(text="LICENSING_MODULE_ROLE")
        assert royalty.call("hasRole", role, addresses.licensing_module)
        again = deploy_all(sender, DeploymentManifest.load(tmp_path, client.chain_id), only=names)
        assert [r.status for r in again] == ["reused"] * len(names)


def test_a_client_for_storys_addresses_on_another_chain_fails_fast(devnet: Devnet) -> None:
    client = ChainClient(devnet.rpc_url)
    with pytest.raises(ConfigurationError, match="no published deployment"):
        StoryClient.for_network(client)
    with pytest.raises(NoContractCodeError):
        StoryClient(client, None, STORY_NETWORKS[1315])
