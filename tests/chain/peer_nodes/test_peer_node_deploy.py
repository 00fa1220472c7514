"""Deploying on anvil, Hardhat Network and Ganache: the full plan (on Ganache, every contract from the Shanghai set,
the Story suite included), canonical addresses, the EVM build target."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner, TxSender
from anacostia_blockchain.chain.abi import list_artifacts, load_artifact
from anacostia_blockchain.chain.contracts import DeploymentManifest
from anacostia_blockchain.chain.dev import DEPLOY_PLAN, STORY_DEPLOY_PLAN, DevNode, GanacheNode
from anacostia_blockchain.chain.dev.deploy import deploy_all
from anacostia_blockchain.chain.dev.placement import CREATE2_DEPLOYER, create2_address, place_contract
from anacostia_blockchain.chain.dev.story_devnet import ERC6551_REGISTRY_SALT
from anacostia_blockchain.chain.rpc import NodeKind
from anacostia_blockchain.chain.story.addresses import ERC6551_REGISTRY
from anacostia_blockchain.chain.tx import artifact_for, evm_target
from anacostia_blockchain.chain.tx.evm_target import opcodes_in
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
    # On Ganache's Shanghai EVM every contract, the Story suite included, comes from the Shanghai set.
    assert main(argv) == 0
    first = json.loads(capsys.readouterr().out)
    assert set(first["contracts"]) == {entry.name for entry in DEPLOY_PLAN}
    assert {c["status"] for c in first["contracts"].values()} == {"deployed"}
    manifest = DeploymentManifest.load(tmp_path, peer.chain_id)
    assert set(manifest.names()) == {entry.name for entry in DEPLOY_PLAN}
    assert {entry.name for entry in STORY_DEPLOY_PLAN} <= set(manifest.names())
    for name in manifest.names():
        record = manifest.entry(name)
        assert peer_client.get_code(record.address), name
        assert record.artifact_hash == artifact_for(peer_client, name).artifact_hash  # the set this EVM runs
    assert peer_client.get_code(ERC6551_REGISTRY)  # placed at its canonical address
    assert main(argv) == 0
    again = json.loads(capsys.readouterr().out)
    assert {c["status"] for c in again["contracts"].values()} == {"reused"}


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
            assert "MCOPY" in opcodes_in(bytes.fromhex(cancun.deployed_bytecode[2:]), "cancun")
    finally:
        ganache_node.revert(snapshot)


def test_every_shanghai_build_is_free_of_cancun_instructions_and_the_story_suite_ships_in_it() -> None:
    shanghai = set(list_artifacts("shanghai"))
    assert shanghai == set(list_artifacts())  # nothing is Cancun-only
    assert {"AccessController", "IPAccountImpl"} <= shanghai
    for name in shanghai:
        runtime = bytes.fromhex(load_artifact(name, "shanghai").deployed_bytecode[2:])
        assert opcodes_in(runtime, "cancun") == [], name
    for name in ("AccessController", "IPAccountImpl"):  # the same interface in both sets
        assert load_artifact(name, "shanghai").abi == load_artifact(name).abi, name


@pytest.mark.slow
def test_a_chain_older_than_shanghai_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    with GanacheNode(hardfork="london") as london:
        client = ChainClient(london.rpc_url)
        assert client.evm_version == "paris"
        signer = LocalSigner.from_key(london.accounts[0].private_key)
        with TxSender(client, signer) as sender, pytest.raises(UnsupportedEvmError, match="older than Shanghai"):
            sender.deploy("RunRegistry", signer.address, signer.address)
        assert client.nonce(signer.address) == 0


def test_story_transient_permissions_on_ganache_last_for_their_block_and_origin(
    ganache_node: GanacheNode, tmp_path: Path
) -> None:
    # The Shanghai AccessController keeps transient permissions in storage scoped to (block.number, tx.origin).
    client = ChainClient(ganache_node.rpc_url)
    snapshot = ganache_node.snapshot()
    deployer = TxSender(client, LocalSigner.from_key(ganache_node.accounts[0].private_key))
    owner = TxSender(client, LocalSigner.from_key(ganache_node.accounts[1].private_key))
    try:
        deploy_all(deployer, DeploymentManifest.load(tmp_path, client.chain_id), plan=STORY_DEPLOY_PLAN)
        manifest = DeploymentManifest.load(tmp_path, client.chain_id)
        access = Contract.at(client, "AccessController", manifest.entry("AccessController").address)
        shanghai_build = load_artifact("AccessController", "shanghai").artifact_hash
        assert manifest.entry("AccessController").artifact_hash == shanghai_build
        registry = Contract.at(client, "IPAssetRegistry", manifest.entry("IPAssetRegistry").address)
        module = manifest.entry("CoreMetadataModule").address
        nft = owner.deploy("MockERC721")
        owner.transact(nft, "mint", owner.signer.address)
        owner.transact(registry, "register", client.chain_id, nft.address, 0)
        ip = registry.call("ipId", client.chain_id, nft.address, 0)
        other, third = ganache_node.accounts[2].address, ganache_node.accounts[3].address
        everything = bytes(4)
        owner.transact(access, "setPermission", ip, third, module, everything, 1)  # permanent ALLOW for `third`
        owner.transact(access, "setTransientPermission", ip, other, module, everything, 1)
        me = owner.signer.address

        def seen(fn: str, signer: str, caller: str) -> int:
            return int(access.call(fn, ip, signer, module, everything, caller=caller))

        # Ganache mines each transaction in its own block; an eth_call runs at that block: same scope for the owner.
        assert seen("getTransientPermission", other, me) == 1
        assert seen("getPermission", other, me) == 1
        assert seen("getPermission", third, me) == 0  # while a transient permission is set: only that table
        assert seen("getTransientPermission", other, other) == 0  # another origin: another scope
        assert seen("getPermission", third, other) == 1
        ganache_node.mine(1)  # the next block: the transient table is gone
        assert seen("getTransientPermission", other, me) == 0
        assert seen("getPermission", other, me) == 0 and seen("getPermission", third, me) == 1
        assert seen("getPermanentPermission", third, me) == 1
    finally:
        deployer.close()
        owner.close()
        ganache_node.revert(snapshot)
