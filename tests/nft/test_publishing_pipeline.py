"""The publishing actions in a real pipeline on anvil: train (run 1) -> anchor -> run 2 mints the model NFT with
IPFS metadata, registers it with the local Story suite, reads the ETH/USD feed, promotes it through the on-chain
gate and lists it at a price derived from its anchored accuracy.

Real parts only: SQLite metadata store, watched folder, node threads, EmbeddedBlockstore, anvil with RunRegistry,
ModelNFT, ModelVersions, the Story suite, MockV3Aggregator and ModelMarketplace.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from anacostia_blockchain import BaseActionNode, FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.actions.mint_nft import MintModelNFTNode
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions
from anacostia_blockchain.actions.price_feed import PriceFeedNode
from anacostia_blockchain.actions.pricing import DynamicPricingNode
from anacostia_blockchain.actions.pricing_rules import TieredPricing
from anacostia_blockchain.actions.promote import PromoteModelNode
from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient, metric_basis
from anacostia_blockchain.chain.contracts.merkle import scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient, cid_from_token_uri
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.price_feed import ChainlinkPriceFeed, usd_units
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest
from anacostia_blockchain.chain.dev.story_devnet import deploy_story_suite
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid

PIPELINE = "churn-publishing"
ZERO = "0x" + "00" * 20


class TrainNode(BaseActionNode):
    """Stands in for training + evaluation: logs the evaluation metrics and params the publishing nodes use."""

    def __init__(self, name, predecessors, store, accuracy):
        super().__init__(name, predecessors)
        self.store = store
        self.accuracy = accuracy

    def execute(self, *args, **kwargs) -> bool:
        self.store.log_metrics(accuracy=self.accuracy, loss=0.25)
        self.store.log_params(learning_rate=0.01, model="gbdt")
        return True


class RegisterIPForListing(BaseActionNode):
    """Registers the newest model NFT with Story and attaches the terms (RegisterIPNode's job, done with the real
    Story client so this test does not depend on that node)."""

    def __init__(self, name, predecessors, story, nft, pipeline_id, terms_id):
        super().__init__(name, predecessors)
        self.story, self.nft, self.pipeline_id, self.terms_id = story, nft, pipeline_id, terms_id

    def execute(self, *args, **kwargs) -> bool:
        latest = self.nft.latest_minted(self.pipeline_id)
        if latest is not None:
            ip_id = self.story.register_ip(self.nft.address, latest[1]).ip_id
            self.story.attach_terms(ip_id, self.terms_id)
        return True


@pytest.fixture
def chain_parts(fresh_chain, tmp_path):
    client = ChainClient(fresh_chain.rpc_url)
    sender = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    admin = sender.signer.address
    story_addresses = deploy_story_suite(sender, DeploymentManifest.load(tmp_path / "deployments", client.chain_id))
    registry = sender.deploy("RunRegistry", admin, admin)
    nft = sender.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, registry.address)
    versions = sender.deploy("ModelVersions", nft.address, registry.address)
    feed = sender.deploy("MockV3Aggregator", 8, 2_000_12345678)
    market = sender.deploy("ModelMarketplace", admin, nft.address, story_addresses.ip_asset_registry,
                           story_addresses.licensing_module, story_addresses.pil_license_template, feed.address, 3600)
    nft_client = ModelNFTClient(client, nft.address, sender)
    nft_client.grant_minter(admin)
    parts = {
        "client": client,
        "sender": sender,
        "registry": RunRegistryClient(client, registry.address, sender),
        "nft": nft_client,
        "versions": ModelVersionsClient(client, versions.address, sender),
        "feed": ChainlinkPriceFeed(client, feed.address, heartbeat=3600),
        "market": MarketplaceClient(client, market.address, sender),
        "story": StoryClient(client, sender, story_addresses),
    }
    yield parts
    sender.close()


def anchor(store: SqliteMetadataStore, blocks: EmbeddedBlockstore, registry: RunRegistryClient, run_id: int) -> str:
    """What BlockchainMetadataStore.on_run_end does: manifest of the export -> IPFS -> RunRegistry."""
    manifest = RunManifest.from_export(PIPELINE, run_id, store.runs.export_run(run_id))
    cid = str(blocks.add_bytes(manifest.to_bytes()).cid)
    registry.anchor_run(AnchorRequest(manifest.pipeline_id, run_id, manifest.root, cid))
    return cid


def drop_file(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{name}"
    tmp.write_text(f"rows for {name} {time.time()}")
    tmp.rename(folder / name)


@dataclass
class Publishing:
    pipeline: Pipeline
    store: SqliteMetadataStore
    blocks: EmbeddedBlockstore
    family_id: int
    data_dir: Path
    pricing: DynamicPricingNode

    def run_once(self, number: int) -> None:
        drop_file(self.data_dir, f"batch-{number}.csv")
        assert self.pipeline.wait_for_runs(number, timeout=60)


def build_publishing(chain_parts, tmp_path: Path, accuracy: float) -> Publishing:
    """train -> mint -> register IP -> ETH/USD -> promote -> price/list, on one watched folder."""
    blocks = EmbeddedBlockstore(tmp_path / "blocks")
    registry, nft, versions, market = (chain_parts[k] for k in ("registry", "nft", "versions", "market"))
    family_id = versions.create_family("churn")
    versions.set_gate(family_id, "production", "accuracy", scale_metric(Decimal("0.9")), higher_is_better=True)
    reader = AnchoredRunReader(registry, blocks, PIPELINE)
    rule = TieredPricing([("0.90", "49"), ("0.95", "99")], floor="5")
    story = chain_parts["story"]
    terms_id = story.register_pil_terms(
        commercial_use(minting_fee=0, currency=story.addresses.test_currency)
    ).license_terms_id

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    train = TrainNode("train", [data], store, accuracy=accuracy)
    mint = MintModelNFTNode(
        "mint", [train], reader=reader, nft=nft, content=blocks,
        options=ModelMetadataOptions(name="Churn model", description="Gradient boosted churn classifier",
                                     model_card="ipfs://bafkreimodelcard", dataset_resources=("data",)),
    )
    register = RegisterIPForListing("register_ip", [mint], story, nft, reader.pipeline_id, terms_id)
    price_feed = PriceFeedNode("eth_usd", [register], feed=chain_parts["feed"])
    promote = PromoteModelNode("promote", [price_feed], reader=reader, nft=nft, versions=versions,
                               family_id=family_id, stage="production")
    pricing = DynamicPricingNode("pricing", [promote], reader=reader, nft=nft, marketplace=market, rule=rule,
                                 metric_name="accuracy", license_terms_id=terms_id)
    pipeline = Pipeline([store, data, train, mint, register, price_feed, promote, pricing], failure_backoff=0.01)
    return Publishing(pipeline, store, blocks, family_id, tmp_path / "data", pricing)


def test_train_anchor_then_mint_promote_price_and_list(chain_parts, tmp_path):
    registry, nft, versions, market = (chain_parts[k] for k in ("registry", "nft", "versions", "market"))
    world = build_publishing(chain_parts, tmp_path, accuracy=0.93)
    store, blocks, family_id = world.store, world.blocks, world.family_id
    world.pipeline.launch()
    try:
        world.run_once(1)
        assert nft.total_minted() == 0  # run 1 is not anchored while it runs: nothing to publish yet
        manifest_cid = anchor(store, blocks, registry, 1)
        world.run_once(2)
        world.run_once(3)
        world.pricing.rule = TieredPricing([("0.90", "59"), ("0.95", "99")])  # the publisher changes its rule
        world.run_once(4)
    finally:
        world.pipeline.terminate()

    # run 2 minted the token for run 1, with metadata on IPFS that checks out against the chain
    assert nft.total_minted() == 1
    uri = nft.token_uri(1)
    metadata_cid = cid_from_token_uri(uri)
    raw = blocks.cat(metadata_cid)
    assert compute_cid(raw) == metadata_cid  # the embedded store uses Kubo's default (CIDv0) profile
    doc = json.loads(raw)
    props = doc["properties"]
    provenance = nft.provenance(1)
    assert props["manifest_cid"] == manifest_cid and provenance.matches_manifest_cid(manifest_cid)
    assert props["anchor_root"] == "0x" + provenance.anchor_root.hex() == "0x" + registry.run_root(
        provenance.pipeline_id, 1).hex()
    assert props["run_id"] == provenance.run_id == 1
    assert props["metrics"]["accuracy"] == "0.93"
    assert props["params"] == {"learning_rate": 0.01, "model": "gbdt"}
    assert {"train", "mint"} <= set(props["code_fingerprints"])
    assert doc["name"] == "Churn model" and doc["model_card"] == "ipfs://bafkreimodelcard"
    tags2 = store.runs.export_run(2)["tags"]
    assert tags2["model_nft_token_id"] == 1 and tags2["model_nft_metadata_cid"] == metadata_cid
    assert tags2["model_nft_tx"] == nft.minted_for_run(provenance.pipeline_id, 1).tx_hash
    # the promotion went through the on-chain gate with run 1's anchored accuracy
    assert versions.version_in_stage(family_id, "production") == 1
    assert tags2["promotion_version"] == 1
    # the feed price is a metric of every run, exact in the tags
    metrics2 = {m["key"]: m["value"] for m in store.runs.export_run(2)["metrics"]}
    assert Decimal(repr(metrics2["eth_usd"])) == Decimal("2000.12345678")
    assert tags2["eth_usd_answer"] == "200012345678"
    # run 2 listed it at the tier price for 0.93, with the anchored metric as basis; run 3 left it alone
    assert market.listing(1).active
    listed = market.contract.events("Listed", tokenId=1)
    assert [e.args["priceUsd"] for e in listed] == [usd_units("49")]
    basis = metric_basis(provenance.pipeline_id, 1, "accuracy", scale_metric(Decimal("0.93")), 0)
    assert [e.args["basis"] for e in listed] == ["0x" + basis.hex()]
    assert tags2["price_action"] == "listed" and tags2["price_basis"] == "0x" + basis.hex()
    tags3 = store.runs.export_run(3)["tags"]
    assert tags3["price_action"] == "unchanged" and "model_nft_token_id" not in tags3
    assert [r["status"] for r in (store.runs.export_run(i)["run"] for i in (1, 2, 3, 4))] == ["success"] * 4
    # run 4 repriced under the new rule, again pointing at the same anchored metric
    assert store.runs.export_run(4)["tags"]["price_action"] == "repriced"
    assert market.listing(1).price_usd == usd_units("59")
    updates = market.contract.events("PriceUpdated", tokenId=1)
    assert [(u.args["oldPriceUsd"], u.args["newPriceUsd"], u.args["basis"]) for u in updates] == [
        (usd_units("49"), usd_units("59"), "0x" + basis.hex())
    ]


def test_a_model_below_the_bar_is_minted_but_not_promoted_or_listed(chain_parts, tmp_path):
    registry, nft, versions, market = (chain_parts[k] for k in ("registry", "nft", "versions", "market"))
    world = build_publishing(chain_parts, tmp_path, accuracy=0.85)
    world.pipeline.launch()
    try:
        world.run_once(1)
        anchor(world.store, world.blocks, registry, 1)
        world.run_once(2)
    finally:
        world.pipeline.terminate()
    assert nft.total_minted() == 1
    run2 = world.store.runs.export_run(2)
    results = {n["node_name"]: n["status"] for n in run2["nodes"]}
    assert results["mint"] == "success" and results["promote"] == "failure"
    assert "pricing" not in results or results["pricing"] != "success"
    assert run2["tags"]["promotion_refused"] == "accuracy=0.85"
    assert versions.version_in_stage(world.family_id, "production") == 0
    assert versions.contract.events("VersionPromoted") == []
    assert market.listing(1).active is False


def test_pricing_lists_an_older_unlisted_token_before_repricing_the_newest(chain_parts):
    """A listing that failed for token 1 (its IP was not registered yet) is retried even after token 2 was minted
    and listed; once every token is listed, the newest is the one kept at its current price."""
    registry, nft, market, story = (chain_parts[k] for k in ("registry", "nft", "market", "story"))
    owner = chain_parts["sender"].signer.address
    pipeline_id = AnchoredRunReader(registry, None, PIPELINE).pipeline_id
    tokens = []
    for run_id in (1, 2):
        root = bytes([run_id]) * 32
        registry.anchor_run(AnchorRequest(pipeline_id, run_id, root, f"bafkreirun{run_id}"))
        tokens.append(nft.mint(owner, f"ipfs://bafkreimeta{run_id}", pipeline_id=pipeline_id, run_id=run_id,
                               anchor_root=root, manifest_cid=f"bafkreirun{run_id}").token_id)
    terms_id = story.register_pil_terms(commercial_use(minting_fee=0, currency=story.addresses.test_currency))
    terms_id = terms_id.license_terms_id

    def publish(token_id: int) -> None:
        ip_id = story.register_ip(nft.address, token_id).ip_id
        story.attach_terms(ip_id, terms_id)
        market.list_model(token_id, usd_units("10"), terms_id)

    node = DynamicPricingNode("pricing", [], reader=AnchoredRunReader(registry, None, PIPELINE), nft=nft,
                              marketplace=market, rule=TieredPricing([("0.9", "49")]), metric_name="accuracy",
                              license_terms_id=terms_id)
    assert node.select_token() == (1, tokens[0])  # nothing listed yet: the oldest first
    publish(tokens[1])
    assert node.select_token() == (1, tokens[0])  # token 2 listed, token 1 still waiting: token 1
    publish(tokens[0])
    assert node.select_token() == (2, tokens[1])  # everything listed: keep the newest one's price current
