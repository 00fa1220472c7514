"""BlockchainMetadataStore on a real anvil and real SQLite files: anchoring, verification, tampering, proofs."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from anacostia_blockchain.anchoring.manifest import manifest_cid
from anacostia_blockchain.anchoring.verifier import ItemProof
from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.errors import (
    ConfigurationError,
    ManifestItemNotFoundError,
    RunNotAnchoredError,
    TamperedManifestError,
)
from anacostia_blockchain.metadata import BlockchainMetadataStore

from .conftest import RegistryEnv
from .store_helpers import PIPELINE, make_store, produce_run

POSTGRES_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@pytest.fixture
def store(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[BlockchainMetadataStore]:
    s = make_store(
        tmp_path / "metadata.db",
        registry_env.devnet.accounts[0].private_key,
        registry_env.registry.address,
        client=registry_env.client,
    )
    try:
        yield s
    finally:
        s.on_stop()
        s.close_store()


@pytest.mark.parametrize("items", [0, 1, 1000])
def test_runs_with_0_1_and_1000_items_are_anchored_with_one_transaction_and_verify(
    store: BlockchainMetadataStore, registry_env: RegistryEnv, items: int
) -> None:
    run_id = produce_run(store, items)
    entry = store.anchor_status(run_id)
    assert entry is not None and entry.status == "pending"  # written locally first
    assert store.flush_anchors(timeout=30)
    entry = store.anchor_status(run_id)
    assert entry is not None and entry.status == "confirmed"
    assert entry.result is not None and entry.result["batchSize"] == 1
    assert entry.result["gasUsed"] <= 52_500  # one tx, independent of the item count
    report = store.verify_run(run_id)
    assert report.items == items + 1  # + the run leaf
    assert report.anchor is not None and report.anchor.tx_hash == entry.result["txHash"]
    assert registry_env.registry.run_root(merkle.pipeline_id(PIPELINE), run_id) == report.root
    assert store.runs.get_run(run_id)["hash"] == "0x" + report.root.hex()


def test_background_sender_batches_pending_anchors_into_one_transaction(store: BlockchainMetadataStore) -> None:
    runs = [produce_run(store, 5, seed=i) for i in range(6)]  # the sender is not running yet: all pending
    store.on_start()
    assert store.anchoring.sender.flush(timeout=30)
    entries = [store.anchor_status(r) for r in runs]
    results = [e.result for e in entries if e is not None and e.result is not None]
    assert len(results) == 6 and {r["txHash"] for r in results} == {results[0]["txHash"]}
    assert results[0]["batchSize"] == 6
    for run_id in runs:
        assert store.verify_run(run_id).verdict == "verified"


def test_a_changed_sql_value_is_reported_as_tampered_naming_the_item(store: BlockchainMetadataStore) -> None:
    run_id = produce_run(store, 10)
    assert store.flush_anchors()
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE metrics SET value = 0.99 WHERE run_id = :r AND step = 3"), {"r": run_id})
        conn.execute(text("UPDATE params SET value = '0.5' WHERE run_id = :r AND key = 'lr'"), {"r": run_id})
    with pytest.raises(TamperedManifestError) as info:
        store.verify_run(run_id)
    assert info.value.items == ["metric:acc@3", "param:lr"]
    assert "SQL store" in str(info.value) and "metric:acc@3" in str(info.value)


def test_a_changed_archived_manifest_is_reported_as_tampered_naming_the_item(store: BlockchainMetadataStore) -> None:
    run_id = produce_run(store, 10)
    assert store.flush_anchors()
    stored = store.anchoring.archive.load(store.anchoring.pipeline_id, run_id)
    assert stored is not None
    doc = json.loads(stored.data)
    for item in doc["items"]:
        if item["key"] == "metric:acc@5":
            item["fields"]["value"] = str(int(item["fields"]["value"]) + 1)
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    with store.runs.engine.begin() as conn:
        table = store.anchoring.archive.table
        conn.execute(table.update().where(table.c.run_id == run_id).values(manifest=forged))
    with pytest.raises(TamperedManifestError) as info:
        store.verify_run(run_id)
    assert info.value.items == ["metric:acc@5"]


def test_a_forger_who_also_fixes_the_archived_root_is_still_caught_by_the_chain(
    store: BlockchainMetadataStore,
) -> None:
    run_id = produce_run(store, 4)
    assert store.flush_anchors()
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE params SET value = '0.9' WHERE run_id = :r"), {"r": run_id})
    forged = store.anchoring.verifier.fresh_manifest(run_id)  # a consistent manifest of the forged SQL data
    data = forged.to_bytes()
    with store.runs.engine.begin() as conn:
        conn.execute(
            store.anchoring.archive.table.update()
            .where(store.anchoring.archive.table.c.run_id == run_id)
            .values(manifest=data, root="0x" + forged.root.hex(), cid=manifest_cid(data))
        )
    with pytest.raises(TamperedManifestError, match="neither the SQL store nor the archived manifest"):
        store.verify_run(run_id)


def test_proofs_check_off_chain_and_through_verify_proof_and_verify_metric(store: BlockchainMetadataStore) -> None:
    run_id = produce_run(store, 50)
    assert store.flush_anchors()
    metric = store.prove(run_id, "metric:acc@7")
    check = store.verify_proof(metric)
    assert (check.leaf_matches_item, check.off_chain, check.on_chain, check.metric_on_chain) == (True,) * 4
    assert check.ok
    param = store.verify_proof(store.prove(run_id, "param:lr"))
    assert param.ok and param.on_chain and param.metric_on_chain is None
    assert store.verify_proof(store.prove(run_id, "run")).ok
    # a proof whose item was altered no longer matches its leaf; a leaf swapped in fails on chain
    fields = dict(metric.item.fields, value=str(int(metric.item.fields["value"]) + 1))
    altered = ItemProof(
        metric.pipeline,
        run_id,
        type(metric.item)(metric.item.key, "metric", fields),
        metric.leaf,
        metric.proof,
        metric.root,
    )
    bad = store.verify_proof(altered)
    assert not bad.leaf_matches_item and bad.off_chain and bad.metric_on_chain is False and not bad.ok
    forged_leaf = ItemProof(metric.pipeline, run_id, metric.item, b"\x01" * 32, metric.proof, metric.root)
    forged = store.verify_proof(forged_leaf)
    assert forged.on_chain is False and forged.off_chain is False
    with pytest.raises(ManifestItemNotFoundError, match="metric:acc@"):
        store.prove(run_id, "metric:acc@999")


def test_an_unanchored_run_says_it_is_pending(store: BlockchainMetadataStore) -> None:
    run_id = produce_run(store, 2)
    with pytest.raises(RunNotAnchoredError, match="pending in the outbox"):
        store.verify_run(run_id)


def test_anchor_run_is_idempotent(store: BlockchainMetadataStore) -> None:
    run_id = produce_run(store, 3)
    first = store.anchoring.anchor_run(run_id)
    again = store.anchoring.anchor_run(run_id)
    assert first == again
    assert store.anchoring.outbox.counts("run-anchor")["pending"] == 1


def test_a_signer_without_anchor_role_gets_the_decoded_error_and_is_retried_until_granted(
    registry_env: RegistryEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stranger = registry_env.devnet.accounts[6]
    store = make_store(
        tmp_path / "m.db", stranger.private_key, registry_env.registry.address, client=registry_env.client
    )
    try:
        run_id = produce_run(store, 2)
        store.anchoring.sender.run_once()
        entry = store.anchor_status(run_id)
        assert entry is not None and entry.status == "pending" and entry.attempts == 1
        assert entry.last_error is not None and "AccessControlUnauthorizedAccount" in entry.last_error
        assert stranger.private_key[2:] not in entry.last_error
        assert "AccessControlUnauthorizedAccount" in caplog.text  # logged, readable ...
        assert stranger.private_key[2:].lower() not in caplog.text.lower()  # ... and never with the key
        assert stranger.private_key[2:] not in repr(store)
        registry_env.registry.grant_anchorer(stranger.address)
        assert store.flush_anchors(timeout=30)
        assert store.verify_run(run_id).verdict == "verified"
    finally:
        store.on_stop()
        store.close_store()


def test_configuration_errors_are_typed(registry_env: RegistryEnv, tmp_path: Path) -> None:
    key = registry_env.devnet.accounts[0].private_key
    with pytest.raises(ConfigurationError, match="persistent database"):
        BlockchainMetadataStore(
            "m",
            "sqlite://",
            signer=LocalSigner.from_key(key),
            client=registry_env.client,
            registry_address=registry_env.registry.address,
        )
    with pytest.raises(ConfigurationError, match="exactly one of rpc_url"):
        make_store(tmp_path / "a.db", key, registry_env.registry.address)


@pytest.mark.postgres
def test_the_store_anchors_and_verifies_on_postgresql(registry_env: RegistryEnv) -> None:
    """The same flow on the real PostgreSQL server, in a throwaway database (other suites share ``test``)."""
    name = f"anchoring_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{POSTGRES_SERVER}/test", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # the server is part of the machine; skip loudly if it is not up
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    store = BlockchainMetadataStore(
        "metadata",
        f"{POSTGRES_SERVER}/{name}",
        signer=LocalSigner.from_key(registry_env.devnet.accounts[0].private_key),
        client=registry_env.client,
        registry_address=registry_env.registry.address,
        pipeline=PIPELINE,
    )
    try:
        store.open_store()
        run_id = produce_run(store, 100)
        assert store.flush_anchors(timeout=30)
        assert store.verify_run(run_id).items == 101
        assert store.verify_proof(store.prove(run_id, "metric:acc@42")).ok
        with store.runs.engine.begin() as conn:
            conn.execute(text("UPDATE tags SET value = '\"mallory\"' WHERE run_id = :r"), {"r": run_id})
        with pytest.raises(TamperedManifestError) as info:
            store.verify_run(run_id)
        assert info.value.items == ["tag:owner"]
    finally:
        store.on_stop()
        store.close_store()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
