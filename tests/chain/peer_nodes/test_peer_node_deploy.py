"""Deploying on anvil, Hardhat Network and Ganache: the full plan (on Ganache, our contracts from the Shanghai set and
the Cancun-only Story suite skipped with its reason), canonical addresses, the EVM build target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner, TxSender
from anacostia_blockchain.chain.abi import load_artifact
from anacostia_blockchain.chain.contracts import DeploymentManifest
from anacostia_blockchain.chain.dev import DEPLOY_PLAN, STORY_DEPLOY_PLAN, DevNode, GanacheNode
from anacostia_blockchain.chain.dev.placement import CREATE2_DEPLOYER, create2_address, place_contract
from anacostia_blockchain.chain.dev.story_devnet import ERC6551_REGISTRY_SALT, deploy_story_suite, place_story_suite
from anacostia_blockchain.chain.rpc import NodeKind
from anacostia_blockchain.chain.story.addresses import ERC6551_REGISTRY
from anacostia_blockchain.chain.tx import artifact_for, evm_target
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.errors import ChainError, CodePlacementError, UnsupportedEvmError

from .conftest import probe_for

pytestmark = pytest.mark.xdist_group("peer_nodes")

SET_CODE = {
    NodeKind.ANVIL: "anvil_setCode",
    NodeKind.HARDHAT: "hardhat_setCode",
    NodeKind.GANACHE: "evm_setAccountCode",
}
EVM = {NodeKind.ANVIL: "cancun", NodeKind.HARDHAT: "cancun", NodeKind.GANACHE: "shanghai"}


def test_node_kind_and_evm_version_are_detected(peer: DevNode, peer_client: ChainClient) -> None:
    assert peer_client.node_kind is peer.kind
    assert peer_client.evm_version == EVM[peer.kind] == evm_target(peer_client)


def test_the_full_deploy_plan_runs_through_the_cli_and_reruns_as_reused(
    peer: DevNode, peer_client: ChainClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", peer.accounts[0].private_key)
    monkeypatch.setenv("ANACOSTIA_RPC_URL", peer.rpc_url)  # no --rpc-url: the variable is enough
    argv = ["deploy", "--manifest", str(tmp_path), "--json"]
    # Story's AccessController keeps permissions in transient storage (Cancun): on Ganache's Shanghai EVM the plan
    # deploys our contracts from the Shanghai set and skips the Story suite, and the marketplace that sells its
    # licenses, each with the reason.
    skips = {e.name for e in STORY_DEPLOY_PLAN} | {"ModelMarketplace"} if peer.kind is NodeKind.GANACHE else set()
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first["contracts"]) == {entry.name for entry in DEPLOY_PLAN}
    skipped = {name: c for name, c in first["contracts"].items() if c["status"] == "skipped"}
    assert set(skipped) == skips
    for name, entry in skipped.items():
        reason = entry["reason"]
        assert "the Story suite needs a Cancun EVM and chain 1337 runs shanghai" in reason, (name, reason)
        assert "AccessController uses TLOAD, TSTORE (transient storage" in reason and "\n" not in reason
        assert entry["address"] is None
    assert {c["status"] for name, c in first["contracts"].items() if name not in skips} == {"deployed"}
    manifest = DeploymentManifest.load(tmp_path, peer.chain_id)
    assert set(manifest.names()) == {entry.name for entry in DEPLOY_PLAN} - skips
    for name in manifest.names():
        record = manifest.entry(name)
        assert peer_client.get_code(record.address), name
        assert record.artifact_hash == artifact_for(peer_client, name).artifact_hash  # the set this EVM runs
    assert bool(peer_client.get_code(ERC6551_REGISTRY)) is not bool(skips)  # placed at its canonical address
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert {name for name, c in again["contracts"].items() if c["status"] == "skipped"} == skips
    assert {c["status"] for name, c in again["contracts"].items() if name not in skips} == {"reused"}
    if skips:  # named explicitly, a contract this chain cannot run is an error, not a skip
        assert main(["deploy", "--manifest", str(tmp_path), "--contracts", "RunRegistry,AccessController"]) == 1
        error = capsys.readouterr().err.strip()
        assert error.startswith("error: the Story suite needs a Cancun EVM") and "TSTORE" in error
        assert "\n" not in error and "Traceback" not in error


def test_placement_uses_the_nodes_own_set_code_method(
    peer: DevNode, peer_client: ChainClient, peer_sender: TxSender
) -> None:
    runtime = bytes.fromhex(probe_for(peer_client).deployed_bytecode[2:])
    target = LocalSigner.from_key(os.urandom(32)).address
    assert place_contract(peer_sender, "ChainProbe", target, runtime) == SET_CODE[peer.kind]
    assert peer_client.get_code(target) == runtime


def test_create2_placement_through_the_deployment_proxy_or_an_error_naming_the_contract(
    peer: DevNode, peer_client: ChainClient, peer_sender: TxSender
) -> None:
    artifact = probe_for(peer_client)
    init_code = bytes.fromhex(artifact.bytecode[2:]) + (5).to_bytes(32, "big")
    salt = keccak(text=f"probe {peer.kind.value}")
    target = create2_address(init_code, salt)
    if peer_client.get_code(CREATE2_DEPLOYER):  # anvil pre-deploys the proxy
        assert place_contract(peer_sender, "ChainProbe", target, b"", init_code=init_code, salt=salt, ways=("create2",))
        placed = Contract.from_artifact(peer_client, artifact, target)
        assert placed.call("owner") == CREATE2_DEPLOYER and placed.call("total") == 5  # built by the proxy
        return
    with pytest.raises(CodePlacementError) as info:
        place_contract(peer_sender, "ChainProbe", target, b"", init_code=init_code, salt=salt, ways=("create2",))
    assert info.value.contract == "ChainProbe" and info.value.address == target
    assert f"cannot place ChainProbe at its canonical address {target}" in str(info.value)
    assert "no deterministic deployment proxy" in str(info.value)


def test_the_erc6551_registry_cannot_be_created2_from_this_build_and_the_error_says_so(
    peer_client: ChainClient, peer_sender: TxSender
) -> None:
    init_code = bytes.fromhex(artifact_for(peer_client, "ERC6551Registry").bytecode[2:])
    with pytest.raises(CodePlacementError, match="cannot place ERC6551Registry at its canonical address") as info:
        place_contract(
            peer_sender, "ERC6551Registry", ERC6551_REGISTRY, b"", init_code=init_code, salt=ERC6551_REGISTRY_SALT,
            ways=("create2",),
        )  # fmt: skip
    assert "lands at" in str(info.value) or "no deterministic deployment proxy" in str(info.value)


def test_ganache_cannot_run_the_cancun_build_and_gets_the_shanghai_one(ganache_node: GanacheNode) -> None:
    client = ChainClient(ganache_node.rpc_url)
    snapshot = ganache_node.snapshot()
    try:
        with TxSender(client, LocalSigner.from_key(ganache_node.accounts[0].private_key)) as sender:
            cancun = load_artifact("ModelNFT")
            with pytest.raises(ChainError):  # MCOPY is an invalid opcode before Cancun
                sender.deploy(cancun, "Models", "M", sender.signer.address, sender.signer.address)
            deployed = sender.deploy("ModelNFT", "Models", "M", sender.signer.address, sender.signer.address)
            assert deployed.call("name") == "Models"
            assert artifact_for(client, "ModelNFT").bytecode == load_artifact("ModelNFT", "shanghai").bytecode
            block = client.block_number()
            with pytest.raises(UnsupportedEvmError) as info:
                sender.deploy("AccessController")
            assert client.block_number() == block  # refused before anything was sent
            error = info.value
            assert (error.contracts, error.required, error.available) == (("AccessController",), "cancun", "shanghai")
            assert error.opcodes == ("TLOAD", "TSTORE")
            assert str(error).startswith("AccessController needs a Cancun EVM and chain 1337 runs shanghai")
    finally:
        ganache_node.revert(snapshot)


def test_the_story_suite_is_refused_whole_on_ganache_before_anything_is_sent(
    ganache_node: GanacheNode, tmp_path: Path
) -> None:
    client = ChainClient(ganache_node.rpc_url)
    signer = LocalSigner.from_key(ganache_node.accounts[0].private_key)
    nonce = client.nonce(signer.address)
    with TxSender(client, signer) as sender:
        for attempt in (
            lambda: deploy_story_suite(sender, DeploymentManifest.load(tmp_path, client.chain_id)),
            lambda: place_story_suite(sender),
        ):
            with pytest.raises(UnsupportedEvmError, match=r"^the Story suite needs a Cancun EVM") as info:
                attempt()
            assert set(info.value.contracts) == {"AccessController", "IPAccountImpl"}
            assert info.value.opcodes == ("MCOPY", "TLOAD", "TSTORE")
    assert client.nonce(signer.address) == nonce


@pytest.mark.slow
def test_a_chain_older_than_shanghai_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with GanacheNode(hardfork="london") as london:
        client = ChainClient(london.rpc_url)
        assert client.evm_version == "paris"
        signer = LocalSigner.from_key(london.accounts[0].private_key)
        with TxSender(client, signer) as sender, pytest.raises(UnsupportedEvmError, match="older than Shanghai"):
            sender.deploy("RunRegistry", signer.address, signer.address)
        assert client.nonce(signer.address) == 0
