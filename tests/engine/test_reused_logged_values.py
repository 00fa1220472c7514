"""What a reused execution logged is in the new run: the metrics, params and tags of a reused work unit or node are
copied into the run that reuses it, marked as reused from the execution that logged them, and the run's manifest
entry of the node says so (SQLite and PostgreSQL, real files, real pipelines)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.engine import BaseActionNode, Pipeline, WorkUnit
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.metadata.schema import executions, metrics, params, tags
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return str(request.getfixturevalue("postgres_url"))


class Measure(BaseActionNode):
    """One work unit per present file: saves its length and logs a metric, a param and a tag named after the file;
    the node itself logs ``units`` (so each run has a value of its own too)."""

    def __init__(self, name: str, source: FilesystemStoreNode, target: FilesystemStoreNode) -> None:
        super().__init__(name, [source, target])
        self.source, self.target = source, target
        self.calls: list[str] = []

    def execute(self) -> bool:
        present = [a for a in self.source.list_artifacts() if a.state in ("current", "old")]
        report = self.run_units([WorkUnit.of(a) for a in present], self.one)
        self.coordinator.store.log_metrics(units=float(len(present)))
        return report.ok

    def one(self, unit: WorkUnit) -> None:
        artifact = unit.inputs[0]
        self.calls.append(artifact.location)
        size = len(self.source.read_bytes(artifact))
        stem = artifact.location.split(".")[0]
        store = self.coordinator.store
        store.log_batch(metrics=[(f"size.{stem}", float(size), 0), (f"size.{stem}", float(size) * 2, 1)],
                        params={f"unit.{stem}": size}, tags={f"seen.{stem}": artifact.sha256[:12]})
        self.target.save_artifact(f"{stem}.size", str(size))


class Whole(BaseActionNode):
    """Counts the bytes of the run's new files (no work units): reused as a whole when their content repeats."""

    def __init__(self, name: str, source: FilesystemStoreNode, target: FilesystemStoreNode) -> None:
        super().__init__(name, [source, target])
        self.source, self.target = source, target
        self.executed = 0

    def execute(self) -> bool:
        self.executed += 1
        total = sum(len(self.source.read_bytes(a)) for a in self.source.current_inputs())
        self.coordinator.store.log_metrics(total=float(total))
        self.coordinator.store.set_tags(whole="counted")
        self.target.save_artifact("total.txt", str(total))
        return True


def drop(folder: Path, name: str, content: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f".tmp-{name}").write_text(content)
    os.replace(folder / f".tmp-{name}", folder / name)


def build(tmp_path: Path, url: str) -> tuple[Pipeline, SqliteMetadataStore, Measure, Whole]:
    store = SqliteMetadataStore("metadata", url)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    totals = FilesystemStoreNode("totals", tmp_path / "totals", store, monitoring=False)
    measure = Measure("measure", data, out)
    whole = Whole("whole", data, totals)
    return Pipeline([store, data, out, totals, measure, whole], failure_backoff=0.01), store, measure, whole


