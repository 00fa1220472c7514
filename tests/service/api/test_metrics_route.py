"""``GET /metrics``: Prometheus text that prometheus-client's own parser reads, with values that move as the service
works (response-cache hits and misses, rate-limit refusals, the indexer's lag behind the chain)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from service_helpers import AppFactory, state

from anacostia_blockchain.chain import Devnet
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def test_cache_hits_and_rate_limit_refusals_are_counted(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'index.db'}", chain_id=31337,
                           rate_limit=RateLimit(per_second=0.001, burst=3))
    app = create_app(config)
    visitor, prometheus = TestClient(app, client=("10.0.0.7", 1)), TestClient(app, client=("10.0.0.9", 1))
    before = scrape(prometheus)
    assert value(before, "anacostia_response_cache_requests_total", result="hit") == 0
    assert value(before, "anacostia_rate_limit_refusals_total") == 0
    assert [visitor.get("/models").status_code for _ in range(4)] == [200, 200, 200, 429]
    after = scrape(prometheus)
    assert value(after, "anacostia_response_cache_requests_total", result="miss") == 1
    assert value(after, "anacostia_response_cache_requests_total", result="hit") == 2
    assert value(after, "anacostia_rate_limit_refusals_total") == 1
    assert value(after, "process_cpu_seconds_total") >= 0  # prometheus-client's own process metrics come along
    assert "/metrics" not in app.openapi()["paths"]


def test_the_indexer_lag_follows_the_chain(make_app: AppFactory, sqlite_url: str, chain: Devnet) -> None:
    app = make_app(sqlite_url)
    indexer = state(app).indexer
    assert indexer is not None
    client = TestClient(app)
    assert ("anacostia_indexer_lag_blocks", frozenset()) not in scrape(client)  # never asked the chain yet
    indexer.sync_to_head()
    caught_up = scrape(client)
    assert value(caught_up, "anacostia_indexer_lag_blocks") == 0
    assert value(caught_up, "anacostia_indexer_healthy") == 1
    head = value(caught_up, "anacostia_indexer_chain_head_block")
    assert value(caught_up, "anacostia_indexer_next_block") == head + 1
    indexer.batch_blocks = 2
    chain.mine(5)
    indexer.sync_once()  # two of the five new blocks
    behind = scrape(client)
    assert value(behind, "anacostia_indexer_chain_head_block") == head + 5
    assert value(behind, "anacostia_indexer_lag_blocks") == 3
