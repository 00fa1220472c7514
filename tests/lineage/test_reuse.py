"""Results reused, only changed work executed: node-level reuse, work units, force, restarts, SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from anacostia_blockchain.engine import BaseActionNode
from anacostia_blockchain.metadata import SqliteMetadataStore

from .lineage_kit import Upper, chain, drop, locations, per_file


def node_statuses(store: SqliteMetadataStore, run_id: int) -> dict[str, str]:
    return {row["node_name"]: row["status"] for row in store.runs.get_node_runs(run_id)}


def test_identical_content_under_a_new_name_is_reused_with_its_outputs_metrics_and_lineage(
    tmp_path: Path, store_url: str,
) -> None:
    pipeline, store, upper, count = chain(tmp_path, store_url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
        drop(tmp_path / "data", "b.txt", "hello")  # same bytes, new name
        assert pipeline.wait_for_runs(2, timeout=30)
    store.runs.open()
    assert upper.executed == 1 and count.executed == 1
    assert node_statuses(store, 2) == {"upper": "reused", "count": "reused"}
    assert store.runs.get_run(2)["status"] == "success"
    produced = store.runs.run_artifacts(2)["produced"]
    assert [(a.resource, a.location, a.state) for a in produced] == [("out", "a.txt.up", "old"),
                                                                     ("totals", "count.txt", "old")]
    assert [m["key"] for m in store.runs.get_metrics(2)] == ["files"]  # what upper logged, copied from run 1
    assert store.runs.get_params(2) == {"mode": "upper"}
    lineage = store.runs.lineage(produced[0])
    assert lineage is not None and lineage["execution"]["reused_from_run"] == 1
    assert locations(lineage["inputs"]) == ["b.txt"]  # mapped onto this run's input with the same content
    export = store.runs.export_run(2)
    assert {e["node"]: (e["status"], e["reused_from_run"]) for e in export["executions"]} == {
        "upper": ("reused", 1), "count": ("reused", 1)}
    assert {o["location"]: o["reused_from_run"] for o in export["outputs"]} == {"a.txt.up": 1, "count.txt": 1}
    assert (tmp_path / "out" / "a.txt.up").read_bytes() == b"HELLO"


def test_changed_content_executes_and_a_forced_node_executes_anyway(tmp_path: Path, store_url: str) -> None:
    pipeline, store, upper, _ = chain(tmp_path, store_url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
        drop(tmp_path / "data", "b.txt", "other")
        assert pipeline.wait_for_runs(2, timeout=30)
        upper.force = True
        drop(tmp_path / "data", "c.txt", "hello")
        assert pipeline.wait_for_runs(3, timeout=30)
        upper.force = False
        drop(tmp_path / "data", "d.txt", "hello")
        assert pipeline.wait_for_runs(4, timeout=30)
    store.runs.open()
    assert upper.executed == 3
    assert [node_statuses(store, run)["upper"] for run in (1, 2, 3, 4)] == ["success", "success", "success", "reused"]
    reuse = {e["node"]: e["reused_from_run"] for e in store.runs.export_run(4)["executions"]}
    assert reuse["upper"] == 3  # the newest execution with that key
    assert node_statuses(store, 3)["count"] == "reused"  # upper's forced result is the same: count is not redone


def test_results_are_reused_across_a_restart(tmp_path: Path, store_url: str) -> None:
    pipeline, store, upper, _ = chain(tmp_path, store_url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
    restarted, store, upper, count = chain(tmp_path, store_url)  # a new process would build the same objects
    with restarted:
        drop(tmp_path / "data", "z.txt", "hello")
        assert restarted.wait_for_runs(1, timeout=30)
    store.runs.open()
    assert upper.executed == 0 and count.executed == 0
    assert node_statuses(store, 2) == {"upper": "reused", "count": "reused"}


def test_the_pipeline_force_flag_executes_everything(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/meta.db"
    pipeline, _, _, _ = chain(tmp_path, url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
    forced, _, upper, count = chain(tmp_path, url, force=True)
    with forced:
        drop(tmp_path / "data", "b.txt", "hello")
        assert forced.wait_for_runs(1, timeout=30)
    assert upper.executed == 1 and count.executed == 1


def test_only_the_changed_work_unit_executes(tmp_path: Path, store_url: str) -> None:
    for index in range(10):
        drop(tmp_path / "data", f"f{index}.txt", f"content {index}")
    pipeline, store, node = per_file(tmp_path, store_url)
    with pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)
        drop(tmp_path / "data", "f3.txt", "changed")
        assert pipeline.wait_for_runs(2, timeout=30)
    store.runs.open()
    assert len(node.calls) == 11 and node.calls[-1] == "f3.txt"
    assert (len(node.reports[1].executed), len(node.reports[1].reused)) == (1, 9)
    execution = store.runs.export_run(2)["executions"][0]
    assert execution["units"] == {"reused": 9, "success": 1}
    assert (tmp_path / "out" / "f3.txt.rev").read_bytes() == b"degnahc"
    outputs = {o["location"]: o for o in store.runs.export_run(2)["outputs"]}
    assert outputs["f3.txt.rev"]["reused_from_run"] is None
    assert outputs["f4.txt.rev"]["reused_from_run"] == 1
    assert [d["location"] for d in outputs["f4.txt.rev"]["derived_from"]] == ["f4.txt"]


def test_units_with_identical_content_in_one_batch_execute_once(tmp_path: Path) -> None:
    for name in ("a.txt", "b.txt", "c.txt"):
        drop(tmp_path / "data", name, "same bytes")
    pipeline, _, node = per_file(tmp_path, f"sqlite:///{tmp_path}/meta.db")
    with pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)
    assert len(node.calls) == 1
    assert len(node.reports[0].reused) == 2


class Silent(BaseActionNode):
    """Saves nothing: its effects are outside the resources, so it is never skipped."""

    def __init__(self, name: str, predecessors: list, store: SqliteMetadataStore) -> None:  # type: ignore[type-arg]
        super().__init__(name, predecessors)
        self.store = store
        self.executed = 0

    def execute(self) -> bool:
        self.executed += 1
        self.store.log_metrics(seen=1.0)
        return True


def test_an_action_that_saves_nothing_is_never_reused(tmp_path: Path) -> None:
    from anacostia_blockchain.engine import Pipeline
    from anacostia_blockchain.resources import FilesystemStoreNode

    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    silent = Silent("silent", [data], store)
    with Pipeline([store, data, silent], failure_backoff=0.01) as pipeline:
        drop(tmp_path / "data", "a.txt", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
        drop(tmp_path / "data", "b.txt", "x")
        assert pipeline.wait_for_runs(2, timeout=30)
    assert silent.executed == 2


def test_a_result_whose_output_is_gone_is_not_reused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/meta.db"
    pipeline, store, upper, _ = chain(tmp_path, url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
        (tmp_path / "out" / "a.txt.up").unlink()
        store.runs.mark_artifacts_deleted("out", ["a.txt.up"])  # what the folder's reconcile records on launch
        drop(tmp_path / "data", "b.txt", "hello")
        assert pipeline.wait_for_runs(2, timeout=30)
    assert upper.executed == 2
    assert (tmp_path / "out" / "b.txt.up").read_bytes() == b"HELLO"


class UpperV2(Upper):
    """Other code under the same node name."""

    def execute(self) -> bool:
        return super().execute()


def test_other_code_or_other_params_execute_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/meta.db"
    pipeline, store, _, _ = chain(tmp_path, url)
    with pipeline:
        drop(tmp_path / "data", "a.txt", "hello")
        assert pipeline.wait_for_runs(1, timeout=30)
    configured, store, upper, _ = chain(tmp_path, url)
    upper.suffix = ".UP"  # an instance attribute: part of cache_params()
    with configured:
        drop(tmp_path / "data", "b.txt", "hello")
        assert configured.wait_for_runs(1, timeout=30)
    assert upper.executed == 1
    recoded, store, upper, _ = chain(tmp_path, url)
    upper.__class__ = UpperV2
    with recoded:
        drop(tmp_path / "data", "c.txt", "hello")
        assert recoded.wait_for_runs(1, timeout=30)
    assert upper.executed == 1
    assert store.runs.get_node_runs(3)[0]["code_fingerprint"] != store.runs.get_node_runs(1)[0]["code_fingerprint"]
