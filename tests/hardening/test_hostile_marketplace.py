"""Hostile content behind model NFTs, seen through the marketplace (indexer, metadata fetcher, API) and through
``actions.anchored_run.AnchoredRunReader``.

- Malformed metadata JSON (not JSON, not an object, nested 200,000 deep, NaN/Infinity, oversized, not UTF-8, ...):
  the model is indexed with metadata status ``invalid`` and the reason; the fetcher keeps running; the good models,
  the listing and every endpoint answer normally (no 5xx).
- Token URIs that are not verifiable IPFS metadata: no CID / a malformed CID is ``invalid`` or ``none``; a CID nobody
  serves is ``unavailable`` (retried later, never ``invalid``).
- A model NFT claiming an edited manifest under the genuine anchored root: live verification reports the manifest
  CID mismatch; the reader only ever trusts the anchored manifest; a content store that serves edited bytes under
  the anchored CID, and an anchor whose root is not its manifest's, are typed errors.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hostile_market_world import (
    HOSTILE_DOCUMENTS,
    PIPELINE_NAME,
    TAMPERED_RUN,
    HostileMarket,
    build_hostile_market,
    detail,
    run_key,
)
from hostile_storage import KuboEmulator

from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.errors import CorruptBlockError, TamperedManifestError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, KuboClient
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.chain_gateway import ChainGateway

PLAIN_RUN_ID = 8  # the service world's run anchored with a root that is not its manifest's


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBlockstore:
    return EmbeddedBlockstore(tmp_path_factory.mktemp("ipfs"), fsync=False)


@pytest.fixture(scope="module")
def market(devnet: Devnet, ipfs: EmbeddedBlockstore, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[HostileMarket]:
    outer = devnet.snapshot()
    try:
        yield build_hostile_market(devnet, ipfs, tmp_path_factory.mktemp("deployments"))
    finally:
        devnet.revert(outer)


@pytest.fixture(scope="module")
def indexed(devnet: Devnet, market: HostileMarket, ipfs: EmbeddedBlockstore,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, TestClient]]:
    """One app over the hostile world, indexed to the head and with every fetchable document fetched."""
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path_factory.mktemp('index') / 'index.db'}", siwe_domain="testserver",
        siwe_uri="http://testserver", rate_limit=RateLimit(per_second=10_000, burst=10_000), run_indexer=False,
        response_cache_seconds=0,
    )
    gateway = ChainGateway(ChainClient(devnet.rpc_url), market.world.addresses)
    app = create_app(config, gateway=gateway, content_store=ipfs)
    state = app.state.service
    state.indexer.start_block = market.world.deploy_block
    with TestClient(app) as http:
        state.indexer.sync_to_head()
        while state.fetcher.fetch_once():
            continue  # until every document was fetched
        yield app, http


@pytest.mark.parametrize("case", list(HOSTILE_DOCUMENTS))
def test_malformed_metadata_is_marked_invalid_with_the_reason(indexed: tuple[FastAPI, TestClient],
                                                              market: HostileMarket, case: str) -> None:
    _, http = indexed
    item = detail(http.get(f"/models/{market.tokens[case]}"))
    assert item["metadata"]["status"] == "invalid", item["metadata"]
    assert item["metadata"]["error"] and item["metadata"]["document"] is None
    assert item["metrics"] == {}


def test_odd_field_types_are_indexed_without_metrics(indexed: tuple[FastAPI, TestClient],
                                                     market: HostileMarket) -> None:
    _, http = indexed
    item = detail(http.get(f"/models/{market.odd_token}"))
    assert item["metadata"]["status"] == "verified" and item["metrics"] == {}


def test_uris_that_are_not_verifiable_ipfs_metadata(indexed: tuple[FastAPI, TestClient],
                                                    market: HostileMarket) -> None:
    app, http = indexed
    https = detail(http.get(f"/models/{market.tokens['https URL']}"))
    assert https["metadata"]["cid"] is None and https["metadata"]["status"] == "none"  # nothing to verify
    bad_cid = detail(http.get(f"/models/{market.tokens['ipfs URI with a malformed CID']}"))
    assert bad_cid["metadata"]["status"] == "invalid" and "InvalidCIDError" in bad_cid["metadata"]["error"]
    missing = detail(http.get(f"/models/{market.tokens['CID nobody stores']}"))
    assert missing["metadata"]["status"] == "unavailable"  # retried later, not condemned
    fetcher = app.state.service.fetcher
    fetcher.retry_seconds = 0
    try:
        assert missing["metadata"]["cid"] in fetcher.pending()
    finally:
        fetcher.retry_seconds = 30.0


def test_the_rest_of_the_marketplace_is_unaffected(indexed: tuple[FastAPI, TestClient],
                                                   market: HostileMarket) -> None:
    app, http = indexed
    good = detail(http.get(f"/models/{market.world.listed_token}"))
    assert good["metadata"]["status"] == "verified" and good["metrics"]["accuracy"] == pytest.approx(0.9731)
    assert good["verification"]["checked"] and good["verification"]["matches_token"]
    listing = detail(http.get("/models", params={"page_size": 100}))
    assert listing["total"] == len(market.tokens) + 4  # 2 world models, the odd one, the tampered claim
    for item in listing["items"]:
        assert all(math.isfinite(v) for v in item["metrics"].values())
    by_metric = detail(http.get("/models", params={"metric": "accuracy", "sort": "metric_desc"}))
    # only the tokens whose (shared, genuine) metadata document verified carry an accuracy
    assert {i["token_id"] for i in by_metric["items"]} == {market.world.listed_token, market.world.plain_token,
                                                           market.tampered_token}
    for sort in ["newest", "oldest", "price_asc", "price_desc", "token_id"]:
        detail(http.get("/models", params={"sort": sort}))
    assert detail(http.get("/status"))["indexer_error"] is None
    assert app.state.service.fetcher.fetch_once() == 0  # nothing left that could still be resolved


def test_a_token_claiming_an_edited_manifest_is_reported(indexed: tuple[FastAPI, TestClient],
                                                         market: HostileMarket) -> None:
    _, http = indexed
    item = detail(http.get(f"/models/{market.tampered_token}"))
    verification = item["verification"]
    assert verification["checked"] and verification["anchored"]
    assert verification["matches_token"] is True  # the root is genuine ...
    assert verification["manifest_matches"] is False  # ... the manifest the token names is not the anchored one
    assert item["lineage"]["manifest_cid"] == market.tampered_manifest_cid
    assert item["anchor"]["manifest_cid"] != market.tampered_manifest_cid


def test_the_run_verifier_reports_an_anchor_that_is_not_its_manifests_root(
    indexed: tuple[FastAPI, TestClient]
) -> None:
    _, http = indexed
    verdict = detail(http.get(f"/runs/{run_key(PLAIN_RUN_ID)}/verify"))
    assert verdict["manifest_verified"] is False and verdict["detail"].startswith("TamperedManifestError")
    verdict = detail(http.get(f"/runs/{run_key(TAMPERED_RUN)}/verify"))
    assert verdict["manifest_verified"] is True  # the anchored manifest itself is genuine


def _reader(devnet: Devnet, market: HostileMarket, content: Any) -> AnchoredRunReader:
    registry = RunRegistryClient(ChainClient(devnet.rpc_url), market.world.addresses["RunRegistry"])
    return AnchoredRunReader(registry, content, PIPELINE_NAME)


def test_the_reader_trusts_only_the_anchored_manifest(devnet: Devnet, market: HostileMarket,
                                                      ipfs: EmbeddedBlockstore) -> None:
    run = _reader(devnet, market, ipfs).load(TAMPERED_RUN)
    assert str(run.metric("accuracy").decimal) == "0.61"  # not the 0.99 the token's manifest claims
    with pytest.raises(TamperedManifestError, match="root") as info:
        _reader(devnet, market, ipfs).load(PLAIN_RUN_ID)
    assert info.value.items == ["root"]


def test_the_reader_refuses_a_store_serving_edited_manifest_bytes(devnet: Devnet, market: HostileMarket,
                                                                  ipfs: EmbeddedBlockstore, tmp_path: Path) -> None:
    kubo = KuboEmulator(tmp_path / "kubo")
    kubo.start()
    try:
        client = KuboClient(kubo.url, retries=0)
        anchored = _reader(devnet, market, ipfs).load(TAMPERED_RUN).anchor.manifest_cid
        genuine = ipfs.cat(anchored)
        assert str(client.add_bytes(genuine, cid_version=1).cid) == anchored
        kubo.tamper[CID.parse(anchored).multihash] = genuine.replace(b"61", b"99")  # one raw block: the manifest
        with pytest.raises(CorruptBlockError):
            _reader(devnet, market, client).load(TAMPERED_RUN)
    finally:
        kubo.stop()


def test_run_verification_through_a_store_serving_edited_manifest_bytes(devnet: Devnet, market: HostileMarket,
                                                                        ipfs: EmbeddedBlockstore,
                                                                        tmp_path: Path) -> None:
    """The verdict is "manifest unavailable" naming the corrupt block — never "verified", never a 5xx."""
    kubo = KuboEmulator(tmp_path / "kubo")
    kubo.start()
    try:
        client = KuboClient(kubo.url, retries=0)
        anchored = _reader(devnet, market, ipfs).load(TAMPERED_RUN).anchor.manifest_cid
        genuine = ipfs.cat(anchored)
        client.add_bytes(genuine, cid_version=1)
        kubo.tamper[CID.parse(anchored).multihash] = genuine.replace(b"61", b"99")
        config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'index.db'}", siwe_domain="testserver",
                               siwe_uri="http://testserver", run_indexer=False, response_cache_seconds=0)
        app = create_app(config, gateway=ChainGateway(ChainClient(devnet.rpc_url), market.world.addresses),
                         content_store=client)
        app.state.service.indexer.start_block = market.world.deploy_block
        with TestClient(app) as http:
            app.state.service.indexer.sync_to_head()
            verdict = detail(http.get(f"/runs/{run_key(TAMPERED_RUN)}/verify"))
        assert verdict["matches"] is True and verdict["manifest_verified"] is None
        assert "CorruptBlockError" in verdict["detail"]
    finally:
        kubo.stop()