def logged(url: str, table: Any, run_id: int) -> list[dict[str, Any]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            columns = [table.c.key, table.c.execution_id, table.c.reused_from, table.c.node_name]
            if table is metrics:
                columns += [table.c.value, table.c.step]
            return [dict(row._mapping) for row in conn.execute(select(*columns).where(table.c.run_id == run_id))]
    finally:
        engine.dispose()


def execution_ids(url: str, run_id: int) -> dict[tuple[str, str | None], int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(executions.c.id, executions.c.node_name, executions.c.unit)
                                .where(executions.c.run_id == run_id)).all()
        return {(row.node_name, row.unit): int(row.id) for row in rows}
    finally:
        engine.dispose()


def test_reused_units_and_nodes_bring_their_logged_values_marked_as_reused(tmp_path: Path, store_url: str) -> None:
    drop(tmp_path / "data", "a.txt", "alpha")
    drop(tmp_path / "data", "b.txt", "bravo!")
    pipeline, store, measure, whole = build(tmp_path, store_url)
    with pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)
        drop(tmp_path / "data", "c.txt", "charlie")  # run 2: units a and b are reused, c executes
        assert pipeline.wait_for_runs(2, timeout=30)
        drop(tmp_path / "data", "d.txt", "charlie")  # run 3: c's content again: every unit and whole are reused
        assert pipeline.wait_for_runs(3, timeout=30)
    store.runs.open()
    assert sorted(measure.calls) == ["a.txt", "b.txt", "c.txt"] and measure.calls[-1] == "c.txt"
    first, second = execution_ids(store_url, 1), execution_ids(store_url, 2)

    # run 2 has every unit's values: a's and b's copied (marked, pointing at run 1's unit executions), c's its own
    metrics_2 = logged(store_url, metrics, 2)
    by_key = {(m["key"], m["step"]): m for m in metrics_2 if m["key"].startswith("size.")}
    assert sorted(by_key) == [(f"size.{s}", step) for s in "abc" for step in (0, 1)]
    assert by_key[("size.a", 1)]["value"] == 10.0 and by_key[("size.b", 0)]["value"] == 6.0
    for stem in "ab":
        copied = by_key[(f"size.{stem}", 0)]
        assert copied["reused_from"] == first[("measure", f"data:{stem}.txt")]
        assert copied["execution_id"] == second[("measure", f"data:{stem}.txt")]  # the reusing unit's execution
        assert copied["node_name"] == "measure"
    own = by_key[("size.c", 0)]
    assert own["reused_from"] is None and own["execution_id"] == second[("measure", "data:c.txt")]
    units_metric = [m for m in metrics_2 if m["key"] == "units"]
    assert [(m["value"], m["reused_from"], m["execution_id"]) for m in units_metric] == [
        (3.0, None, second[("measure", None)])]
    assert store.runs.get_params(2) == {"unit.a": 5, "unit.b": 6, "unit.c": 7}
    assert {t["key"]: t["reused_from"] for t in logged(store_url, tags, 2) if t["key"].startswith("seen.")} == {
        "seen.a": first[("measure", "data:a.txt")], "seen.b": first[("measure", "data:b.txt")], "seen.c": None}
    assert {p["key"]: p["reused_from"] is not None for p in logged(store_url, params, 2)} == {
        "unit.a": True, "unit.b": True, "unit.c": False}

    # the run's manifest says which values were reused, and from where
    export = store.runs.export_run(2)
    entry = {e["node"]: e for e in export["executions"]}["measure"]
    assert entry["units"] == {"reused": 2, "success": 1}
    assert entry["reused_logged"] == {
        "metrics": {"values": 4, "keys": ["size.a", "size.b"]}, "params": ["unit.a", "unit.b"],
        "tags": ["seen.a", "seen.b"], "from_runs": [1],
        "from_executions": sorted([first[("measure", "data:a.txt")], first[("measure", "data:b.txt")]])}
    manifest = RunManifest.from_export("reuse", 2, export)
    assert '"reused_logged"' in manifest.item("execution:measure").fields["details"]
    assert "reused_logged" not in {e["node"]: e for e in store.runs.export_run(1)["executions"]}["measure"]

    # a node reused as a whole: its values come with it, pointing at the execution that logged them
    assert whole.executed == 2
    third = execution_ids(store_url, 3)
    totals = [m for m in logged(store_url, metrics, 3) if m["key"] == "total"]
    assert [(m["value"], m["reused_from"], m["execution_id"]) for m in totals] == [
        (7.0, second[("whole", None)], third[("whole", None)])]
    assert store.runs.get_tags(3)["whole"] == "counted"
    whole_entry = {e["node"]: e for e in store.runs.export_run(3)["executions"]}["whole"]
    assert whole_entry["status"] == "reused" and whole_entry["reused_logged"]["from_runs"] == [2]
    assert whole_entry["reused_logged"]["tags"] == ["whole"]
