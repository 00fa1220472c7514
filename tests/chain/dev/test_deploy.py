"""Deployment manifests, idempotent deploys, plans with role grants, and the deploy CLI / script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain import (
    ChainClient,
    DeploymentManifest,
    Devnet,
    LocalSigner,
    TxSender,
    deploy_all,
    ensure_deployed,
)
from anacostia_blockchain.chain.dev import DEPLOY_PLAN, PlannedContract, RoleGrant
from anacostia_blockchain.chain.dev.compiler import PROJECT_ROOT
from anacostia_blockchain.chain.tx import artifact_for
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.errors import DeploymentError, NoContractCodeError

ANCHOR_ROLE = keccak(text="ANCHOR_ROLE")


def test_deploy_all_writes_manifest_and_is_idempotent(sender: TxSender, client: ChainClient, tmp_path: Path) -> None:
    manifest = DeploymentManifest.load(tmp_path, client.chain_id)
    path = tmp_path / f"{client.chain_id}.json"
    assert manifest.names() == [] and manifest.path == path
    [first] = deploy_all(sender, manifest, only=["RunRegistry"])
    assert first.status == "deployed"
    data = json.loads(path.read_text())
    entry = data["contracts"]["RunRegistry"]
    assert data["chainId"] == client.chain_id
    assert entry["address"] == first.address
    assert entry["artifactHash"] == artifact_for(client, "RunRegistry").artifact_hash  # the set this chain runs
    receipt = client.get_receipt(entry["txHash"])
    assert receipt is not None and receipt.blockNumber == entry["block"] and receipt.contractAddress == first.address

    block = client.block_number()
    reloaded = DeploymentManifest.load(path, client.chain_id)
    [again] = deploy_all(sender, reloaded, only=["RunRegistry"])
    assert again.status == "reused" and again.address == first.address
    assert client.block_number() == block  # nothing was sent
    registry = reloaded.contract(client, "RunRegistry")
    assert registry.call("hasRole", ANCHOR_ROLE, sender.signer.address) is True


def test_changed_artifact_is_reported_and_redeployed_only_when_asked(
    sender: TxSender, client: ChainClient, tmp_path: Path
) -> None:
    manifest = DeploymentManifest.load(tmp_path, client.chain_id)
    original = ensure_deployed(sender, manifest, "RunRegistry", sender.signer.address, sender.signer.address)
    data = json.loads(manifest.path.read_text())
    data["contracts"]["RunRegistry"]["artifactHash"] = "0x" + "00" * 32  # as if deployed from an older build
    manifest.path.write_text(json.dumps(data))
    stale = DeploymentManifest.load(tmp_path, client.chain_id)
    [changed] = deploy_all(sender, stale, only=["RunRegistry"])
    assert changed.status == "changed" and changed.address == original.address
    assert "--redeploy-changed" in str(changed)
    [redeployed] = deploy_all(sender, stale, only=["RunRegistry"], redeploy_changed=True)
    assert redeployed.status == "redeployed" and redeployed.address != original.address
    assert DeploymentManifest.load(tmp_path, client.chain_id).address("RunRegistry") == redeployed.address


def test_missing_code_is_redeployed(sender: TxSender, client: ChainClient, tmp_path: Path, fresh_chain: Devnet) -> None:
    manifest = DeploymentManifest.load(tmp_path, client.chain_id)
    deployed = ensure_deployed(sender, manifest, "RunRegistry", sender.signer.address, sender.signer.address)
    fresh_chain.set_code(deployed.address, "0x")  # the chain was reset under the manifest
    with pytest.raises(NoContractCodeError):
        manifest.contract(client, "RunRegistry")
    again = ensure_deployed(sender, manifest, "RunRegistry", sender.signer.address, sender.signer.address)
    assert again.status == "deployed" and again.address != deployed.address


def test_plan_with_grants_and_subsets(
    sender: TxSender, client: ChainClient, tmp_path: Path, fresh_chain: Devnet
) -> None:
    anchorer = fresh_chain.accounts[6].address
    plan = [
        PlannedContract(
            "RunRegistry",
            args=lambda ctx: (ctx.deployer, "0x" + "00" * 20),
            grants=(RoleGrant("ANCHOR_ROLE", to=lambda ctx: ctx.settings["anchorer"]),),
        ),
        PlannedContract("MockV3Aggregator", args=lambda ctx: (8, 3000 * 10**8), requires=("RunRegistry",)),
    ]
    manifest = DeploymentManifest.load(tmp_path, client.chain_id)
    results = deploy_all(sender, manifest, plan=plan, settings={"anchorer": anchorer})
    assert [r.status for r in results] == ["deployed", "deployed"]
    registry = results[0].contract
    assert registry.call("hasRole", ANCHOR_ROLE, anchorer) is True
    assert registry.call("hasRole", ANCHOR_ROLE, sender.signer.address) is False
    block = client.block_number()
    assert [r.status for r in deploy_all(sender, manifest, plan=plan, settings={"anchorer": anchorer})] == [
        "reused",
        "reused",
    ]
    assert client.block_number() == block  # the grant was checked, not re-sent
    with pytest.raises(DeploymentError, match="not in the deploy plan: Nope"):
        deploy_all(sender, manifest, plan=plan, only=["Nope"])
    empty = DeploymentManifest.load(tmp_path / "other", client.chain_id)
    with pytest.raises(DeploymentError, match="RunRegistry is not deployed"):
        deploy_all(sender, empty, plan=plan, only=["MockV3Aggregator"])


def test_default_plan_is_data() -> None:
    assert DEPLOY_PLAN[0].name == "RunRegistry"
    assert all(isinstance(entry, PlannedContract) for entry in DEPLOY_PLAN)


def test_manifest_errors(tmp_path: Path) -> None:
    path = tmp_path / "5.json"
    path.write_text(json.dumps({"chainId": 5, "contracts": {}}))
    with pytest.raises(DeploymentError, match="is for chain 5, not 31337"):
        DeploymentManifest.load(path, 31337)
    path.write_text("{")
    with pytest.raises(DeploymentError, match="unreadable"):
        DeploymentManifest.load(path, 5)
    path.write_text(json.dumps({"chainId": 5, "contracts": {"X": {"address": "nope"}}}))
    with pytest.raises(DeploymentError, match="'X' is malformed"):
        DeploymentManifest.load(path, 5)
    with pytest.raises(DeploymentError, match="Foo is not deployed on chain 7"):
        DeploymentManifest.load(tmp_path, 7).address("Foo")


def test_manifest_for_another_chain_is_refused(sender: TxSender, tmp_path: Path) -> None:
    with pytest.raises(DeploymentError, match="manifest is for chain 1"):
        ensure_deployed(sender, DeploymentManifest.load(tmp_path, 1), "RunRegistry")


def test_cli_deploy_with_env_key_then_keystore(
    fresh_chain: Devnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = fresh_chain.accounts[2].private_key
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", key)
    chain_id = str(fresh_chain.chain_id)
    argv = ["deploy", "--rpc-url", fresh_chain.rpc_url, "--chain-id", chain_id, "--manifest", str(tmp_path)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "RunRegistry" in out and "deployed" in out and key[2:] not in out
    address = DeploymentManifest.load(tmp_path, fresh_chain.chain_id).address("RunRegistry")

    monkeypatch.delenv("ANACOSTIA_PRIVATE_KEY")
    keystore = LocalSigner.from_key(key).write_keystore(tmp_path / "k.json", "pw", kdf="pbkdf2", iterations=2)
    monkeypatch.setenv("DEPLOY_PW", "pw")
    argv += ["--keystore", str(keystore), "--password-env", "DEPLOY_PW", "--contracts", "RunRegistry"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "reused" in out and address in out

    wrong_chain = [arg if arg != chain_id else "1" for arg in argv]
    assert main(wrong_chain) == 1
    assert "expected 1" in capsys.readouterr().err
    monkeypatch.delenv("DEPLOY_PW")
    assert main(argv) == 1
    assert "DEPLOY_PW" in capsys.readouterr().err


def test_deploy_script_runs_the_same_code(fresh_chain: Devnet, tmp_path: Path) -> None:
    env = {**os.environ, "ANACOSTIA_PRIVATE_KEY": fresh_chain.accounts[3].private_key}
    command = [sys.executable, str(PROJECT_ROOT / "scripts" / "deploy.py"), "--rpc-url", fresh_chain.rpc_url,
               "--manifest", str(tmp_path)]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "RunRegistry" in done.stdout and (tmp_path / f"{fresh_chain.chain_id}.json").exists()
    client = ChainClient(fresh_chain.rpc_url)
    registry = DeploymentManifest.load(tmp_path, fresh_chain.chain_id).contract(client, "RunRegistry")
    assert registry.call("hasRole", ANCHOR_ROLE, fresh_chain.accounts[3].address) is True
    env.pop("ANACOSTIA_PRIVATE_KEY")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "ANACOSTIA_PRIVATE_KEY is not set" in done.stderr


def test_manifest_without_code_hash_is_trusted_when_code_exists(
    sender: TxSender, client: ChainClient, tmp_path: Path
) -> None:
    manifest = DeploymentManifest.load(tmp_path, client.chain_id)
    first = ensure_deployed(sender, manifest, "RunRegistry", sender.signer.address, sender.signer.address)
    data = json.loads(manifest.path.read_text())
    del data["contracts"]["RunRegistry"]["codeHash"]  # the architecture's four-field format, e.g. written by hand
    manifest.path.write_text(json.dumps(data))
    again = ensure_deployed(
        sender, DeploymentManifest.load(tmp_path, client.chain_id), "RunRegistry", sender.signer.address,
        sender.signer.address,
    )
    assert again.status == "reused" and again.address == first.address
