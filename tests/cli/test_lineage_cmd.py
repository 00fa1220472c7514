"""``anacostia-chain lineage``: the provenance graph of a demo model, verified against a real anvil and the IPFS
blockstore the demo wrote; a tampered database is named; bad targets are one-line errors."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.ipfs import EmbeddedBlockstore

CLI = [sys.executable, "-m", "anacostia_blockchain.cli.main"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """The demo with two good batches (three training runs, one of them the malformed file's)."""
    workdir = tmp_path_factory.mktemp("lineage") / "demo"
    result = subprocess.run([*CLI, "demo", "--workdir", str(workdir), "--batches", "2", "--json"],
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, json.loads(result.stdout)


@pytest.fixture(scope="module")
def chain(demo: tuple[Path, dict]) -> Iterator[Devnet]:
    """The demo's anvil again, from the state it saved when it stopped."""
    workdir, _ = demo
    state = workdir.parent / "anvil-state.json"
    shutil.copy(workdir / "anvil-state.json", state)
    devnet = Devnet(state_path=state)
    node = devnet.start()
    yield node
    node.stop()


def newest_model_cid(workdir: Path, summary: dict) -> str:
    metadata = EmbeddedBlockstore(workdir / "ipfs").cat(summary["models"][-1]["metadata_cid"])
    return json.loads(metadata)["properties"]["model_cids"][0]


def args(workdir: Path, *extra: str, db: Path | None = None) -> list[str]:
    return ["--db", f"sqlite:///{db or workdir / 'training.db'}", "--ipfs", str(workdir / "ipfs"), *extra]


def test_lineage_verify_of_a_demo_model_passes(demo, chain, capsys) -> None:
    workdir, summary = demo
    model = newest_model_cid(workdir, summary)
    code = main(["lineage", model, *args(workdir, "--verify", "--json", "--rpc-url", chain.rpc_url,
                                         "--deployments", str(workdir / "deployments"))])
    graph = json.loads(capsys.readouterr().out)
    assert code == 0 and graph["verified"] is True
    checks = graph["checks"]
    assert {c["check"] for c in checks} == {"anchor", "content", "batch"}
    assert all("verified against the chain" in c["detail"] for c in checks if c["check"] == "anchor")
    target = graph["artifacts"][str(graph["target"])]
    assert (target["resource"], target["location"], target["cid"]) == ("models", "model.json.enc", model)
    kinds = {facts["kind"] for facts in graph["artefacts"].values()}
    assert kinds == {"model_checkpoint", "dataset_batch"}
    edge_types = {edge["type"] for edge in graph["edges"]}
    assert {"read", "described_by", "trained_on", "evaluated_on", "contains", "derived_from", "weights"} <= edge_types
    # the model was trained on every prepared batch so far: both are read, both are in its training batch
    prepared = {a["location"] for a in graph["artifacts"].values() if a["resource"] == "prepared_data"}
    assert prepared == {"batch-01.jsonl.enc", "batch-02.jsonl.enc"}
    incoming = {a["location"] for a in graph["artifacts"].values() if a["resource"] == "incoming"}
    assert incoming == {"batch-01.csv", "batch-02.csv"}  # back to the files that landed in the watched folder
    steps = graph["steps"]
    assert steps[str(graph["target"])]["node"] == "train"
    assert all(step["code_fingerprint"].startswith("sha256:") for step in steps.values())


def test_text_output_and_offline_verification(demo, capsys) -> None:
    workdir, summary = demo
    code = main(["lineage", newest_model_cid(workdir, summary), *args(workdir, "--verify", "--offline")])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0].startswith("models:model.json.enc ") and "<- run " in out.splitlines()[0]
    assert "    trained_on " in out and "evaluated_on " in out
    assert "models:artefacts/training-batch.json" in out and "[dataset_batch digits-training]" in out
    assert "verified against the recorded root" in out and out.rstrip().endswith("checks passed")


def test_a_tampered_database_fails_verification(demo, tmp_path, capsys) -> None:
    workdir, summary = demo
    db = tmp_path / "training.db"
    shutil.copy(workdir / "training.db", db)
    with sqlite3.connect(db) as conn:  # someone swaps the sha256 recorded for a prepared batch
        conn.execute("UPDATE artifacts SET sha256 = ? WHERE location = 'batch-01.jsonl.enc'", ("0" * 64,))
    code = main(["lineage", newest_model_cid(workdir, summary), *args(workdir, "--verify", "--offline", db=db)])
    out = capsys.readouterr().out
    assert code == 3
    assert "NOT VERIFIED" in out
    failed = [line for line in out.splitlines() if line.strip().startswith("FAILED")]
    assert any("anchor" in line and "TamperedManifestError" in line for line in failed)
    assert any("content" in line and "differs from the recorded" in line for line in failed)


def test_unknown_targets_are_one_line_errors(demo, capsys) -> None:
    workdir, _ = demo
    assert main(["lineage", "QmNotRecordedAnywhere", *args(workdir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no recorded artifact is 'QmNotRecordedAnywhere'") and err.count("\n") == 1
    assert main(["lineage", "x", "--db", f"sqlite:///{tmp_missing(workdir)}"]) == 1
    assert "no database at" in capsys.readouterr().err


def tmp_missing(workdir: Path) -> Path:
    return workdir / "no-such.db"


def test_lineage_by_artifact_id_without_verification(demo, capsys) -> None:
    workdir, _ = demo
    assert main(["lineage", "#1", *args(workdir), "--json"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert graph["target"] == 1 and graph["checks"] == [] and graph["verified"] is None
