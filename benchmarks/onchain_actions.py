"""On-chain publishing actions on a fresh anvil, printed as one JSON document.

    .venv/bin/python benchmarks/onchain_actions.py --models 20

``gas``: gas used by each action, from receipts — ModelNFT ``mint``, Story ``register`` (IPAssetRegistry),
``attachLicenseTerms``, ``mintLicenseTokens`` (a direct license purchase through Story), ModelMarketplace ``list``,
``setPrice``, ``buy`` (which itself mints a license through Story) and ModelVersions ``promote``; ``quote`` is a
view, reported as its ``eth_estimateGas`` (including the 21000 intrinsic gas) — what a contract calling it would pay.

``publish``: the full per-model sequence mint -> register IP -> attach terms -> price (on-chain quote of the listed
price) -> list, for ``--models`` models, measured two ways in the same run:

- ``sequential`` (the baseline): one model after the other, each step waiting for its receipt (``transact``) — what
  a pipeline that publishes one model per run does.
- ``pipelined``: the same steps, but each stage is sent for every model at once (``TxSender.send``) and the
  receipts are awaited together, so the node's one-block-per-transaction latency overlaps.

Each reports ``seconds_per_model`` and ``models_per_minute``; ``speedup`` is pipelined / sequential.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.abi.events import single_event
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.merkle import MerkleTree, metric_leaf, pipeline_id, scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.price_feed import usd_units
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.story_devnet import deploy_story_suite
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use

PIPELINE = "benchmark-models"
PLAN = ["RunRegistry", "ModelNFT", "ModelVersions", "MockV3Aggregator", "ModelMarketplace"]
PRICE = usd_units("49.99")


class World:
    """Everything deployed once: Story suite, RunRegistry, ModelNFT, ModelVersions, feed, marketplace."""

    def __init__(self, devnet: Devnet, workdir: Path) -> None:
        self.client = ChainClient(devnet.rpc_url)
        self.sender = TxSender(self.client, LocalSigner.from_key(devnet.accounts[0].private_key))
        self.buyer = TxSender(self.client, LocalSigner.from_key(devnet.accounts[1].private_key))
        manifest = DeploymentManifest.load(workdir, self.client.chain_id)
        self.story_addresses = deploy_story_suite(self.sender, manifest)
        deployed = {r.name: r.address for r in deploy_all(self.sender, manifest, only=PLAN)}
        self.registry = RunRegistryClient(self.client, deployed["RunRegistry"], self.sender)
        self.nft = ModelNFTClient(self.client, deployed["ModelNFT"], self.sender)
        self.versions = ModelVersionsClient(self.client, deployed["ModelVersions"], self.sender)
        self.market = MarketplaceClient(self.client, deployed["ModelMarketplace"], self.sender)
        self.story = StoryClient(self.client, self.sender, self.story_addresses)
        terms = commercial_use(minting_fee=0, currency=self.story_addresses.test_currency)
        self.terms_id = self.story.register_pil_terms(terms).license_terms_id
        self.pid = pipeline_id(PIPELINE)
        self.next_run = 1

    def anchor_runs(self, count: int) -> list[tuple[int, MerkleTree, dict[str, Any]]]:
        """Anchor ``count`` runs (one batch transaction), each with an accuracy metric: the models' provenance."""
        runs, requests = [], []
        for _ in range(count):
            run_id = self.next_run
            self.next_run += 1
            leaf = metric_leaf("accuracy", scale_metric(0.93), 0)
            tree = MerkleTree([leaf, metric_leaf("loss", scale_metric(0.2), 0)])
            runs.append((run_id, tree, {"leaf": leaf}))
            requests.append(AnchorRequest(self.pid, run_id, tree.root, f"bafkreibenchmanifest{run_id}"))
        self.registry.anchor_runs(requests)
        return runs

    def close(self) -> None:
        self.sender.close()
        self.buyer.close()


def mint_args(world: World, run_id: int, root: bytes) -> tuple[Any, ...]:
    return (world.sender.signer.address, f"ipfs://bafkreibenchmeta{run_id}", world.pid, run_id, root,
            f"bafkreibenchmanifest{run_id}")


