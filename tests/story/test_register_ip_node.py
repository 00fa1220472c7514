"""``RegisterIPNode`` in a real pipeline (SQLite metadata store, node threads) on the story-compat anvil: model NFTs
become Story IP assets with the configured terms, the outcome lands in the metadata store, re-runs change nothing,
and a registration interrupted before its terms were attached is completed by the next run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.actions.register_ip import RegisterIPNode
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.story import STORY_NETWORKS, ip_id_for
from anacostia_blockchain.chain.story.terms import ZERO_ADDRESS, commercial_remix
from anacostia_blockchain.engine import BaseResourceNode, Pipeline
from anacostia_blockchain.metadata import SqliteMetadataStore

from .conftest import StoryWorld

AENEID = STORY_NETWORKS[1315]


class ModelDrop(BaseResourceNode):
    """A resource whose artifacts are recorded by the test: each recorded artifact triggers one run."""


class Harness:
    def __init__(self, world: StoryWorld, tmp_path: Path) -> None:
        self.world = world
        publisher = world.sender(1)
        self.nft = ModelNFTClient(
            world.client,
            publisher.deploy("ModelNFT", "Models", "MDL", publisher.signer.address, ZERO_ADDRESS).address,
            publisher,
        )
        self.nft.grant_minter(publisher.signer.address)
        self.terms = commercial_remix(minting_fee=10**18, currency=AENEID.test_currency, rev_share_percent=5)
        self.story = world.story(1)
        self.store = SqliteMetadataStore("store", f"sqlite:///{tmp_path / 'meta.db'}")
        self.drop = ModelDrop("models", self.store)
        self.node = RegisterIPNode("register_ip", [self.drop], story=self.story, model_nft=self.nft, terms=self.terms)
        self.pipeline = Pipeline([self.store, self.drop, self.node])
        self.runs = 0

    def mint_model(self, run_id: int) -> int:
        minted = self.nft.mint(
            self.story.sender.signer.address,  # type: ignore[union-attr]
            f"ipfs://model-{run_id}",
            pipeline_id=hashlib.sha256(b"pipeline").digest(),
            run_id=run_id,
            anchor_root=hashlib.sha256(f"root-{run_id}".encode()).digest(),
            manifest_cid=f"bafy-manifest-{run_id}",
        )
        return minted.token_id

    def run_once(self) -> int:
        self.runs += 1
        self.drop.record_detected(f"model-{self.runs}.bin", hashlib.sha256(str(self.runs).encode()).hexdigest(), 1)
        assert self.pipeline.wait_for_runs(self.runs, timeout=60), "the run did not finish"
        run = self.store.runs.get_runs()[-1]
        assert run["status"] == "success", run
        return int(run["id"])


@pytest.fixture
def harness(world: StoryWorld, tmp_path: Path) -> Iterator[Harness]:
    state = Harness(world, tmp_path)
    state.pipeline.launch()
    try:
        yield state
    finally:
        state.pipeline.terminate()


def test_registers_the_model_nft_and_records_ids_in_the_store(harness: Harness) -> None:
    token_id = harness.mint_model(1)
    run_id = harness.run_once()
    expected_ip = ip_id_for(1315, harness.nft.address, token_id)
    tags = harness.store.runs.get_tags(run_id)
    assert tags["story_ip_id"] == expected_ip
    assert tags["story_token_id"] == token_id and tags["story_token_contract"] == harness.nft.address
    assert tags["story_license_terms_id"] == 2 and tags["story_license_template"] == AENEID.pil_license_template
    assert tags["story_register_tx"].startswith("0x") and tags["story_attach_tx"].startswith("0x")
    params = harness.store.runs.get_params(run_id)
    assert params["story_terms_commercial_use"] is True and params["story_terms_rev_share"] == 5_000_000
    assert harness.story.is_registered(expected_ip) and harness.story.has_terms(expected_ip, 2)
    (published,) = harness.node.published
    assert published.registration.created and published.attachment.created


def test_rerun_is_idempotent_and_picks_up_the_next_model(harness: Harness) -> None:
    first = harness.mint_model(1)
    harness.run_once()
    block = harness.world.client.block_number()
    second_run = harness.run_once()  # nothing left to do: no transaction at all
    assert harness.world.client.block_number() == block
    assert "story_ip_id" not in harness.store.runs.get_tags(second_run)
    second = harness.mint_model(2)
    third_run = harness.run_once()
    assert harness.store.runs.get_tags(third_run)["story_token_id"] == second != first
    assert [p.token_id for p in harness.node.published] == [first, second]
    registry = Contract.at(harness.world.client, "IPAssetRegistry", AENEID.ip_asset_registry)
    assert registry.call("totalSupply") == 2


def test_an_interrupted_registration_is_completed_without_duplicates(harness: Harness) -> None:
    token_id = harness.mint_model(1)
    registration = harness.story.register_ip(harness.nft.address, token_id)  # as if the node died after this call
    run_id = harness.run_once()
    (published,) = harness.node.published
    assert not published.registration.created and published.attachment.created
    assert harness.store.runs.get_tags(run_id)["story_ip_id"] == registration.ip_id
    license_registry = Contract.at(harness.world.client, "LicenseRegistry", AENEID.license_registry)
    assert license_registry.call("getAttachedLicenseTermsCount", registration.ip_id) == 1
