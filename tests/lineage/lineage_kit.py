"""Real nodes for the provenance tests: actions that read through the resources' API and save outputs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from anacostia_blockchain.engine import Artifact, BaseActionNode, BaseNode, Pipeline, WorkUnit
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources import FilesystemStoreNode


class Upper(BaseActionNode):
    """Saves an upper-cased copy of each input of the run (read with ``read_bytes``), and logs how many."""

    suffix = ".up"

    def __init__(self, name: str, predecessors: Sequence[BaseNode], store: SqliteMetadataStore,
                 source: FilesystemStoreNode, target: FilesystemStoreNode, **options: Any) -> None:
        super().__init__(name, predecessors, **options)
        self.store, self.source, self.target = store, source, target
        self.executed = 0

    def execute(self) -> bool:
        self.executed += 1
        inputs = self.source.current_inputs()
        for artifact in inputs:
            self.target.save_artifact(artifact.location + self.suffix, self.source.read_bytes(artifact).upper(),
                                      derived_from=[artifact])
        self.store.log_metrics(files=float(len(inputs)))
        self.store.log_params(mode="upper")
        return True


class Count(BaseActionNode):
    """Counts the bytes of what its predecessor produced in the run (read from ``target``'s current files)."""

    def __init__(self, name: str, predecessors: Sequence[BaseNode], source: FilesystemStoreNode,
                 target: FilesystemStoreNode) -> None:
        super().__init__(name, predecessors)
        self.source, self.target = source, target
        self.executed = 0

    def execute(self) -> bool:
        self.executed += 1
        total = sum(len(self.source.read_bytes(a)) for a in self.source.current_inputs())
        self.target.save_artifact("count.txt", str(total))
        return True


class PerFile(BaseActionNode):
    """Processes every present file of ``source`` as one work unit each (reversed copy)."""

    def __init__(self, name: str, source: FilesystemStoreNode, target: FilesystemStoreNode,
                 work: Callable[[bytes], bytes] = lambda data: data[::-1], **options: Any) -> None:
        super().__init__(name, [source, target], **options)
        self.source, self.target, self.work = source, target, work
        self.calls: list[str] = []
        self.reports: list[Any] = []

    def execute(self) -> bool:
        present = [a for a in self.source.list_artifacts() if a.state in ("current", "old")]
        report = self.run_units([WorkUnit.of(a) for a in present], self.one)
        self.reports.append(report)
        return report.ok

    def one(self, unit: WorkUnit) -> None:
        artifact = unit.inputs[0]
        self.calls.append(artifact.location)
        self.target.save_artifact(artifact.location + ".rev", self.work(self.source.read_bytes(artifact)))


def chain(
    tmp_path: Path, url_or_store: str | SqliteMetadataStore, **pipeline_options: Any
) -> tuple[Pipeline, SqliteMetadataStore, Upper, Count]:
    """data -> upper (-> out) -> count (-> totals)."""
    store = SqliteMetadataStore("metadata", url_or_store) if isinstance(url_or_store, str) else url_or_store
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    totals = FilesystemStoreNode("totals", tmp_path / "totals", store, monitoring=False)
    upper = Upper("upper", [data, out], store, data, out)
    count = Count("count", [upper, out], out, totals)
    pipeline = Pipeline([store, data, out, totals, upper, count], failure_backoff=0.01, **pipeline_options)
    return pipeline, store, upper, count


def per_file(tmp_path: Path, url: str, **options: Any) -> tuple[Pipeline, SqliteMetadataStore, PerFile]:
    store = SqliteMetadataStore("metadata", url)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    node = PerFile("per_file", data, out, **options)
    return Pipeline([store, data, out, node], failure_backoff=0.01), store, node


def drop(folder: Path, name: str, content: str | bytes) -> None:
    """Atomically place a file (temp file + rename, as producers should)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{name}"
    tmp.write_bytes(content.encode() if isinstance(content, str) else content)
    tmp.rename(folder / name)


def locations(artifacts: Sequence[Artifact]) -> list[str]:
    return sorted(a.location for a in artifacts)