def measure_gas(world: World) -> dict[str, int]:
    """One model through every action, gas from each receipt."""
    (run_id, tree, extra), = world.anchor_runs(1)
    s, nft, market, story = world.sender, world.nft, world.market, world.story
    gas: dict[str, int] = {}
    receipt = s.transact(nft.contract, "mint", *mint_args(world, run_id, tree.root))
    gas["mint"] = receipt["gasUsed"]
    token_id = int(single_event(nft.contract, receipt, "ModelMinted").args["tokenId"])
    chain_id = world.client.chain_id
    gas["register"] = s.transact(story.ip_asset_registry, "register", chain_id, nft.address, token_id)["gasUsed"]
    ip_id = story.ip_id(nft.address, token_id)
    gas["attach_terms"] = s.transact(story.licensing_module, "attachLicenseTerms", ip_id,
                                     world.story_addresses.pil_license_template, world.terms_id)["gasUsed"]
    gas["list"] = s.transact(market.contract, "list", token_id, PRICE, world.terms_id, b"\0" * 32)["gasUsed"]
    quote_call = {"from": world.buyer.signer.address, "to": market.address,
                  "data": "0x" + market.contract.encode("quote", token_id).hex()}
    gas["quote_estimate"] = int(world.client.rpc("eth_estimateGas", [quote_call]), 16)
    gas["set_price"] = s.transact(market.contract, "setPrice", token_id, usd_units("59.99"), b"\1" * 32)["gasUsed"]
    buyer_market = MarketplaceClient(world.client, market.address, world.buyer)
    gas["buy"] = buyer_market.buy(token_id, buyer_market.quote(token_id) + 10**15).gas_used
    buyer_story = StoryClient(world.client, world.buyer, world.story_addresses)
    license_receipt = world.buyer.transact(
        buyer_story.licensing_module, "mintLicenseTokens", ip_id, world.story_addresses.pil_license_template,
        world.terms_id, 1, world.buyer.signer.address, b"", 0, 0,
    )
    gas["mint_license"] = license_receipt["gasUsed"]
    family = world.versions.create_family("benchmark")
    world.versions.add_version(family, token_id)
    world.versions.set_gate(family, "production", "accuracy", scale_metric(0.9), higher_is_better=True)
    promotion = world.versions.promote(family, 1, "production", "accuracy", scale_metric(0.93), 0,
                                       tree.proof(extra["leaf"]))
    gas["promote"] = promotion.gas_used
    return gas


def publish_sequential(world: World, models: int) -> float:
    runs = world.anchor_runs(models)
    s, nft, market, story = world.sender, world.nft, world.market, world.story
    template = world.story_addresses.pil_license_template
    started = time.perf_counter()
    for run_id, tree, _ in runs:
        receipt = s.transact(nft.contract, "mint", *mint_args(world, run_id, tree.root))
        token_id = int(single_event(nft.contract, receipt, "ModelMinted").args["tokenId"])
        s.transact(story.ip_asset_registry, "register", world.client.chain_id, nft.address, token_id)
        ip_id = story.ip_id(nft.address, token_id)
        s.transact(story.licensing_module, "attachLicenseTerms", ip_id, template, world.terms_id)
        market.quote_usd(PRICE)
        s.transact(market.contract, "list", token_id, PRICE, world.terms_id, b"\0" * 32)
    return time.perf_counter() - started


def publish_pipelined(world: World, models: int) -> float:
    runs = world.anchor_runs(models)
    s, nft, market, story = world.sender, world.nft, world.market, world.story
    template = world.story_addresses.pil_license_template
    chain_id = world.client.chain_id
    started = time.perf_counter()
    mints = [s.send(nft.contract, "mint", *mint_args(world, run_id, tree.root)) for run_id, tree, _ in runs]
    tokens = [int(single_event(nft.contract, p.wait(), "ModelMinted").args["tokenId"]) for p in mints]
    for pending in [s.send(story.ip_asset_registry, "register", chain_id, nft.address, t) for t in tokens]:
        pending.wait()
    ip_ids = [story.ip_id_offline(nft.address, t) for t in tokens]
    attaches = [s.send(story.licensing_module, "attachLicenseTerms", ip, template, world.terms_id) for ip in ip_ids]
    for pending in attaches:
        pending.wait()
    for _ in tokens:
        market.quote_usd(PRICE)
    for pending in [s.send(market.contract, "list", t, PRICE, world.terms_id, b"\0" * 32) for t in tokens]:
        pending.wait()
    elapsed = time.perf_counter() - started
    listed = [market.listing(t).active for t in tokens]
    if not all(listed):
        raise RuntimeError("pipelined publish left a model unlisted")
    return elapsed


def rate(models: int, seconds: float) -> dict[str, float]:
    return {
        "seconds": round(seconds, 4),
        "seconds_per_model": round(seconds / models, 5),
        "models_per_minute": round(models * 60 / seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=int, default=20, help="models published by each strategy (default 20)")
    args = parser.parse_args()
    with Devnet() as devnet, tempfile.TemporaryDirectory() as workdir:
        world = World(devnet, Path(workdir))
        try:
            gas = measure_gas(world)
            sequential = publish_sequential(world, args.models)
            pipelined = publish_pipelined(world, args.models)
        finally:
            world.close()
    report = {
        "benchmark": "onchain_actions",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "chain": "anvil (automine)",
        "gas": gas,
        "publish": {
            "steps": ["mint", "register_ip", "attach_terms", "quote", "list"],
            "models": args.models,
            "sequential_baseline": rate(args.models, sequential),
            "pipelined": rate(args.models, pipelined),
            "speedup": round(sequential / pipelined, 2),
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
