"""MintModelNFTNode outside a pipeline: what it selects, what it mints, and that it never mints a run twice."""

from __future__ import annotations

import json

from anacostia_blockchain.actions.mint_nft import MintModelNFTNode
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions
from anacostia_blockchain.chain.contracts.model_nft import cid_from_token_uri


def make_node(nft_world, anchored) -> MintModelNFTNode:
    return MintModelNFTNode("mint", [], reader=anchored.reader, nft=nft_world.nft, content=anchored.blocks,
                            options=ModelMetadataOptions(name="Fraud model"),
                            owner=nft_world.stranger.signer.address)


def test_selects_the_oldest_anchored_run_without_a_token(nft_world, anchored):
    node = make_node(nft_world, anchored)
    assert node.select_run() is None
    anchored.publish(1, 0.91)
    anchored.publish(2, 0.95)
    assert node.select_run() == 1
    first = node.publish(1)
    assert node.select_run() == 2
    assert first.minted.owner == nft_world.stranger.signer.address
    node.publish(2)
    assert node.select_run() is None


def test_publishing_twice_returns_the_existing_token(nft_world, anchored):
    anchored.publish(1, 0.91)
    node = make_node(nft_world, anchored)
    first = node.publish(1)
    again = node.publish(1)  # e.g. a retry after a lost receipt
    assert again.minted.token_id == first.minted.token_id == 1
    assert again.minted.tx_hash == first.minted.tx_hash
    assert again.metadata_cid == first.metadata_cid  # canonical metadata: same bytes, same CID
    assert nft_world.nft.total_minted() == 1


def test_metadata_is_derived_from_the_verified_manifest(nft_world, anchored):
    manifest, manifest_cid = anchored.publish(1, 0.91)
    published = make_node(nft_world, anchored).publish(1)
    uri = nft_world.nft.token_uri(published.minted.token_id)
    doc = json.loads(anchored.blocks.cat(cid_from_token_uri(uri)))
    assert doc["properties"]["metrics"] == {"accuracy": "0.91", "loss": "0.3"}
    assert doc["properties"]["manifest_cid"] == manifest_cid
    assert doc["properties"]["anchor_root"] == "0x" + manifest.root.hex()
    assert doc["properties"]["code_fingerprints"] == {"train": "sha256:abc"}
    assert doc["attributes"] == [{"trait_type": "accuracy", "value": "0.91"}, {"trait_type": "loss", "value": "0.3"}]


def test_a_late_mined_earlier_attempt_is_adopted_not_duplicated(nft_world, anchored):
    """The race a lost receipt causes: the chain already holds the run's token when the retry mints."""
    anchored.publish(1, 0.91)
    run = anchored.reader.load(1)
    earlier = nft_world.nft.mint(nft_world.admin.signer.address, "ipfs://bafkreiearlier", pipeline_id=run.pipeline_id,
                                 run_id=1, anchor_root=run.anchor.merkle_root, manifest_cid=run.anchor.manifest_cid)
    published = make_node(nft_world, anchored).publish(1)
    assert published.minted.token_id == earlier.token_id
    assert published.minted.tx_hash == earlier.tx_hash
    assert nft_world.nft.total_minted() == 1
