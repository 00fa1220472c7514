"""``anacostia-chain export mlflow``: anchored runs copied into a real MLflow SQLite tracking store and read back
with ``mlflow.MlflowClient``; a re-export adds nothing; tampering shows up in the verdict tag."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from mlflow import MlflowClient
from sqlalchemy import create_engine, inspect, text

from anacostia_blockchain import SqliteMetadataStore
from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.engine import RunStatus, executing
from anacostia_blockchain.metadata import BlockchainMetadataStore

PIPELINE = "digits-training"
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@dataclass
class Anchored:
    db: str
    rpc_url: str
    registry: str
    tx_hashes: dict[int, str]


def record_run(store: SqliteMetadataStore, loss: list[float]) -> int:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "train") as context:
        for step, value in enumerate(loss):
            store.log_metrics(loss=value, step=step)
        store.log_metrics(accuracy=0.9)
        store.log_params(lr=0.01, layers=[64, 32])
        store.set_tags(stage="dev")
        store.runs.record_artifact("models", "model.pkl", "ab" * 32, 10, cid=CID, produced=context)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id


@pytest.fixture
def anchored(fresh_chain: Any, tmp_path: Path) -> Iterator[Anchored]:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    signer = LocalSigner.from_key(fresh_chain.accounts[0].private_key)
    with TxSender(client, signer) as sender:
        registry = sender.deploy("RunRegistry", signer.address, signer.address)
    db = f"sqlite:///{tmp_path}/metadata.db"
    store = BlockchainMetadataStore("store", db, signer=signer, client=client, registry_address=registry.address,
                                    pipeline=PIPELINE, confirmations=1)
    store.open_store()
    try:
        run_ids = [record_run(store, [0.5, 0.25]), record_run(store, [0.4])]
        assert store.flush_anchors(timeout=60)
        tx_hashes = {}
        for run_id in run_ids:
            entry = store.anchor_status(run_id)
            assert entry is not None and entry.result is not None
            tx_hashes[run_id] = entry.result["txHash"]
    finally:
        store.on_stop()
        store.close_store()
    yield Anchored(db, fresh_chain.rpc_url, registry.address, tx_hashes)


def export(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["export", "mlflow", "--json", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    return code, json.loads(out)


def source_runs(tracking: str) -> dict[str, Any]:
    client = MlflowClient(tracking)
    experiment = client.get_experiment_by_name(PIPELINE)
    assert experiment is not None
    found = client.search_runs([experiment.experiment_id])
    return {run.data.tags["anacostia.source_run"]: run for run in found}


def test_anchored_runs_land_in_mlflow_with_steps_anchors_and_verdicts(
    anchored: Anchored, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    chain = ["--db", anchored.db, "--rpc-url", anchored.rpc_url, "--registry", anchored.registry]
    _, first = export(capsys, "--tracking-uri", tracking, *chain)
    assert [(r["run"], r["action"], r["verification"]) for r in first["runs"]] == [
        (1, "created", "verified"), (2, "created", "verified")]
    runs = source_runs(tracking)
    assert sorted(runs) == [f"{PIPELINE}/1", f"{PIPELINE}/2"]
    run = runs[f"{PIPELINE}/1"]
    client = MlflowClient(tracking)
    history = client.get_metric_history(run.info.run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(0, 0.5), (1, 0.25)]
    assert run.data.metrics == {"loss": 0.25, "accuracy": 0.9}
    assert run.data.params == {"lr": "0.01", "layers": "[64, 32]"}
    tags = run.data.tags
    assert tags["stage"] == "dev" and tags["anacostia.artifact.produced.models/model.pkl"] == CID
    assert tags["anacostia.anchor.tx"] == anchored.tx_hashes[1] and tags["anacostia.anchor.status"] == "confirmed"
    assert (tags["anacostia.verification"], tags["anacostia.verified_against"]) == ("verified", "chain")
    assert tags["anacostia.root"].startswith("0x") and tags["anacostia.manifest_cid"].startswith("bafk")
    assert run.info.status == "FINISHED"

    # idempotent: no duplicate run, no duplicate metric point
    _, again = export(capsys, "--tracking-uri", tracking, *chain)
    assert [r["action"] for r in again["runs"]] == ["updated", "updated"]
    assert len(source_runs(tracking)) == 2
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 2

    # a value changed after anchoring: the next export says so
    engine = create_engine(anchored.db)
    with engine.begin() as conn:
        conn.execute(text("UPDATE metrics SET value = 0.01 WHERE run_id = 2"))
    engine.dispose()
    _, tampered = export(capsys, "--tracking-uri", tracking, "--db", anchored.db, "--offline", "--run", "2")
    assert [(r["run"], r["verification"]) for r in tampered["runs"]] == [(2, "tampered")]
    tags = source_runs(tracking)[f"{PIPELINE}/2"].data.tags
    assert (tags["anacostia.verification"], tags["anacostia.verified_against"]) == ("tampered", "recorded-root")


def test_a_store_that_does_not_anchor_is_exported_without_writing_to_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"sqlite:///{tmp_path}/plain.db"
    store = SqliteMetadataStore("plain", db)
    store.open_store()
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "n"):
        store.log_metric("loss", 0.3, step=2)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.close_store()
    tables = set(inspect(create_engine(db)).get_table_names())
    tracking = f"sqlite:///{tmp_path}/mlflow.db"
    _, result = export(capsys, "--tracking-uri", tracking, "--db", db, "--experiment", "plain")
    assert [(r["run"], r["verification"]) for r in result["runs"]] == [(1, "not-anchored")]
    client = MlflowClient(tracking)
    experiment = client.get_experiment_by_name("plain")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.tags["anacostia.source_run"] == "plain/1" and run.data.metrics == {"loss": 0.3}
    assert set(inspect(create_engine(db)).get_table_names()) == tables  # nothing was created in the source


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "export mlflow needs --tracking-uri (or MLFLOW_TRACKING_URI)"),
        (["--tracking-uri", "sqlite:///x.db", "--db", "sqlite:////nonexistent/m.db"], "no database at /nonexist"),
    ],
)
def test_missing_configuration_is_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["export", "mlflow", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
