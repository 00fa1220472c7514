"""Building the executor tests' pipelines: a watched folder, a DatumAction, an IPFS output on an embedded store."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anacostia_blockchain import FilesystemStoreNode, Pipeline
from anacostia_blockchain.executors import BaseExecutor, DatumAction
from anacostia_blockchain.executors._task import WorkFunction
from anacostia_blockchain.metadata import SqlMetadataStore
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode


@dataclass
class DatumPipeline:
    pipeline: Pipeline
    store: SqlMetadataStore
    data: FilesystemStoreNode
    out: IPFSStoreNode
    action: DatumAction

    def outputs(self) -> dict[str, bytes]:
        """The output resource's present content, by location."""
        present = self.store.runs.present_artifacts(self.out.name)
        return {location: self.out.store.cat(str(artifact.cid)) for location, artifact in present.items()}


def build(tmp_path: Path, work: WorkFunction, executor: BaseExecutor | None, *, db: str | None = None,
          output_store: str | None = None, **action_options: Any) -> DatumPipeline:
    """``output_store``: the output's content store (default: an embedded blockstore in ``tmp_path``)."""
    store = SqlMetadataStore("metadata", db or f"sqlite:///{tmp_path / 'meta.db'}")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = IPFSStoreNode("out", store, store=output_store or tmp_path / "blocks")
    action = DatumAction("work", [data], work=work, output=out, executor=executor, **action_options)
    return DatumPipeline(Pipeline([store, data, out, action], failure_backoff=0.01), store, data, out, action)


def drop(folder: Path, name: str, content: bytes | str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{name}"
    tmp.write_bytes(content.encode() if isinstance(content, str) else content)
    tmp.rename(folder / name)


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
