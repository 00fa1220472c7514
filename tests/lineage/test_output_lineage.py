"""Per-output lineage from what a node read through the resources, on SQLite and PostgreSQL with real folders."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from anacostia_blockchain.engine import Artifact, BaseActionNode, BaseNode, Pipeline, WorkUnit
from anacostia_blockchain.errors import LineageError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.metadata.schema import reads
from anacostia_blockchain.resources import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

from .lineage_kit import drop, locations


class Job(BaseActionNode):
    """Runs ``body(self)`` as its execute()."""

    def __init__(self, name: str, predecessors: list[BaseNode], body: Any) -> None:
        super().__init__(name, predecessors)
        self.body = body
        self.errors: list[BaseException] = []

    def execute(self) -> bool:
        try:
            self.body(self)
        except LineageError as exc:
            self.errors.append(exc)
        return True


def run_once(tmp_path: Path, url: str, body: Any, files: dict[str, str]) -> tuple[SqliteMetadataStore, Job]:
    store = SqliteMetadataStore("metadata", url)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    job = Job("job", [data, out], lambda node: body(node, data, out))
    for name, content in files.items():
        drop(tmp_path / "data", name, content)
    with Pipeline([store, data, out, job], failure_backoff=0.01) as pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)
    store.runs.open()
    return store, job


def output_inputs(store: SqliteMetadataStore, location: str) -> tuple[list[str], str | None]:
    produced = [a for a in store.runs.run_artifacts(1)["produced"] if a.location == location]
    lineage = store.runs.lineage(produced[-1])
    assert lineage is not None
    return locations(lineage["inputs"]), lineage["execution"]["basis"]


def test_an_output_derives_from_what_its_node_had_read_when_it_was_saved(tmp_path: Path, store_url: str) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        first, second, _ = sorted(data.current_inputs(), key=lambda a: a.location)  # listing reads all three
        out.save_artifact("both.txt", data.read_bytes(first) + data.read_bytes(second))

    store, _ = run_once(tmp_path, store_url, body, {"a1.txt": "one", "a2.txt": "two", "a3.txt": "three"})
    assert output_inputs(store, "both.txt") == (["a1.txt", "a2.txt", "a3.txt"], "reads")  # all were listed


def test_work_units_give_each_output_exactly_its_own_inputs(tmp_path: Path, store_url: str) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        units = [WorkUnit.of(a) for a in data.current_inputs()]
        report = node.run_units(units, lambda unit: out.save_artifact(
            unit.inputs[0].location + ".out", data.read_bytes(unit.inputs[0])) and None)
        assert report.ok and len(report.executed) == 2

    store, _ = run_once(tmp_path, store_url, body, {"a1.txt": "one", "a2.txt": "two"})
    assert output_inputs(store, "a1.txt.out") == (["a1.txt"], "reads")
    assert output_inputs(store, "a2.txt.out") == (["a2.txt"], "reads")
    outputs = {o["location"]: o for o in store.runs.export_run(1)["outputs"]}
    assert outputs["a1.txt.out"]["unit"] == "data:a1.txt"
    assert [d["location"] for d in outputs["a1.txt.out"]["derived_from"]] == ["a1.txt"]


def test_derived_from_narrows_the_lineage_to_a_subset_of_what_was_read(tmp_path: Path, store_url: str) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        for artifact in data.current_inputs():
            out.save_artifact(artifact.location + ".out", data.read_bytes(artifact), derived_from=[artifact])

    store, _ = run_once(tmp_path, store_url, body, {"a1.txt": "one", "a2.txt": "two"})
    assert output_inputs(store, "a1.txt.out") == (["a1.txt"], "declared")
    assert output_inputs(store, "a2.txt.out") == (["a2.txt"], "declared")
    reads = store.runs.export_run(1)["outputs"]
    assert {o["basis"] for o in reads} == {"declared"}


def test_derived_from_naming_something_not_read_is_refused_before_anything_is_written(
    tmp_path: Path, store_url: str,
) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        everything = data.metadata_store.runs.list_artifacts("data")  # not through the resource: not a read
        out.save_artifact("sneaky.txt", b"x", derived_from=everything)

    store, job = run_once(tmp_path, store_url, body, {"a1.txt": "one"})
    assert len(job.errors) == 1 and isinstance(job.errors[0], ValueError)
    assert "derived_from names data:a1.txt, which job did not read in run 1" in str(job.errors[0])
    assert not (tmp_path / "out" / "sneaky.txt").exists()
    assert store.runs.run_artifacts(1)["produced"] == []


def test_a_node_that_reads_nothing_through_the_resources_gets_its_declared_inputs_as_lineage(
    tmp_path: Path, store_url: str,
) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        raw = (tmp_path / "data" / "a1.txt").read_bytes()  # opened directly: the engine cannot see it
        out.save_artifact("copy.txt", raw)

    store, _ = run_once(tmp_path, store_url, body, {"a1.txt": "one", "a2.txt": "two"})
    assert output_inputs(store, "copy.txt") == (["a1.txt", "a2.txt"], "inputs")


def test_reads_are_recorded_with_how_they_were_made(tmp_path: Path) -> None:
    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        listed = data.current_inputs()
        data.artifact_path(listed[0])
        out.save_artifact("x.txt", b"x")

    store, _ = run_once(tmp_path, f"sqlite:///{tmp_path}/meta.db", body, {"a1.txt": "one"})
    with store.runs.engine.connect() as conn:
        rows = conn.execute(select(reads.c.node_name, reads.c.via, reads.c.run_id)).all()
    assert [tuple(row) for row in rows] == [("job", "list", 1)]  # one artifact, logged at its first read


def test_reads_through_an_ipfs_resource_are_lineage_too(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path}/meta.db")
    blocks = EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)
    incoming = IPFSStoreNode("incoming", store, store=blocks, staging_dir=tmp_path / "staging", create=True)
    published = IPFSStoreNode("published", store, store=blocks)
    seen: list[Artifact] = []

    def body(node: Job) -> None:
        runs = store.runs
        for artifact in runs.list_artifacts("incoming"):  # found without the resource: not yet a read
            seen.append(artifact)
            content = incoming.read_bytes(artifact)  # the content read through the resource is
            published.save_artifact(content[::-1], name=artifact.location + ".rev")

    job = Job("job", [incoming, published], body)
    drop(tmp_path / "staging", "doc.txt", "hello ipfs")
    with Pipeline([store, incoming, published, job], failure_backoff=0.01) as pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)
    store.runs.open()
    produced = store.runs.run_artifacts(1)["produced"]
    lineage = store.runs.lineage(produced[0])
    assert lineage is not None and locations(lineage["inputs"]) == ["doc.txt"]
    assert lineage["execution"]["basis"] == "reads"


def test_derived_from_needs_the_executing_node_a_helper_thread_cannot_claim_lineage(tmp_path: Path) -> None:
    caught: list[BaseException] = []

    def body(node: Job, data: FilesystemStoreNode, out: FilesystemStoreNode) -> None:
        inputs = data.current_inputs()

        def helper() -> None:  # a thread started inside execute() has no execution context
            try:
                out.save_artifact("x.txt", b"x", derived_from=inputs)
            except LineageError as exc:
                caught.append(exc)

        thread = threading.Thread(target=helper)
        thread.start()
        thread.join()

    run_once(tmp_path, f"sqlite:///{tmp_path}/meta.db", body, {"a1.txt": "one"})
    assert len(caught) == 1 and "call save_artifact from the node's execute()" in str(caught[0])
    assert not (tmp_path / "out" / "x.txt").exists()
