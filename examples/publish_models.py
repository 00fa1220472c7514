"""Publish your own model: a training pipeline anchors its evaluation, a publishing pipeline turns it into a product.

    .venv/bin/python examples/publish_models.py                       # starts its own anvil, prints JSON
    ANACOSTIA_PRIVATE_KEY=0x.. ANACOSTIA_BUYER_KEY=0x.. \\
        .venv/bin/python examples/publish_models.py --rpc-url http://127.0.0.1:8545 --workdir ./publish

What happens (the flow of docs/publishing.md, with the library's own nodes):

1. every contract is deployed with the idempotent ``deploy_all`` (RunRegistry, ModelNFT, ModelVersions, a mock
   ETH/USD feed, the local Story suite, ModelMarketplace); the operator key gets MINTER_ROLE and PRICER_ROLE;
2. the *training* pipeline watches ``<workdir>/incoming``; each file is a CSV of ``prediction,label`` rows from a
   held-out evaluation, and :class:`EvaluatePredictionsNode` logs their ``accuracy``. Its
   ``BlockchainMetadataStore`` anchors every run in RunRegistry (manifest on the embedded IPFS blockstore);
3. the *publishing* pipeline's input is :class:`AnchoredRunsNode` (the training pipeline's ``RunAnchored``
   events): mint the model NFT from the verified manifest -> register it on Story with zero-fee commercial-use
   PIL terms -> read the Chainlink feed -> list it at a price a :class:`TieredPricing` rule derives from the
   proven accuracy; in parallel, promote it to ``production`` through the family's on-chain gate (accuracy >= 0.90);
4. a buyer quotes and buys: the purchase mints a Story license token to the buyer (the key release that follows
   is the marketplace service's job, see ``examples/buyer.py``).

``main(argv, env)`` returns 0 and prints one JSON summary; keys come only from the environment (or anvil's dev
accounts when the script starts its own chain) and are never printed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from anacostia_blockchain import BaseActionNode, FilesystemStoreNode, Pipeline
from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.actions.mint_nft import MintModelNFTNode
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions
from anacostia_blockchain.actions.price_feed import PriceFeedNode
from anacostia_blockchain.actions.pricing import DynamicPricingNode
from anacostia_blockchain.actions.pricing_rules import TieredPricing
from anacostia_blockchain.actions.promote import PromoteModelNode
from anacostia_blockchain.actions.register_ip import RegisterIPNode
from anacostia_blockchain.chain.contracts.marketplace import MarketplaceClient
from anacostia_blockchain.chain.contracts.merkle import scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.price_feed import USD_SCALE, ChainlinkPriceFeed
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.deploy import DeploymentManifest, deploy_all
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryClient
from anacostia_blockchain.chain.story.terms import commercial_use
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.engine import BaseNode
from anacostia_blockchain.errors import AnacostiaError, ConfigurationError, PipelineError, ValidationError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.resources.anchored_runs import AnchoredRunsNode

TRAINING = "example-training"
PUBLISHING = "example-publishing"
FAMILY = "example-classifier"
PRODUCTION_BAR = Decimal("0.90")
#: 49 USD from accuracy 0.90, 99 USD from 0.95; below 0.90 a floor of 5 USD.
PRICE_TIERS = [("0.90", "49"), ("0.95", "99")]
FEED_HEARTBEAT = 3600
ETH_USD_ANSWER = 2_500_00000000  # 2,500.00 USD with the feed's 8 decimals
BUY_MARGIN_WEI = 10**15  # sent on top of the quote; refunded in the same transaction


class EvaluatePredictionsNode(BaseActionNode):
    """Logs ``accuracy`` = correct / total over the ``prediction,label`` rows of the run's input files."""

    def __init__(self, name: str, predecessors: Sequence[BaseNode], *, store: BlockchainMetadataStore,
                 predictions: FilesystemStoreNode) -> None:
        super().__init__(name, predecessors)
        self.store = store
        self.predictions = predictions

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        correct = total = 0
        for artifact in self.predictions.current_inputs():
            for line in self.predictions.artifact_path(artifact).read_text().splitlines():
                if not line.strip():
                    continue
                prediction, label = (cell.strip() for cell in line.split(","))
                correct += prediction == label
                total += 1
        if total == 0:
            raise ValidationError("no prediction,label rows in this run's input files")
        # a float: the store's metric type; anchoring scales it exactly via its shortest repr (0.95 -> 95e16)
        self.store.log_metrics(accuracy=correct / total)
        self.store.log_params(evaluated_rows=total)
        return True


