"""MLflow's tracking names on the metadata store: the same user code logs into ``mlflow`` and into the store.

``record`` below is written against the ``mlflow`` module; it runs once against real MLflow (a SQLite tracking
store) and once against the metadata store inside a run, and both must hold the same metrics, params and tags.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pytest
from mlflow import MlflowClient

from anacostia_blockchain import SqliteMetadataStore
from anacostia_blockchain.engine import RunStatus, executing
from anacostia_blockchain.errors import MetadataValueError, NoActiveRunError


def record(tracker: Any) -> None:
    """Code written for MLflow's fluent API."""
    tracker.log_metric("loss", 0.5, step=1)
    tracker.log_metric("loss", 0.25, step=2)
    tracker.log_metrics({"accuracy": 0.9, "f1": 0.8}, step=2)
    tracker.log_param("lr", 0.01)
    tracker.log_params({"layers": 3, "optimizer": "adam"})
    tracker.set_tag("stage", "dev")
    tracker.set_tags({"team": "vision"})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteMetadataStore]:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    store.open_store()
    yield store
    store.close_store()


def logged_by_mlflow(tmp_path: Path) -> tuple[set[tuple[str, float, int]], dict[str, str], dict[str, str]]:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run() as run:
            record(mlflow)
        client = MlflowClient(uri)
        data = client.get_run(run.info.run_id).data
        history = {(m.key, m.value, m.step) for key in data.metrics for m in client.get_metric_history(
            run.info.run_id, key)}
        tags = {k: v for k, v in data.tags.items() if not k.startswith("mlflow.")}
        return history, dict(data.params), tags
    finally:
        mlflow.set_tracking_uri("")


def test_mlflow_code_logs_the_same_records_into_the_store(store: SqliteMetadataStore, tmp_path: Path) -> None:
    metrics, params, tags = logged_by_mlflow(tmp_path)
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "trainer"):
        record(store)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    assert {(m["key"], m["value"], m["step"]) for m in store.get_metrics(run_id=run_id)} == metrics
    # MLflow keeps params and tags as strings; the store keeps the logged types
    assert {k: str(v) for k, v in store.runs.get_params(run_id).items()} == params
    assert store.runs.get_tags(run_id) == tags
    assert {m["node_name"] for m in store.get_metrics(run_id=run_id)} == {"trainer"}


def test_both_spellings_mix_and_conflicts_are_refused(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "n"):
        store.log_metrics({"a": 1.0}, b=2.0, step=4)
        store.log_metrics(metrics={"c": 3.0})  # MLflow's keyword name
        store.log_params(params={"p": [1, 2]}, q="x")
        with pytest.raises(MetadataValueError, match=r"log metrics: 'a' given both in the dict and as keywords"):
            store.log_metrics({"a": 1.0}, a=2.0)
        with pytest.raises(MetadataValueError, match=r"the positional argument must be a dict of metrics, got float"):
            store.log_metrics(0.5)  # type: ignore[arg-type]
        with pytest.raises(MetadataValueError, match="value must be a real number"):
            store.log_metric("loss", "high")  # type: ignore[arg-type]
        with pytest.raises(MetadataValueError, match="at least one metric"):
            store.log_metrics({})
    assert [(m["key"], m["value"], m["step"]) for m in store.get_metrics(run_id=run_id)] == [
        ("a", 1.0, 4), ("b", 2.0, 4), ("c", 3.0, None)]
    assert store.runs.get_params(run_id) == {"p": [1, 2], "q": "x"}
    assert json.dumps(store.runs.get_params(run_id))  # still plain data
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    for call in (lambda: store.log_metric("x", 1.0), lambda: store.log_param("x", 1), lambda: store.set_tag("x", 1)):
        with pytest.raises(NoActiveRunError):
            call()
