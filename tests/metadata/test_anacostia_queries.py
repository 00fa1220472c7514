"""Anacostia's queries on the metadata store: ``get_metrics(node_name=None, run_id=None)``, ``get_params``, ``get_tags``
(rows, every filter optional).

A real pipeline (watched folder, two action threads) runs twice; then a script asks the store, as upstream Anacostia
users do, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain import FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.engine import BaseActionNode, BaseNode, RunStatus, executing
from anacostia_blockchain.errors import MetadataValueError, NoActiveRunError


class Train(BaseActionNode):
    def __init__(self, name: str, predecessors: list[BaseNode], store: SqliteMetadataStore) -> None:
        super().__init__(name, predecessors)
        self.store = store

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        run_id = self.store.current_run_id
        assert run_id is not None
        self.store.log_metrics(loss=1.0 / run_id, step=run_id)
        self.store.log_params(lr=0.1 * run_id)
        self.store.set_tags(stage=f"run-{run_id}")
        return True


class Evaluate(BaseActionNode):
    def __init__(self, name: str, predecessors: list[BaseNode], store: SqliteMetadataStore) -> None:
        super().__init__(name, predecessors)
        self.store = store
        self.seen_inside: list[list[dict[str, Any]]] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        self.store.log_metrics(accuracy=0.9)
        self.seen_inside.append(self.store.get_metrics())  # inside a run: this run's rows only
        return True


def write_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.replace(partial, path)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def ran(tmp_path: Path, store_url: str) -> Iterator[tuple[SqliteMetadataStore, Evaluate]]:
    """Two runs of store -> data -> train -> evaluate; the pipeline has stopped when the test asks."""
    store = SqliteMetadataStore("metadata_store", store_url)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    train = Train("train", [data], store)
    evaluate = Evaluate("evaluate", [train], store)
    with Pipeline([store, data, train, evaluate]) as pipeline:
        write_file(tmp_path / "data" / "a.csv", "1")
        assert pipeline.wait_for_runs(1, timeout=20)
        write_file(tmp_path / "data" / "b.csv", "2")
        assert pipeline.wait_for_runs(2, timeout=20)
    script = SqliteMetadataStore("metadata_store", store_url)  # a script opens the database after the pipeline ran
    script.open_store()
    yield script, evaluate
    script.close_store()


def test_outside_a_run_every_matching_row_is_returned(ran: tuple[SqliteMetadataStore, Evaluate]) -> None:
    store, _ = ran
    assert [(m["run_id"], m["node_name"], m["key"], m["value"]) for m in store.get_metrics()] == [
        (1, "train", "loss", 1.0), (1, "evaluate", "accuracy", 0.9),
        (2, "train", "loss", 0.5), (2, "evaluate", "accuracy", 0.9)]
    assert [m["run_id"] for m in store.get_metrics(node_name="train")] == [1, 2]
    assert [m["key"] for m in store.get_metrics(run_id=2)] == ["loss", "accuracy"]
    assert [m["value"] for m in store.get_metrics("evaluate", 1)] == [0.9]  # the upstream positional order
    assert store.get_params() == [
        {"run_id": 1, "node_name": "train", "key": "lr", "value": 0.1},
        {"run_id": 2, "node_name": "train", "key": "lr", "value": 0.2}]
    assert [t["value"] for t in store.get_tags(node_name="train")] == ["run-1", "run-2"]
    assert store.get_tags(node_name="evaluate") == [] and store.get_metrics(run_id=99) == []


def test_inside_a_run_the_current_run_is_the_default(ran: tuple[SqliteMetadataStore, Evaluate]) -> None:
    store, evaluate = ran
    assert [{(m["run_id"], m["key"]) for m in seen} for seen in evaluate.seen_inside] == [
        {(1, "loss"), (1, "accuracy")}, {(2, "loss"), (2, "accuracy")}]
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "script"):
        store.log_metrics(extra=1.0)
        assert [m["key"] for m in store.get_metrics()] == ["extra"]
        assert [m["run_id"] for m in store.get_metrics(run_id=1)] == [1, 1]  # an explicit run wins
        assert store.get_params() == []
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    assert len(store.get_metrics()) == 5


def test_the_run_store_answers_the_same_way(ran: tuple[SqliteMetadataStore, Evaluate]) -> None:
    store, _ = ran
    runs = store.runs
    assert len(runs.get_metrics()) == 4 and [m["run_id"] for m in runs.get_metrics(key="loss")] == [1, 2]
    assert runs.get_param_rows(2) == [{"run_id": 2, "node_name": "train", "key": "lr", "value": 0.2}]
    assert runs.get_params(1) == {"lr": 0.1} and runs.get_tags(2) == {"stage": "run-2"}
    with pytest.raises(NoActiveRunError, match=r"no run in progress to query: pass run_id="):
        runs.get_params()  # one run's dict needs a run


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.get_metrics(3), r"must be a node's name \(a str\), got int 3; pass a run's id as run_id="),
        (lambda s: s.get_params(run_id="1"), r"run_id must be an int \(a run's id\), got str '1'"),
        (lambda s: s.get_tags(run_id=True), r"run_id must be an int"),
    ],
)
def test_bad_filters_are_one_line_errors(ran: tuple[SqliteMetadataStore, Evaluate], call: Any, message: str) -> None:
    store, _ = ran
    with pytest.raises(MetadataValueError, match=message):
        call(store)