@dataclass
class Contracts:
    client: ChainClient
    registry: RunRegistryClient
    nft: ModelNFTClient
    versions: ModelVersionsClient
    market: MarketplaceClient
    story: StoryClient
    feed: ChainlinkPriceFeed


def deploy(sender: TxSender, workdir: Path) -> Contracts:
    """Deploy (or reuse, per ``<workdir>/deployments/<chainId>.json``) everything the publishing flow uses."""
    client = sender.client
    manifest = DeploymentManifest.load(workdir / "deployments", client.chain_id)
    deploy_all(sender, manifest, settings={"eth_usd_mock_answer": ETH_USD_ANSWER, "eth_usd_heartbeat": FEED_HEARTBEAT})
    return Contracts(
        client=client,
        registry=RunRegistryClient(client, manifest.address("RunRegistry"), sender),
        nft=ModelNFTClient(client, manifest.address("ModelNFT"), sender),
        versions=ModelVersionsClient(client, manifest.address("ModelVersions"), sender),
        market=MarketplaceClient(client, manifest.address("ModelMarketplace"), sender),
        story=StoryClient.from_manifest(client, sender, manifest),
        feed=ChainlinkPriceFeed(client, manifest.address("MockV3Aggregator"), heartbeat=FEED_HEARTBEAT),
    )


def ensure_family(versions: ModelVersionsClient, owner: str) -> int:
    """The operator's model family with its production gate, created once (found again by its event)."""
    for created in versions.contract.events("FamilyCreated", owner=owner):
        if created.args["name"] == FAMILY:
            return int(created.args["familyId"])
    family_id = versions.create_family(FAMILY)
    versions.set_gate(family_id, "production", "accuracy", scale_metric(PRODUCTION_BAR), higher_is_better=True)
    return family_id


def anchoring_store(name: str, pipeline: str, workdir: Path, key: str, c: Contracts,
                    blocks: EmbeddedBlockstore) -> BlockchainMetadataStore:
    return BlockchainMetadataStore(
        name, f"sqlite:///{workdir / f'{pipeline}.db'}", signer=LocalSigner.from_key(key), client=c.client,
        registry_address=c.registry.address, pipeline=pipeline, content_store=blocks,
    )


@dataclass
class Pipelines:
    training: Pipeline
    training_store: BlockchainMetadataStore
    incoming: FilesystemStoreNode
    publishing: Pipeline
    publishing_store: BlockchainMetadataStore
    anchored: AnchoredRunsNode
    reader: AnchoredRunReader
    mint: MintModelNFTNode
    family_id: int
    terms_id: int


def build_pipelines(workdir: Path, operator_key: str, c: Contracts, blocks: EmbeddedBlockstore) -> Pipelines:
    training_store = anchoring_store("training_store", TRAINING, workdir, operator_key, c, blocks)
    incoming = FilesystemStoreNode("incoming", workdir / "incoming", training_store, create=True)
    evaluate = EvaluatePredictionsNode("evaluate", [incoming], store=training_store, predictions=incoming)
    training = Pipeline([training_store, incoming, evaluate], failure_backoff=0.05)

    publishing_store = anchoring_store("publishing_store", PUBLISHING, workdir, operator_key, c, blocks)
    anchored = AnchoredRunsNode("anchored_runs", publishing_store, registry=c.registry, pipeline=TRAINING,
                                poll_interval=0.2)
    reader = AnchoredRunReader(c.registry, blocks, TRAINING)
    # The marketplace price is the license fee: the terms it sells under carry no Story minting fee.
    terms = commercial_use(minting_fee=0, currency=c.story.addresses.test_currency)
    terms_id = c.story.register_pil_terms(terms).license_terms_id
    family_id = ensure_family(c.versions, c.nft.sender.signer.address)  # type: ignore[union-attr]
    mint = MintModelNFTNode(
        "mint_model_nft", [anchored], reader=reader, nft=c.nft, content=blocks, required_metrics=("accuracy",),
        options=ModelMetadataOptions(name="Example classifier", description="Evaluated and anchored by Anacostia.",
                                     dataset_resources=("incoming",)),
    )
    register = RegisterIPNode("register_ip", [mint], story=c.story, model_nft=c.nft, terms=terms)
    eth_usd = PriceFeedNode("eth_usd", [register], feed=c.feed)
    price = DynamicPricingNode(
        "price_and_list", [eth_usd], reader=reader, nft=c.nft, marketplace=c.market,
        rule=TieredPricing(PRICE_TIERS, floor="5"), metric_name="accuracy", license_terms_id=terms_id,
    )
    promote = PromoteModelNode("promote", [mint], reader=reader, nft=c.nft, versions=c.versions,
                               family_id=family_id, stage="production")
    publishing = Pipeline([publishing_store, anchored, mint, register, eth_usd, price, promote], failure_backoff=0.05)
    return Pipelines(training, training_store, incoming, publishing, publishing_store, anchored, reader, mint,
                     family_id, terms_id)


