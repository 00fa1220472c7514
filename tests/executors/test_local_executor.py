"""The thread executor (the default): one task per datum, outputs verified and recorded, the cache, failures,
bounded concurrency. Real files, a real SQLite store and a real embedded blockstore."""

from __future__ import annotations

import os
from pathlib import Path

from anacostia_blockchain.engine import ArtifactState
from anacostia_blockchain.executors import LocalExecutor, OutputRef, TaskContext

from .kit import build, drop
from .work_fns import fail_on_bad, upper


def test_each_datum_is_one_task_whose_outputs_are_recorded_with_their_own_lineage(tmp_path: Path) -> None:
    executor = LocalExecutor(2)
    kit = build(tmp_path, upper, executor)
    for index in range(4):
        drop(tmp_path / "data", f"f{index}.txt", f"hello {index}")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    assert kit.store.runs.get_runs()[0]["status"] == "success"
    assert kit.outputs() == {f"f{index}.txt.up": f"HELLO {index}".encode() for index in range(4)}
    assert executor.submitted == 4
    for artifact in kit.store.runs.present_artifacts("out").values():
        lineage = kit.store.runs.lineage(artifact)
        assert lineage is not None
        assert [a.location for a in lineage["inputs"]] == [artifact.location.removesuffix(".up")]
        assert lineage["execution"]["unit"] == f"data:{artifact.location.removesuffix('.up')}"
    assert {m["value"] for m in kit.store.runs.get_metrics(key="pid")} == {float(os.getpid())}


def test_cache_hit_datums_cost_no_task(tmp_path: Path) -> None:
    first = LocalExecutor(2)
    kit = build(tmp_path, upper, first)
    drop(tmp_path / "data", "a.txt", "same content")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    again = LocalExecutor(2)
    kit = build(tmp_path, upper, again)
    drop(tmp_path / "data", "copy-of-a.txt", "same content")  # the same content under a new name: the same key
    drop(tmp_path / "data", "b.txt", "new content")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    assert first.submitted == 1 and again.submitted == 1  # only b.txt became a task
    units = {row["unit"]: row["status"] for row in _executions(kit.store)}
    assert units["data:copy-of-a.txt"] == "reused" and units["data:b.txt"] == "success"


def test_a_failed_datum_fails_the_node_naming_it_and_the_others_are_recorded(tmp_path: Path) -> None:
    kit = build(tmp_path, fail_on_bad, LocalExecutor(2))
    drop(tmp_path / "data", "good.txt", "fine")
    drop(tmp_path / "data", "broken.txt", "bad input")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    run = kit.store.runs.get_runs()[0]
    assert run["status"] == "failed"
    node = kit.store.runs.get_node_runs(run["id"])[0]
    assert node["status"] == "error"
    assert node["error"] == ("TaskFailedError: 1 of 2 datum(s) failed: data:broken.txt: TaskFailedError: ValueError: "
                             "cannot process broken.txt")
    assert kit.outputs() == {"good.txt.up": b"FINE"}


def test_no_more_tasks_than_the_window_run_at_once(tmp_path: Path) -> None:
    kit = build(tmp_path, upper, LocalExecutor(4, max_in_flight=2), params={"seconds": 0.3})
    for index in range(6):
        drop(tmp_path / "data", f"f{index}.txt", f"{index}")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    rows = kit.store.runs.get_metrics()
    starts = [m["value"] for m in rows if m["key"] == "started"]
    ends = [m["value"] for m in rows if m["key"] == "ended"]
    events = sorted([(t, 1) for t in starts] + [(t, -1) for t in ends], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert len(starts) == 6 and peak == 2


def forge_output(task: TaskContext) -> None:
    """Writes one content and claims another sha256 for it."""
    real = task.write("forged.txt", b"what was written")
    task.result().outputs[-1] = OutputRef(real.name, real.cid, "0" * 64, real.size)


def test_an_output_that_does_not_match_what_the_worker_reported_is_not_recorded(tmp_path: Path) -> None:
    kit = build(tmp_path, forge_output, LocalExecutor(1))
    drop(tmp_path / "data", "a.txt", "x")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    node = kit.store.runs.get_node_runs(1)[0]
    assert "ContentMismatchError" in node["error"] and "data:a.txt" in node["error"]
    assert kit.store.runs.list_artifacts("out") == []
    assert {a.state for a in kit.data.list_artifacts()} == {ArtifactState.NEW}  # the failed run's input is new again


def _executions(store: object) -> list[dict[str, object]]:
    from sqlalchemy import select

    from anacostia_blockchain.metadata.schema import executions

    runs = store.runs  # type: ignore[attr-defined]
    with runs.engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(executions).where(executions.c.unit.isnot(None)))]


