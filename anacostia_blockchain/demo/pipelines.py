"""The demo's two pipelines, stitched together through the chain.

``digits-training`` (input: a watched folder)::

    training_store (BlockchainMetadataStore) ── every run anchored in RunRegistry
    incoming (watched folder) ─> validate_clean_encrypt ─> prepared_data (IPFS, encrypted)
                                         └─> train ─> models (IPFS, encrypted) ─> evaluate (held-out accuracy)
                                               └─ models/artefacts/: the training batch (every prepared batch so far,
                                                  by CID, with its formula and record schema) and the checkpoint

``digits-publishing`` (input: the anchored runs of ``digits-training``)::

    publishing_store (BlockchainMetadataStore) ── its runs are anchored too
    anchored_training_runs ─> mint_model_nft ─> register_ip ─> eth_usd ─> price_and_list
                                         └─> promote (on-chain gate: the anchored accuracy must reach the bar;
                                                      never below the production model's: else published, not promoted)

Each model NFT's metadata points at its checkpoint and training batch manifests, so its exact training set can be
rebuilt from the chain and IPFS. A publishing run starts when a training run is anchored, so everything it
publishes comes from a manifest whose root the chain holds; metrics in the NFT metadata, the promoted value and the
price basis are all provable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ..actions.anchored_run import AnchoredRunReader
from ..actions.classifier import EvaluateClassifierNode, TrainClassifierNode
from ..actions.data_prep import DataPrepNode
from ..actions.data_prep_schema import FieldSpec, RecordSchema
from ..actions.mint_nft import MintModelNFTNode
from ..actions.model_metadata import ModelMetadataOptions
from ..actions.price_feed import PriceFeedNode
from ..actions.pricing import DynamicPricingNode
from ..actions.pricing_rules import CurvePricing
from ..actions.promote import PromoteModelNode
from ..actions.register_ip import RegisterIPNode
from ..artefacts import DataSchema
from ..chain.contracts.merkle import scale_metric
from ..chain.story.terms import commercial_use
from ..chain.tx.signer import LocalSigner
from ..crypto import public_key_for_private_key
from ..engine.pipeline import Pipeline
from ..metadata import BlockchainMetadataStore
from ..resources.anchored_runs import AnchoredRunsNode
from ..resources.filesystem import FilesystemStoreNode
from ..resources.ipfs_store import IPFSStoreNode
from .digits_data import FIELD_NAMES, PIXELS, load_split
from .world import DemoWorld

TRAINING_PIPELINE = "digits-training"
PUBLISHING_PIPELINE = "digits-publishing"
MODEL_FAMILY = "digits-classifier"
PRODUCTION_BAR = Decimal("0.85")
#: USD price by held-out accuracy: piecewise linear between these points (flat outside them).
PRICE_CURVE = [("0.90", "20"), ("0.95", "80"), ("0.99", "200")]


def key_bytes(private_key_hex: str) -> bytes:
    return bytes.fromhex(private_key_hex.removeprefix("0x"))


@dataclass
class TrainingPipeline:
    pipeline: Pipeline
    store: BlockchainMetadataStore
    incoming: FilesystemStoreNode
    prepared: IPFSStoreNode
    models: IPFSStoreNode


@dataclass
class PublishingPipeline:
    pipeline: Pipeline
    store: BlockchainMetadataStore
    anchored: AnchoredRunsNode
    reader: AnchoredRunReader
    family_id: int
    license_terms_id: int


def build_training(world: DemoWorld) -> TrainingPipeline:
    operator_key = key_bytes(world.operator.private_key)
    operator_public = public_key_for_private_key(operator_key)
    service_public = public_key_for_private_key(key_bytes(world.service.private_key))
    store = BlockchainMetadataStore(
        "training_store",
        f"sqlite:///{world.workdir / 'training.db'}",
        signer=LocalSigner.from_key(world.operator.private_key),
        client=world.client,
        registry_address=world.registry.address,
        pipeline=TRAINING_PIPELINE,
        content_store=world.blocks,
    )
    incoming = FilesystemStoreNode("incoming", world.workdir / "incoming", store, create=True)
    prepared = IPFSStoreNode("prepared_data", store, store=world.blocks)
    models = IPFSStoreNode("models", store, store=world.blocks)
    schema = RecordSchema(tuple(FieldSpec(name, "int") for name in FIELD_NAMES))
    prep = DataPrepNode(
        "validate_clean_encrypt",
        incoming,
        prepared,
        schema=schema,
        recipient_public_keys=[operator_public],
        quarantine_dir=world.workdir / "quarantine",
    )
    train = TrainClassifierNode(
        "train",
        [prep],
        metadata_store=store,
        data_resource=prepared,
        model_resource=models,
        operator_private_key=operator_key,
        recipient_public_keys=[operator_public, service_public],
        feature_fields=[f"p{i}" for i in range(PIXELS)],
        dataset_name="digits-training",
        record_schema=DataSchema.of("digits-records", [(field.name, field.type) for field in schema.fields],
                                    kind="record"),
    )
    split = load_split()
    evaluate = EvaluateClassifierNode(
        "evaluate",
        [train],
        metadata_store=store,
        model_resource=models,
        operator_private_key=operator_key,
        evaluation_set=lambda: (split.eval_x, split.eval_y),
    )
    pipeline = Pipeline([store, incoming, prepared, models, prep, train, evaluate], failure_backoff=0.05)
    return TrainingPipeline(pipeline, store, incoming, prepared, models)


def ensure_family(world: DemoWorld) -> int:
    """The model family owned by the operator, with its production gate (created once)."""
    for created in world.versions.contract.events("FamilyCreated", owner=world.operator.address):
        if created.args["name"] == MODEL_FAMILY:
            return int(created.args["familyId"])
    family_id = world.versions.create_family(MODEL_FAMILY)
    world.versions.set_gate(family_id, "production", "accuracy", scale_metric(PRODUCTION_BAR), higher_is_better=True)
    return family_id


def build_publishing(world: DemoWorld) -> PublishingPipeline:
    store = BlockchainMetadataStore(
        "publishing_store",
        f"sqlite:///{world.workdir / 'publishing.db'}",
        signer=LocalSigner.from_key(world.operator.private_key),
        client=world.client,
        registry_address=world.registry.address,
        pipeline=PUBLISHING_PIPELINE,
        content_store=world.blocks,
    )
    anchored = AnchoredRunsNode(
        "anchored_training_runs", store, registry=world.registry, pipeline=TRAINING_PIPELINE, poll_interval=0.2
    )
    reader = AnchoredRunReader(world.registry, world.blocks, TRAINING_PIPELINE)
    terms = commercial_use(minting_fee=0, currency=world.story.addresses.test_currency)
    terms_id = world.story.register_pil_terms(terms).license_terms_id
    family_id = ensure_family(world)
    mint = MintModelNFTNode(
        "mint_model_nft",
        [anchored],
        reader=reader,
        nft=world.nft,
        content=world.blocks,
        required_metrics=("accuracy",),
        options=ModelMetadataOptions(
            name="Handwritten digits classifier",
            description="Logistic regression on 8x8 digit images; trained, evaluated and anchored by Anacostia.",
            dataset_resources=("prepared_data",),
            model_resources=("models",),
        ),
    )
    register = RegisterIPNode("register_ip", [mint], story=world.story, model_nft=world.nft, terms=terms)
    eth_usd = PriceFeedNode("eth_usd", [register], feed=world.feed)
    pricing = DynamicPricingNode(
        "price_and_list",
        [eth_usd],
        reader=reader,
        nft=world.nft,
        marketplace=world.market,
        rule=CurvePricing(PRICE_CURVE),
        metric_name="accuracy",
        license_terms_id=terms_id,
    )
    promote = PromoteModelNode(  # every model is published; only one that meets the bar and beats production moves
        "promote", [mint], reader=reader, nft=world.nft, versions=world.versions, family_id=family_id,
        stage="production", fail_on_refusal=False,
    )
    pipeline = Pipeline([store, anchored, mint, register, eth_usd, pricing, promote], failure_backoff=0.05)
    return PublishingPipeline(pipeline, store, anchored, reader, family_id, terms_id)