def drop_predictions(folder: Path, name: str, rows: Sequence[tuple[int, int]]) -> None:
    """Write a file atomically (temp name, then rename) so the watcher sees it complete."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.part"
    tmp.write_text("".join(f"{p},{label}\n" for p, label in rows))
    tmp.rename(folder / name)


def wait_for_new_run(store: BlockchainMetadataStore, runs_before: int, timeout: float) -> int:
    """The id of the first run that started after ``runs_before`` runs existed, once it has ended and is anchored."""
    deadline = time.monotonic() + timeout
    run_id = runs_before + 1
    while True:
        try:
            if store.runs.get_run(run_id)["status"] not in ("running", "pending"):
                break
        except AnacostiaError:
            pass  # not started yet
        if time.monotonic() > deadline:
            raise PipelineError(f"{store.anchoring.pipeline}: run {run_id} did not finish within {timeout:.0f}s")
        time.sleep(0.02)
    if not store.flush_anchors(timeout=timeout):
        raise PipelineError(f"{store.anchoring.pipeline}: run {run_id} was not anchored within {timeout:.0f}s")
    return run_id


def count_runs(store: BlockchainMetadataStore) -> int:
    run_id = 0
    while True:
        try:
            store.runs.get_run(run_id + 1)
        except AnacostiaError:
            return run_id
        run_id += 1


def publish_one(p: Pipelines, file_name: str, rows: Sequence[tuple[int, int]], timeout: float) -> dict[str, Any]:
    """Drop one evaluation file and follow it through both pipelines; what the publishing run recorded."""
    training_runs, publishing_runs = count_runs(p.training_store), count_runs(p.publishing_store)
    drop_predictions(p.incoming.resource_path, file_name, rows)
    training_run = wait_for_new_run(p.training_store, training_runs, timeout)
    p.anchored.notify_anchored()  # in-process shortcut; without it the node sees the anchor at its next poll
    publishing_run = wait_for_new_run(p.publishing_store, publishing_runs, timeout)
    return {"training_run": training_run, "publishing_run": publishing_run,
            "publishing_status": p.publishing_store.runs.get_run(publishing_run)["status"],
            "tags": p.publishing_store.runs.export_run(publishing_run)["tags"]}


def buy_license(c: Contracts, buyer: TxSender, token_id: int) -> dict[str, Any]:
    market = MarketplaceClient(c.client, c.market.address, buyer)
    quote = market.quote(token_id)
    purchase = market.buy(token_id, quote + BUY_MARGIN_WEI)
    owner = c.story.license_token.call("ownerOf", purchase.license_token_id)
    return {"quote_wei": quote, "paid_wei": purchase.paid_wei, "refund_wei": purchase.refund_wei,
            "license_token_id": purchase.license_token_id, "license_owner": owner, "buyer": buyer.signer.address,
            "buy_gas": purchase.gas_used}


def run(workdir: Path, rpc_url: str, operator_key: str, buyer_key: str, timeout: float) -> dict[str, Any]:
    client = ChainClient(rpc_url)
    with ExitStack() as stack:
        operator = stack.enter_context(TxSender(client, LocalSigner.from_key(operator_key)))
        buyer = stack.enter_context(TxSender(client, LocalSigner.from_key(buyer_key)))
        c = deploy(operator, workdir)
        blocks = EmbeddedBlockstore(workdir / "ipfs")
        p = build_pipelines(workdir, operator_key, c, blocks)
        p.training.launch()
        stack.callback(p.training.terminate)
        p.publishing.launch()
        stack.callback(p.publishing.terminate)
        # 19 of 20 held-out predictions right: accuracy 0.95 -> the 99 USD tier, above the 0.90 production bar
        rows = [(i % 10, i % 10) for i in range(19)] + [(1, 7)]
        number = len(list(p.incoming.resource_path.glob("eval-*.csv"))) + 1  # a new file per invocation
        cycle = publish_one(p, f"eval-{number:04d}.csv", rows, timeout)
        tags = cycle["tags"]
        if "model_nft_token_id" not in tags:
            status = p.training_store.runs.get_run(cycle["training_run"])["status"]
            raise PipelineError(f"publishing run {cycle['publishing_run']} minted nothing: training run "
                                f"{cycle['training_run']} is {status}")
        token_id = int(tags["model_nft_token_id"])
        source_run = int(tags["model_nft_source_run"])
        listing = c.market.listing(token_id)
        version = c.versions.version_of_token(p.family_id, token_id)
        summary: dict[str, Any] = {
            "chain_id": client.chain_id,
            "contracts": {"RunRegistry": c.registry.address, "ModelNFT": c.nft.address,
                          "ModelVersions": c.versions.address, "ModelMarketplace": c.market.address},
            **{k: cycle[k] for k in ("training_run", "publishing_run", "publishing_status")},
            "source_run": source_run,
            "accuracy": str(p.reader.load(source_run).metrics()["accuracy"]),
            "token_id": token_id,
            "token_uri": c.nft.token_uri(token_id),
            "metadata_cid": tags["model_nft_metadata_cid"],
            "ip_id": tags["story_ip_id"],
            "license_terms_id": int(tags["story_license_terms_id"]),
            "family_id": p.family_id,
            "version": version,
            "stage": c.versions.stage_of(p.family_id, version) if version is not None else "",
            "price_usd": str(Decimal(listing.price_usd) / USD_SCALE),
            "price_usd_units": str(listing.price_usd),
            "price_basis": tags["price_basis"],
            "eth_usd_answer": tags["eth_usd_answer"],
            "eth_usd_decimals": int(tags["eth_usd_decimals"]),
            "unpublished_runs_left": p.mint.select_run(),
            "purchase": buy_license(c, buyer, token_id),
        }
        return summary


@contextmanager
def chain_and_keys(rpc_url: str | None, env: Mapping[str, str]) -> Iterator[tuple[str, str, str]]:
    """``(rpc_url, operator_key, buyer_key)``: a fresh anvil with its dev accounts, or the given node and env keys."""
    if rpc_url is None:
        with Devnet() as devnet:
            yield devnet.rpc_url, devnet.accounts[0].private_key, devnet.accounts[1].private_key
        return
    missing = [v for v in ("ANACOSTIA_PRIVATE_KEY", "ANACOSTIA_BUYER_KEY") if not env.get(v)]
    if missing:
        raise ConfigurationError(f"with --rpc-url set {' and '.join(missing)} (the keys are read from there only)")
    yield rpc_url, env["ANACOSTIA_PRIVATE_KEY"], env["ANACOSTIA_BUYER_KEY"]


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rpc-url", help="an existing node (keys from ANACOSTIA_PRIVATE_KEY / ANACOSTIA_BUYER_KEY); "
                                          "default: start a fresh anvil")
    parser.add_argument("--workdir", type=Path, help="databases, watched folder, IPFS blocks, deployments "
                                                     "(default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for each run (default 60)")
    args = parser.parse_args(argv)
    environment = dict(env) if env is not None else {}
    try:
        with ExitStack() as stack:
            workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
            rpc_url, operator_key, buyer_key = stack.enter_context(chain_and_keys(args.rpc_url, environment))
            summary = run(workdir, rpc_url, operator_key, buyer_key, args.timeout)
    except AnacostiaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    import os

    raise SystemExit(main(env=os.environ))
