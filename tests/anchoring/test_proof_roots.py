"""No proof without the anchored root: item proofs from a tampered archive are NOT-PROVEN offline and online.

Offline, a proof is checked against the root recorded when the run ended (the archive's root column, which the run
row's hash and the outbox's anchor request must repeat); online against ``runRoot`` and the contract's own
``verifyProof`` / ``verifyMetric``. Never against a root recomputed from the archived manifest the proof came from.
The CLI prints ``FAILED`` for every check that failed (real anvil, real SQLite files).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from anacostia_blockchain.anchoring import RunManifest, manifest_cid
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.errors import TamperedManifestError
from anacostia_blockchain.metadata import BlockchainMetadataStore

from .conftest import RegistryEnv
from .store_helpers import PIPELINE, make_store, produce_run

CHANGED = "metric:acc@2"


@pytest.fixture
def anchored(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[tuple[BlockchainMetadataStore, list[str]]]:
    """Runs 1 and 2 anchored (12 items each); the CLI arguments for the database and the registry."""
    db = tmp_path / "metadata.db"
    store = make_store(
        db, registry_env.devnet.accounts[0].private_key, registry_env.registry.address, client=registry_env.client
    )
    produce_run(store, 12)
    produce_run(store, 12, seed=1)
    assert store.flush_anchors()
    args = ["--db", f"sqlite:///{db}", "--pipeline", PIPELINE]
    chain = ["--rpc-url", registry_env.devnet.rpc_url, "--registry", registry_env.registry.address]
    try:
        yield store, [*args, *chain]
    finally:
        store.on_stop()
        store.close_store()


def _forge_archive(store: BlockchainMetadataStore, run_id: int, *, rewrite_root: bool = False) -> RunManifest:
    """Change ``CHANGED``'s value in the archived manifest; with ``rewrite_root`` also its root and CID columns, so
    the archive is consistent in itself (only the run row and the outbox still hold the real root)."""
    archive = store.anchoring.archive
    stored = archive.load(store.anchoring.pipeline_id, run_id)
    assert stored is not None
    doc = json.loads(stored.data)
    for item in doc["items"]:
        if item["key"] == CHANGED:
            item["fields"]["value"] = str(99 * 10**16)
    data = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    forged = RunManifest.from_bytes(data)
    values: dict[str, object] = {"manifest": data}
    if rewrite_root:
        values.update(root="0x" + forged.root.hex(), cid=manifest_cid(data))
    with store.runs.engine.begin() as conn:
        conn.execute(archive.table.update().where(archive.table.c.run_id == run_id).values(**values))
    return forged


def test_an_intact_run_is_proven_in_both_modes(anchored: tuple[BlockchainMetadataStore, list[str]]) -> None:
    store, _ = anchored
    proof = store.prove(1, CHANGED)
    offline, online = store.verify_proof(proof, on_chain=False), store.verify_proof(proof)
    assert offline.ok and offline.against == "recorded" and offline.root == proof.root
    assert offline.on_chain is None and offline.metric_on_chain is None
    assert online.ok and online.against == "chain" and online.on_chain and online.metric_on_chain


def test_a_changed_item_of_a_tampered_archive_is_not_proven_offline(
    anchored: tuple[BlockchainMetadataStore, list[str]],
) -> None:
    store, _ = anchored
    recorded = store.prove(1, CHANGED).root
    forged = _forge_archive(store, 1)
    proof = store.prove(1, CHANGED)
    assert proof.root == recorded != forged.root  # the proof carries the recorded root, not the archive's
    assert proof.item.fields["value"] == str(99 * 10**16)
    check = store.verify_proof(proof, on_chain=False)
    assert check.leaf_matches_item and not check.off_chain and not check.ok
    assert check.root == recorded
    assert store.verify_proof(store.prove(2, CHANGED), on_chain=False).ok  # the other run is untouched


def test_a_changed_item_of_a_tampered_archive_is_not_proven_online(
    anchored: tuple[BlockchainMetadataStore, list[str]],
) -> None:
    store, _ = anchored
    _forge_archive(store, 1)
    check = store.verify_proof(store.prove(1, CHANGED))
    assert (check.off_chain, check.on_chain, check.metric_on_chain, check.ok) == (False, False, False, False)
    assert check.against == "chain" and check.root == store.anchoring.registry.run_root(store.anchoring.pipeline_id, 1)


def test_an_archive_forged_with_its_root_is_caught_by_the_other_local_records(
    anchored: tuple[BlockchainMetadataStore, list[str]],
) -> None:
    store, _ = anchored
    _forge_archive(store, 1, rewrite_root=True)
    check = store.verify_proof(store.prove(1, CHANGED), on_chain=False)
    assert not check.ok and check.root is None
    assert check.problem is not None and "local records disagree" in check.problem
    with pytest.raises(TamperedManifestError, match="local records disagree"):
        store.anchoring.verifier.verify_local(1)
    assert not store.verify_proof(store.prove(1, CHANGED)).ok  # and the chain says the same


def _marks(line: str) -> dict[str, str]:
    """``[leaf ok, anchored root FAILED, ...]`` of a verdict line -> {check: "ok" | "FAILED"}."""
    found = re.search(r"\[([^\]]*)\]", line)
    assert found is not None, line
    return dict(mark.rsplit(" ", 1) for mark in found.group(1).split(", "))  # type: ignore[misc]


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_the_cli_prints_failed_for_every_failed_check(
    anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str], offline: bool
) -> None:
    store, args = anchored
    mode = ["--offline"] if offline else []
    _forge_archive(store, 1)
    assert main(["verify", "1", "--item", CHANGED, *mode, *args]) == 3
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("TAMPERED") and lines[1].startswith("NOT-PROVEN")
    root_mark = "recorded root" if offline else "anchored root"
    expected = {"leaf": "ok", root_mark: "FAILED"}
    if not offline:
        expected.update({"verifyProof": "FAILED", "verifyMetric": "FAILED"})
    assert _marks(lines[1]) == expected
    assert main(["verify", "1", "--item", CHANGED, "--json", *mode, *args]) == 3
    item = json.loads(capsys.readouterr().out)["item"]
    assert item["verdict"] == "not-proven" and item["checks"]["offChain"] is False
    assert item["checks"]["against"] == ("recorded" if offline else "chain")


def test_the_cli_offline_verifies_against_the_recorded_root_and_names_sql_changes(
    anchored: tuple[BlockchainMetadataStore, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    store, args = anchored
    local = args[:4]  # --db and --pipeline only: no chain
    assert main(["verify", "1", "--offline", "--item", "param:lr", *local]) == 0
    verdict, item = capsys.readouterr().out.splitlines()
    assert verdict.startswith("VERIFIED") and "recorded when the run ended" in verdict
    assert item.startswith("PROVEN") and _marks(item) == {"leaf": "ok", "recorded root": "ok"}
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE metrics SET value = 0.1 WHERE run_id = 1 AND step = 2"))
    assert main(["verify", "1", "--offline", "--json", *local]) == 3
    doc = json.loads(capsys.readouterr().out)
    assert doc["verdict"] == "tampered" and doc["changedItems"] == [CHANGED]
