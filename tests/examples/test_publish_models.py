"""examples/publish_models.py on anvil: what it reports is checked against the chain and the content store
independently — metadata by CID, provenance against RunRegistry, the price against the tier rule and the feed,
the promotion, the buyer's license token — and a re-run publishes only the new run."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from example_loader import load_example

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.contracts.marketplace import metric_basis
from anacostia_blockchain.chain.contracts.merkle import pipeline_id, scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient, cid_from_token_uri
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid

example = load_example("publish_models")


def run_example(devnet: Devnet, workdir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict[str, Any], str]:
    env = {"ANACOSTIA_PRIVATE_KEY": devnet.accounts[0].private_key,
           "ANACOSTIA_BUYER_KEY": devnet.accounts[1].private_key}
    assert example.main(["--rpc-url", devnet.rpc_url, "--workdir", str(workdir), "--timeout", "30"], env=env) == 0
    out = capsys.readouterr().out
    return json.loads(out), out


def test_publishes_a_verifiable_listed_promoted_model_and_sells_a_license(fresh_chain: Devnet, tmp_path: Path,
                                                                          capsys) -> None:
    summary, out = run_example(fresh_chain, tmp_path, capsys)
    for account in fresh_chain.accounts[:2]:
        assert account.private_key.removeprefix("0x") not in out
    client = ChainClient(fresh_chain.rpc_url)
    nft = ModelNFTClient(client, summary["contracts"]["ModelNFT"])
    registry = RunRegistryClient(client, summary["contracts"]["RunRegistry"])
    training_id = pipeline_id(example.TRAINING)
    assert (summary["publishing_status"], summary["source_run"], summary["token_id"]) == ("success", 1, 1)

    # metadata: fetched by the CID in tokenURI, hashes to it, and its provenance is the chain's
    blocks = EmbeddedBlockstore(tmp_path / "ipfs")
    cid = cid_from_token_uri(nft.token_uri(1))
    raw = blocks.cat(cid)
    assert compute_cid(raw) == cid == summary["metadata_cid"]
    props = json.loads(raw)["properties"]
    provenance = nft.provenance(1)
    assert provenance.pipeline_id == training_id and provenance.run_id == 1
    assert provenance.anchor_root == registry.run_root(training_id, 1)
    assert props["anchor_root"] == "0x" + provenance.anchor_root.hex()
    assert provenance.matches_manifest_cid(props["manifest_cid"])
    manifest = RunManifest.from_bytes(blocks.cat(props["manifest_cid"]))
    assert manifest.root == provenance.anchor_root
    assert props["metrics"] == {"accuracy": "0.95"} and props["params"] == {"evaluated_rows": 20}

    # price: tier rule on the anchored accuracy (0.95 -> 99 USD), basis = that metric, quote = integer conversion
    accuracy = next(i for i in manifest.items if i.kind == "metric" and i.fields["name"] == "accuracy")
    assert int(accuracy.fields["value"]) == scale_metric(Decimal("0.95")) == 95 * 10**16
    assert summary["price_usd_units"] == str(99 * 10**18)
    assert summary["price_basis"] == "0x" + metric_basis(
        training_id, 1, "accuracy", 95 * 10**16, int(accuracy.fields["step"])).hex()
    assert summary["eth_usd_answer"] == str(example.ETH_USD_ANSWER) and summary["eth_usd_decimals"] == 8
    purchase = summary["purchase"]
    expected_wei = -(-99 * 10**18 * 10**8 // example.ETH_USD_ANSWER)
    assert purchase["quote_wei"] == purchase["paid_wei"] == expected_wei == 396 * 10**14
    assert purchase["refund_wei"] == example.BUY_MARGIN_WEI

    # promotion through the gate, and the purchase is a Story license token held by the buyer
    versions = Contract.at(client, "ModelVersions", summary["contracts"]["ModelVersions"])
    assert versions.call("versionInStage", summary["family_id"], b"production".ljust(32, b"\0")) == 1
    assert summary["stage"] == "production"
    assert purchase["license_owner"] == purchase["buyer"] == fresh_chain.accounts[1].address
    market = Contract.at(client, "ModelMarketplace", summary["contracts"]["ModelMarketplace"])
    assert market.call("proceeds", fresh_chain.accounts[0].address) == expected_wei
    assert summary["unpublished_runs_left"] is None


def test_a_rerun_reuses_everything_and_publishes_only_the_new_run(fresh_chain: Devnet, tmp_path: Path,
                                                                   capsys) -> None:
    first, _ = run_example(fresh_chain, tmp_path, capsys)
    second, _ = run_example(fresh_chain, tmp_path, capsys)
    assert second["contracts"] == first["contracts"]  # deployments reused from <workdir>/deployments
    assert (second["training_run"], second["source_run"], second["token_id"]) == (2, 2, 2)
    assert (second["family_id"], second["license_terms_id"]) == (first["family_id"], first["license_terms_id"])
    assert second["version"] == 2 and second["stage"] == "production"
    nft = ModelNFTClient(ChainClient(fresh_chain.rpc_url), first["contracts"]["ModelNFT"])
    training_id = pipeline_id(example.TRAINING)
    assert nft.total_minted() == 2
    assert nft.minted_runs(training_id) == {1: 1, 2: 2}  # run 1 was not minted again
    versions = Contract.at(ChainClient(fresh_chain.rpc_url), "ModelVersions", first["contracts"]["ModelVersions"])
    assert versions.call("stageOf", first["family_id"], 1) == b"\0" * 32  # version 2 replaced it in production


def test_an_external_node_needs_both_keys_in_the_environment(fresh_chain: Devnet, tmp_path: Path, capsys) -> None:
    env = {"ANACOSTIA_PRIVATE_KEY": fresh_chain.accounts[0].private_key}
    assert example.main(["--rpc-url", fresh_chain.rpc_url, "--workdir", str(tmp_path)], env=env) == 1
    err = capsys.readouterr().err
    assert err == "error: with --rpc-url set ANACOSTIA_BUYER_KEY (the keys are read from there only)\n"
    assert not (tmp_path / "deployments").exists()
