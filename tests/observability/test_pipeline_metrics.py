"""A pipeline's metrics on prometheus-client's own HTTP server, read with prometheus-client's own parser: runs by
status, the anchor outbox's depth and age, anchor latency and the transaction sender's counters move as a real
BlockchainMetadataStore anchors runs on a real anvil."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.observability import MetricsServer, PipelineCollector, metrics_registry

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
LABELS = {"pipeline": "metrics-test"}


def scrape(server: MetricsServer) -> Samples:
    with urllib.request.urlopen(server.url, timeout=10) as response:
        text = response.read().decode()
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset({**LABELS, **labels}.items()))]


@pytest.fixture
def admin(fresh_chain: Devnet) -> Iterator[TxSender]:
    sender = TxSender(ChainClient(fresh_chain.rpc_url), LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    try:
        yield sender
    finally:
        sender.close()


@pytest.fixture
def store(fresh_chain: Devnet, admin: TxSender, tmp_path: Path) -> Iterator[BlockchainMetadataStore]:
    registry = admin.deploy("RunRegistry", admin.signer.address, admin.signer.address)
    s = BlockchainMetadataStore(
        "metadata", f"sqlite:///{tmp_path / 'metadata.db'}", signer=admin.signer, rpc_url=fresh_chain.rpc_url,
        registry_address=registry.address, pipeline=LABELS["pipeline"],
    )
    s.open_store()
    try:
        yield s
    finally:
        s.on_stop()
        s.close_store()


def produce_run(store: BlockchainMetadataStore, status: RunStatus = RunStatus.SUCCESS) -> int:
    run_id = store.runs.begin_run("test", [])
    store.log_batch(metrics=[("acc", 0.9, 0)])
    store.runs.end_run(run_id, status)
    store.on_run_end(run_id, status)
    return run_id


def test_pipeline_metrics_follow_runs_anchors_and_transactions(store: BlockchainMetadataStore, admin: TxSender) -> None:
    collector = PipelineCollector(lambda: {LABELS["pipeline"]: store})
    with MetricsServer(metrics_registry(collector), port=0) as server:
        assert ("anacostia_runs", frozenset({**LABELS, "status": "success"}.items())) not in scrape(server)
        produce_run(store)
        produce_run(store)
        produce_run(store, RunStatus.FAILED)
        waiting = scrape(server)
        assert value(waiting, "anacostia_runs", status="success") == 2
        assert value(waiting, "anacostia_runs", status="failed") == 1
        assert value(waiting, "anacostia_outbox_entries", kind="run-anchor", status="pending") == 3
        assert value(waiting, "anacostia_outbox_oldest_age_seconds", kind="run-anchor", status="pending") >= 0
        assert value(waiting, "anacostia_anchor_latency_seconds_count") == 0
        assert not any(name.startswith("anacostia_tx_") for name, _ in waiting)  # not connected yet

        assert store.flush_anchors(timeout=30)
        anchored = scrape(server)
        assert value(anchored, "anacostia_outbox_entries", kind="run-anchor", status="confirmed") == 3
        assert ("anacostia_outbox_oldest_age_seconds",
                frozenset({**LABELS, "kind": "run-anchor", "status": "pending"}.items())) not in anchored
        assert value(anchored, "anacostia_anchor_latency_seconds_count") == 3
        assert value(anchored, "anacostia_anchor_latency_seconds_bucket", le="+Inf") == 3
        assert value(anchored, "anacostia_anchor_latency_seconds_sum") > 0
        account = {"account": store.anchoring.connection.signer.address}
        assert value(anchored, "anacostia_tx_sent_total", **account) == 1  # the three anchors in one transaction
        assert value(anchored, "anacostia_tx_fee_refreshes_total", **account) >= 1
        assert value(anchored, "anacostia_tx_nonce_resyncs_total", **account) == 0
        assert value(anchored, "anacostia_metrics_source_up", source="anchors") == 1

        admin.send_value(admin.signer.address, 1)  # the same account sends elsewhere: the store's nonce is stale
        produce_run(store)
        assert store.flush_anchors(timeout=30)
        repaired = scrape(server)
        assert value(repaired, "anacostia_tx_nonce_resyncs_total", **account) >= 1
        assert value(repaired, "anacostia_tx_repairs_total", reason="nonce", **account) >= 1
        assert value(repaired, "anacostia_tx_sent_total", **account) >= 2
        assert value(repaired, "anacostia_anchor_latency_seconds_count") == 4


def test_an_unavailable_source_is_reported_not_fatal(store: BlockchainMetadataStore) -> None:
    collector = PipelineCollector(lambda: {LABELS["pipeline"]: store})
    with MetricsServer(metrics_registry(collector, process=False), port=0) as server:
        assert value(scrape(server), "anacostia_metrics_source_up", source="runs") == 1
        store.runs.engine.dispose()
        store.anchoring.outbox.table.drop(store.runs.engine)  # the outbox is gone; runs still answer
        broken = scrape(server)
        assert value(broken, "anacostia_metrics_source_up", source="outbox") == 0
        assert value(broken, "anacostia_metrics_source_up", source="runs") == 1


def test_a_port_in_use_is_a_one_line_error() -> None:
    with MetricsServer(metrics_registry(process=False), port=0) as first, \
            pytest.raises(ConfigurationError, match=f"cannot serve metrics on 127.0.0.1:{first.port}: "):
        MetricsServer(metrics_registry(process=False), port=first.port).start()
