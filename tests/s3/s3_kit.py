"""Helpers of the S3 tests: an action that consumes an S3 input (and writes to an S3 output), waits, expectations."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anacostia_blockchain import BaseActionNode, Pipeline
from anacostia_blockchain.engine import BaseNode
from anacostia_blockchain.ipfs.importer import import_bytes
from anacostia_blockchain.metadata import SqlMetadataStore
from anacostia_blockchain.resources.s3 import S3StoreNode


class Consume(BaseActionNode):
    """Records what each run consumed, ``(location, sha256, cid)``; with an output, writes each input upper-cased as
    ``<location>.out``, derived from that input."""

    def __init__(self, name: str, predecessors: list[BaseNode], source: S3StoreNode,
                 output: S3StoreNode | None = None) -> None:
        super().__init__(name, predecessors)
        self.source, self.output = source, output
        self.seen: list[list[tuple[str, str, str | None]]] = []

    def execute(self, *args: object, **kwargs: object) -> bool:
        inputs = self.source.current_inputs()
        self.seen.append(sorted((a.location, a.sha256, a.cid) for a in inputs))
        for artifact in inputs:
            if self.output is not None:
                self.output.save_artifact(f"{artifact.location}.out", self.source.read_bytes(artifact).upper(),
                                          derived_from=[artifact])
        return True


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def expected(content: bytes) -> tuple[str, str]:
    """The sha256 and the Kubo-default CID of ``content``."""
    return hashlib.sha256(content).hexdigest(), str(import_bytes(content).cid)


def metadata_store(tmp_path: Path) -> SqlMetadataStore:
    return SqlMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")


@contextmanager
def opened_store(tmp_path: Path) -> Iterator[SqlMetadataStore]:
    """A metadata store opened outside a pipeline (for nodes driven directly)."""
    store = metadata_store(tmp_path)
    store.open_store()
    try:
        yield store
    finally:
        store.close_store()


def watching_pipeline(tmp_path: Path, endpoint: str, bucket: str, **options: Any) -> tuple[
        Pipeline, SqlMetadataStore, S3StoreNode, Consume]:
    """A pipeline whose input is ``s3://bucket/raw/`` and whose action records what each run consumed."""
    store = metadata_store(tmp_path)
    source = S3StoreNode("raw", store, bucket=bucket, prefix="raw/", endpoint_url=endpoint, **options)
    action = Consume("consume", [source], source)
    return Pipeline([store, source, action]), store, source, action
