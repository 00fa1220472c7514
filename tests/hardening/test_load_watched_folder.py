"""1,000 files dropped at once into a watched folder while the pipeline runs.

Half are written in place by 8 threads at the same time (detected on close), half are renamed in from a staging
folder on the same filesystem (detected on move) — the two ways files land. Every file must become exactly one
artifact, and every artifact must be consumed by exactly one successful run, which the action itself observes.
Checked on SQLite and on PostgreSQL (the real server), whose write paths differ.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode

pytestmark = pytest.mark.slow

FILES = 1000
WRITERS = 8


class Consume(BaseActionNode):
    """Records which inputs each run handed it (and takes a little time, so files pile up between runs)."""

    def __init__(self, name: str, predecessors: list[BaseNode], data: FilesystemStoreNode,
                 store: SqliteMetadataStore) -> None:
        super().__init__(name, predecessors)
        self.data = data
        self.store = store
        self.seen: list[tuple[int, str, str]] = []  # (run id, location, sha256 of the bytes read)
        self._lock = threading.Lock()

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        run_id = self.store.current_run_id
        assert run_id is not None
        for artifact in self.data.current_inputs():
            digest = hashlib.sha256(self.data.artifact_path(artifact).read_bytes()).hexdigest()
            with self._lock:
                self.seen.append((run_id, artifact.location, digest))
        time.sleep(0.05)
        return True


def land_files(folder: Path, staging: Path) -> dict[str, bytes]:
    """Write FILES/2 in place concurrently and rename FILES/2 in; returns name -> content."""
    contents = {f"sample-{i:04d}.csv": f"id,value\n{i},{os.urandom(8).hex()}\n".encode() for i in range(FILES)}
    names = sorted(contents)
    in_place, moved = names[: FILES // 2], names[FILES // 2 :]
    for name in moved:
        (staging / name).write_bytes(contents[name])

    def write(chunk: list[str]) -> None:
        for name in chunk:
            with (folder / name).open("wb") as handle:
                handle.write(contents[name])

    writers = [threading.Thread(target=write, args=(in_place[n::WRITERS],)) for n in range(WRITERS)]
    for thread in writers:
        thread.start()
    for name in moved:
        os.rename(staging / name, folder / name)
    for thread in writers:
        thread.join()
    return contents


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_thousand_files_each_become_one_artifact_consumed_by_one_run(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    store = SqliteMetadataStore("metadata", url)
    folder, staging = tmp_path / "incoming", tmp_path / "staging"
    staging.mkdir()
    data = FilesystemStoreNode("data", folder, store, create=True)
    action = Consume("consume", [data], data, store)
    pipeline = Pipeline([store, data, action], failure_backoff=0.01)
    pipeline.launch()
    try:
        contents = land_files(folder, staging)
        deadline = time.monotonic() + 120
        while len(action.seen) < FILES or data.get_num_artifacts("new") or data.get_num_artifacts("current"):
            assert time.monotonic() < deadline, f"only {len(action.seen)} of {FILES} files consumed"
            time.sleep(0.05)
        artifacts = data.list_artifacts()
        runs = store.runs.get_runs()
        lineage = {run["id"]: store.runs.run_artifacts(run["id"])["consumed"] for run in runs}
    finally:
        pipeline.terminate()

    expected = {name: hashlib.sha256(body).hexdigest() for name, body in contents.items()}
    # every file is exactly one artifact, with the content that landed
    assert len(artifacts) == FILES
    assert {a.location: a.sha256 for a in artifacts} == expected
    assert {a.state for a in artifacts} == {"old"}
    # every artifact consumed by exactly one run, all of them successful
    assert {run["status"] for run in runs} == {"success"}
    consumed = Counter(a.id for inputs in lineage.values() for a in inputs)
    assert consumed == Counter({a.id: 1 for a in artifacts})
    assert {a.consumed_run_id for a in artifacts} <= {run["id"] for run in runs}
    # ... and the action saw each file once, with the bytes that were recorded
    assert Counter(location for _, location, _ in action.seen) == Counter({name: 1 for name in contents})
    assert {location: digest for _, location, digest in action.seen} == expected
    by_run = {(run_id, location) for run_id, location, _ in action.seen}
    assert by_run == {(a.consumed_run_id, a.location) for a in artifacts}