def test_joined_datums_are_tasks_with_their_groups_and_named_inputs(tmp_path: Path) -> None:
    from anacostia_blockchain import FilesystemStoreNode, Pipeline
    from anacostia_blockchain.executors import DatumAction
    from anacostia_blockchain.metadata import SqlMetadataStore
    from anacostia_blockchain.resources.datums import Input, join
    from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

    from .work_fns import pair

    store = SqlMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    images = FilesystemStoreNode("images", tmp_path / "images", store, glob="{sample}.img", create=True)
    labels = FilesystemStoreNode("labels", tmp_path / "labels", store, glob="{sample}.txt", create=True)
    out = IPFSStoreNode("out", store, store=tmp_path / "blocks")
    action = DatumAction("pairs", [images, labels], work=pair, output=out, executor=LocalExecutor(2),
                         datums=lambda node: join(Input(images), Input(labels)))
    for sample in ("s1", "s2"):
        drop(tmp_path / "images", f"{sample}.img", f"img-{sample}")
        drop(tmp_path / "labels", f"{sample}.txt", f"label-{sample}")
    drop(tmp_path / "images", "s3.img", "an image without a label: no datum")
    with Pipeline([store, images, labels, out, action], trigger="any") as pipeline:
        assert pipeline.wait_for_runs(1, 60)
        pipeline.wait_for_runs(pipeline.runs_finished + 1, 2)  # files may land across two runs
    present = store.runs.present_artifacts("out")
    assert {loc: out.store.cat(str(a.cid)) for loc, a in present.items()} == {
        "s1.pair": b"img-s1|label-s1", "s2.pair": b"img-s2|label-s2"}


def test_the_fingerprint_of_a_datum_action_covers_the_module_of_its_work(tmp_path: Path) -> None:
    from anacostia_blockchain.executors import DatumAction
    from anacostia_blockchain.metadata import SqlMetadataStore
    from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

    store = SqlMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    out = IPFSStoreNode("out", store, store=tmp_path / "blocks")
    here = DatumAction("a", [out], work=forge_output, output=out)
    there = DatumAction("b", [out], work=upper, output=out)
    assert upper.__module__ in there.code.modules and forge_output.__module__ not in there.code.modules
    assert forge_output.__module__ in here.code.modules  # (this test module imports work_fns: both are in it)
    assert here.code.digest != there.code.digest
    assert there.code.digest == DatumAction("c", [out], work=fail_on_bad, output=out).code.digest  # one module


def test_the_pipelines_executor_serves_actions_without_their_own_and_is_released_when_it_stops(
    tmp_path: Path,
) -> None:
    from anacostia_blockchain import Pipeline

    shared = LocalExecutor(2)
    kit = build(tmp_path, upper, None)
    pipeline = Pipeline([kit.store, kit.data, kit.out, kit.action], executor=shared, failure_backoff=0.01)
    assert kit.action.executor is shared
    drop(tmp_path / "data", "a.txt", "abc")
    with pipeline:
        assert shared.started
        assert pipeline.wait_for_runs(1, 60)
    assert not shared.started  # shut down with the last node using it
    assert shared.submitted == 1 and kit.outputs() == {"a.txt.up": b"ABC"}
