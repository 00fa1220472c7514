"""Per-output lineage, code fingerprints and reuse are anchored: they verify against the chain (a real anvil), an
edited edge is named as tampered, and manifests written before they existed still verify."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, update

from anacostia_blockchain.anchoring import ManifestArchive, RunManifest, RunVerifier
from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.errors import TamperedManifestError
from anacostia_blockchain.metadata import BlockchainMetadataStore, RunStore
from anacostia_blockchain.metadata.schema import (
    PROVENANCE_TABLES,
    SCHEMA_VERSION,
    artifact_edges,
    artifacts,
    schema_info,
)
from anacostia_blockchain.outbox import Backoff, Outbox

from .lineage_kit import chain, drop

PIPELINE = "provenance-anchoring"
FORMAT1_DB = Path(__file__).parent.parent / "anchoring" / "fixtures" / "format1_runs.db"


@pytest.fixture
def registry(fresh_chain: Devnet) -> Iterator[tuple[Devnet, str]]:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    signer = LocalSigner.from_key(fresh_chain.accounts[0].private_key)
    with TxSender(client, signer) as sender:
        address = sender.deploy("RunRegistry", signer.address, signer.address).address
    yield fresh_chain, address


def anchored_store(url: str, devnet: Devnet, address: str) -> BlockchainMetadataStore:
    return BlockchainMetadataStore(
        "metadata", url, signer=LocalSigner.from_key(devnet.accounts[0].private_key), rpc_url=devnet.rpc_url,
        registry_address=address, pipeline=PIPELINE, backoff=Backoff(base=0.1, factor=2.0, cap=0.5),
    )


def test_lineage_fingerprints_and_reuse_are_anchored_and_verified_on_chain(
    tmp_path: Path, store_url: str, registry: tuple[Devnet, str],
) -> None:
    devnet, address = registry
    store = anchored_store(store_url, devnet, address)
    pipeline, _, upper, _ = chain(tmp_path, store)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=60)
        drop(tmp_path / "data", "b.txt", "hello")
        assert pipeline.wait_for_runs(2, timeout=60)
        assert store.flush_anchors(timeout=60)
    assert upper.executed == 1
    store.open_store()
    try:
        for run_id in (1, 2):
            assert store.verify_run(run_id).verdict == "verified"
        manifest = RunManifest.from_export(PIPELINE, 2, store.runs.export_run(2))
        output = manifest.item("output:out:a.txt.up")
        assert output.kind == "lineage" and '"reused_from_run":1' in output.fields["details"]
        assert '"location":"b.txt"' in output.fields["details"]  # derived from this run's input
        execution = manifest.item("execution:upper")
        assert '"status":"reused"' in execution.fields["details"]
        first = RunManifest.from_export(PIPELINE, 1, store.runs.export_run(1)).item("execution:upper")
        assert 'lineage_kit.Upper"' in first.fields["details"]  # the node class, named by module
        assert '"python":"CPython' in first.fields["details"] and '"modules":{' in first.fields["details"]
        check = store.verify_proof(store.prove(2, "output:out:a.txt.up"), on_chain=True)
        assert check.ok and check.on_chain

        with store.runs.engine.begin() as conn:  # someone rewrites what an output was made from
            query = (select(artifact_edges.c.id).join(artifacts, artifacts.c.id == artifact_edges.c.output_id)
                     .where(artifact_edges.c.run_id == 1, artifacts.c.location == "a.txt.up"))
            edge = conn.execute(query).scalar_one()
            conn.execute(update(artifact_edges).where(artifact_edges.c.id == edge).values(basis="inputs"))
        with pytest.raises(TamperedManifestError) as caught:
            store.verify_run(1)
        assert caught.value.items == ["output:out:a.txt.up"]
    finally:
        store.on_stop()
        store.close_store()


def _verifier(runs: RunStore) -> RunVerifier:
    return RunVerifier("format1-pipeline", runs.export_run, ManifestArchive(runs.engine), None, Outbox(runs.engine))


def test_manifests_written_before_provenance_existed_still_verify_before_and_after_the_migration(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    shutil.copyfile(FORMAT1_DB, db)
    reader = RunStore(f"sqlite:///{db}")  # a read-only tool: no open(), no migration
    try:
        old_runs = [int(run["id"]) for run in reader.get_runs()]
        assert old_runs
        for run_id in old_runs:
            export = reader.export_run(run_id)
            assert export["executions"] == [] and export["outputs"] == []
            assert _verifier(reader).verify_local(run_id).verdict == "verified"
    finally:
        reader.close()
    migrated = RunStore(f"sqlite:///{db}")
    migrated.open()
    try:
        with migrated.engine.connect() as conn:
            assert conn.execute(select(schema_info.c.version)).scalar_one() == SCHEMA_VERSION
            assert set(PROVENANCE_TABLES) <= set(inspect(conn).get_table_names())
        for run_id in old_runs:
            assert _verifier(migrated).verify_local(run_id).verdict == "verified"
    finally:
        migrated.close()
