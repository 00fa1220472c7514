"""Anchors of manifest format 1 (odd node promoted) still verify, end to end, on a database that format's writer made.

``fixtures/format1_runs.db`` was written by the format 1 code itself (``fixtures/write_format1_db.py`` run against a
checkout of it): four ended runs with 5, 7, 9 and 13 leaves, archived and pending in the outbox. Here the current
code anchors them on a fresh anvil, verifies them, proves their items on chain and offline, reports their format,
and still names an SQL change; new runs in the same database are written in format 2.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from anacostia_blockchain.anchoring import MANIFEST_VERSION
from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.chain.contracts import merkle
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.errors import TamperedManifestError
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff

from .conftest import RegistryEnv

FIXTURE = Path(__file__).parent / "fixtures" / "format1_runs.db"
PIPELINE = "format1-pipeline"  # as in write_format1_db.py
LEAF_COUNTS = {1: 5, 2: 7, 3: 9, 4: 13}


@pytest.fixture
def format1(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[tuple[BlockchainMetadataStore, list[str]]]:
    db = tmp_path / "format1.db"
    shutil.copyfile(FIXTURE, db)
    store = BlockchainMetadataStore(
        "metadata",
        f"sqlite:///{db}",
        signer=LocalSigner.from_key(registry_env.devnet.accounts[0].private_key),
        client=registry_env.client,
        registry_address=registry_env.registry.address,
        pipeline=PIPELINE,
        backoff=Backoff(base=0.1, factor=2.0, cap=0.5),
        receipt_timeout=20.0,
    )
    store.open_store()
    args = ["--db", f"sqlite:///{db}", "--pipeline", PIPELINE, "--rpc-url", registry_env.devnet.rpc_url]
    try:
        assert store.flush_anchors(timeout=30)  # the format 1 roots, as the old writer queued them
        yield store, [*args, "--registry", registry_env.registry.address]
    finally:
        store.on_stop()
        store.close_store()


def _recorded_roots() -> dict[int, str]:
    with sqlite3.connect(FIXTURE) as conn:
        return dict(conn.execute("SELECT run_id, root FROM anacostia_run_manifests").fetchall())


def test_format1_runs_verify_in_their_own_layout(format1: tuple[BlockchainMetadataStore, list[str]]) -> None:
    store, _ = format1
    recorded = _recorded_roots()
    for run_id, leaves in LEAF_COUNTS.items():
        report = store.verify_run(run_id)
        assert (report.manifest_version, report.tree_layout, report.items) == (1, "odd-promoted", leaves)
        assert "0x" + report.root.hex() == recorded[run_id]
        assert store.anchoring.registry.run_root(store.anchoring.pipeline_id, run_id) == report.root
        # the counts were chosen so that OpenZeppelin's layout gives another root: the legacy path did the work
        assert merkle.MerkleTree(list(report.leaves.values())).root != report.root


def test_format1_items_prove_on_chain_and_offline(format1: tuple[BlockchainMetadataStore, list[str]]) -> None:
    store, _ = format1
    for run_id in LEAF_COUNTS:
        for key in ("metric:acc@1", "param:lr", "tag:format", "run"):
            proof = store.prove(run_id, key)
            online = store.verify_proof(proof)
            assert online.ok and online.on_chain, (run_id, key)
            assert online.metric_on_chain is (True if key.startswith("metric:") else None)
            assert store.verify_proof(proof, on_chain=False).ok


def test_an_sql_change_in_a_format1_run_is_named(format1: tuple[BlockchainMetadataStore, list[str]]) -> None:
    store, _ = format1
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE metrics SET value = 0.25 WHERE run_id = 3 AND step = 2"))
    with pytest.raises(TamperedManifestError) as info:
        store.verify_run(3)
    assert info.value.items == ["metric:acc@2"]
    store.verify_run(2)  # the other runs are untouched


def test_the_cli_reports_the_format(
    format1: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, args = format1
    assert main(["verify", "2", "--item", "metric:acc@3", "--json", *args]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["verdict"], doc["manifestVersion"], doc["treeLayout"]) == ("verified", 1, "odd-promoted")
    assert len(doc["leaves"]) == 7 and doc["item"]["verdict"] == "proven"


def test_new_runs_in_the_same_database_are_written_in_the_current_format(
    format1: tuple[BlockchainMetadataStore, list[str]],
) -> None:
    store, _ = format1
    run_id = store.runs.begin_run("format2", [])
    store.log_batch(metrics=[("acc", 0.9, step) for step in range(4)])
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    assert store.flush_anchors(timeout=30)
    report = store.verify_run(run_id)
    assert (report.manifest_version, report.tree_layout) == (MANIFEST_VERSION, "openzeppelin") == (2, "openzeppelin")
    assert merkle.MerkleTree(list(report.leaves.values())).root == report.root
