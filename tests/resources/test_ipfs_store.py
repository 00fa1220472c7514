"""IPFSStoreNode on the embedded blockstore: output with CIDs and lineage, staging-folder and CID inputs."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.engine import ArtifactState, BaseActionNode, Pipeline
from anacostia_blockchain.errors import ArtifactNotFoundError, ConfigurationError, NoActiveRunError
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

WAIT = 20.0


class ReverseNode(BaseActionNode):
    """Reads every input back from IPFS and saves the reversed bytes (once as bytes, once as a file)."""

    def __init__(self, name: str, source: IPFSStoreNode, target: IPFSStoreNode, work: Path) -> None:
        super().__init__(name, [source, target])
        self.source, self.target, self.work = source, target, work
        self.saved: list[Any] = []
        self.seen: list[bytes] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        for artifact in self.source.current_inputs():
            content = self.source.read_bytes(artifact)
            self.seen.append(content)
            self.saved.append(self.target.save_artifact(content[::-1], name=f"{artifact.location}.rev"))
            copy = self.work / f"{artifact.id}.copy"
            copy.write_bytes(content)
            self.saved.append(self.target.save_artifact(copy, name=f"{artifact.location}.copy"))
        return True


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    return SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")


@pytest.fixture
def blockstore(tmp_path: Path) -> EmbeddedBlockstore:
    return EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)


def _pipeline(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore, **source_kwargs: Any
) -> tuple[Pipeline, IPFSStoreNode, IPFSStoreNode, ReverseNode]:
    source = IPFSStoreNode("incoming", store, store=blockstore, **source_kwargs)
    target = IPFSStoreNode("published", store, store=blockstore)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    action = ReverseNode("reverse", source, target, work)
    return Pipeline([store, source, target, action]), source, target, action


@pytest.fixture
def running(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> Iterator[tuple[Pipeline, IPFSStoreNode, IPFSStoreNode, ReverseNode]]:
    staged = _pipeline(tmp_path, store, blockstore, staging_dir=tmp_path / "staging", create=True)
    staged[0].launch()
    try:
        yield staged
    finally:
        staged[0].terminate()


def _land(folder: Path, name: str, data: bytes) -> Path:
    """Write like a careful producer: a hidden temp file, then an atomic rename into place."""
    tmp = folder / f".{name}.tmp"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)
    return folder / name


def test_a_staged_file_triggers_a_run_and_outputs_get_cids_pins_and_lineage(
    tmp_path: Path, running: tuple[Pipeline, IPFSStoreNode, IPFSStoreNode, ReverseNode], blockstore: EmbeddedBlockstore
) -> None:
    pipeline, source, target, action = running
    data = os.urandom(700_000)  # three UnixFS chunks
    _land(tmp_path / "staging", "shard-1.bin", data)
    assert pipeline.wait_for_runs(1, WAIT)

    [consumed] = source.list_artifacts(ArtifactState.OLD)
    assert consumed.location == "shard-1.bin"
    assert consumed.cid == compute_cid(data)
    assert action.seen == [data]

    reversed_artifact, copied = action.saved
    assert reversed_artifact.cid == compute_cid(data[::-1])
    assert copied.cid == consumed.cid
    pinned = {str(cid) for cid in blockstore.pins()}
    assert {consumed.cid, reversed_artifact.cid} <= pinned
    assert blockstore.cat(reversed_artifact.cid) == data[::-1]

    store = pipeline.metadata_store
    lineage = store.runs.lineage(reversed_artifact)
    assert lineage is not None
    assert lineage["node"] == "reverse"
    assert [a.cid for a in lineage["inputs"]] == [consumed.cid]
    recorded = {a.location: a for a in target.list_artifacts()}
    assert recorded["shard-1.bin.rev"].sha256 == hashlib.sha256(data[::-1]).hexdigest()
    assert recorded["shard-1.bin.copy"].size == len(data)


def test_partial_files_are_ignored_until_complete(
    tmp_path: Path, running: tuple[Pipeline, IPFSStoreNode, IPFSStoreNode, ReverseNode]
) -> None:
    pipeline, source, _, _ = running
    staging = tmp_path / "staging"
    (staging / "big.bin.partial").write_bytes(b"half")
    (staging / ".hidden").write_bytes(b"secret")
    time.sleep(0.3)
    assert source.get_num_artifacts("new") + source.get_num_artifacts("current") + source.get_num_artifacts("old") == 0
    os.replace(staging / "big.bin.partial", staging / "big.bin")
    assert pipeline.wait_for_runs(1, WAIT)
    assert [a.location for a in source.list_artifacts()] == ["big.bin"]


def test_startup_reconciles_and_a_restart_does_not_record_twice(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    staging = tmp_path / "staging"
    staging.mkdir()
    (staging / "nested").mkdir()
    _land(staging, "a.txt", b"alpha")
    _land(staging / "nested", "b.txt", b"beta")
    pipeline, source, _, action = _pipeline(tmp_path, store, blockstore, staging_dir=staging)
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    assert sorted(a.location for a in source.list_artifacts(ArtifactState.OLD)) == ["a.txt", "nested/b.txt"]
    assert sorted(action.seen) == [b"alpha", b"beta"]

    _land(staging, "c.txt", b"gamma")  # arrives while the pipeline is stopped
    again = SqliteMetadataStore("metadata", store.runs.url)
    pipeline2, source2, _, action2 = _pipeline(tmp_path, again, blockstore, staging_dir=staging)
    with pipeline2:
        assert pipeline2.wait_for_runs(1, WAIT)
    assert action2.seen == [b"gamma"]
    assert len(source2.list_artifacts()) == 3


def test_cid_inputs_are_fetched_verified_and_trigger_a_run(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    published = blockstore.add_bytes(b"dataset v1", pin=False)
    pipeline, source, _, action = _pipeline(tmp_path, store, blockstore, cids=[str(published.cid)])
    assert source.monitoring
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        late = blockstore.add_bytes(b"dataset v2", pin=False)
        assert source.add_cid(str(late.cid)) is not None
        assert source.add_cid(str(late.cid)) is None  # once per CID
        assert pipeline.wait_for_runs(2, WAIT)
    assert action.seen == [b"dataset v1", b"dataset v2"]
    assert {published.cid, late.cid} <= blockstore.pins()


def test_a_cid_the_store_cannot_provide_fails_the_launch(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    missing = compute_cid(b"never added", cid_version=1)
    pipeline, *_ = _pipeline(tmp_path, store, blockstore, cids=[missing])
    with pytest.raises(ArtifactNotFoundError, match=missing):
        pipeline.launch()


class FilesystemStyleWriter(BaseActionNode):
    """Uses the FilesystemStoreNode call form, then checks the error cases inside the run."""

    def __init__(self, name: str, source: IPFSStoreNode, target: IPFSStoreNode, missing: Path) -> None:
        super().__init__(name, [source, target])
        self.target, self.missing = target, missing
        self.saved: list[Any] = []
        self.errors: list[type[BaseException]] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        self.saved.append(self.target.save_artifact("notes/readme.txt", "héllo"))
        self.saved.append(self.target.save_artifact("blob.bin", io.BytesIO(b"\x00" * 300_000)))
        self.saved.append(self.target.save_artifact("written.bin", lambda handle: handle.write(b"by a function")))
        for bad_call in (
            lambda: self.target.save_artifact(self.missing),
            lambda: self.target.save_artifact("x.bin", 12345),
            lambda: self.target.save_artifact("x.bin", b"x", name="y"),
        ):
            try:
                bad_call()
            except (ArtifactNotFoundError, ConfigurationError) as exc:
                self.errors.append(type(exc))
        return True


def test_filesystem_style_saves_and_error_cases_record_nothing_bad(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    source = IPFSStoreNode("incoming", store, store=blockstore, staging_dir=tmp_path / "staging", create=True)
    target = IPFSStoreNode("published", store, store=blockstore)
    assert not target.monitoring and source.monitoring
    action = FilesystemStyleWriter("writer", source, target, tmp_path / "missing.bin")
    with Pipeline([store, source, target, action]) as pipeline:
        _land(source.resource_path, "go.txt", b"go")  # type: ignore[arg-type]
        assert pipeline.wait_for_runs(1, WAIT)
    assert action.errors == [ArtifactNotFoundError, ConfigurationError, ConfigurationError]
    text, blob, written = action.saved
    assert (text.location, text.cid) == ("notes/readme.txt", compute_cid("héllo".encode()))
    assert (blob.size, blob.cid) == (300_000, compute_cid(b"\x00" * 300_000))
    assert blockstore.cat(written.cid) == b"by a function"
    assert sorted(a.location for a in target.list_artifacts()) == ["blob.bin", "notes/readme.txt", "written.bin"]


def test_save_artifact_outside_a_run_is_refused(store: SqliteMetadataStore, blockstore: EmbeddedBlockstore) -> None:
    target = IPFSStoreNode("published", store, store=blockstore)
    store.open_store()
    try:
        with pytest.raises(NoActiveRunError):
            target.save_artifact(b"outside a run")
        assert target.list_artifacts() == []
        assert blockstore.pins() == set()
    finally:
        store.close_store()


def test_import_options_choose_the_cid_profile(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    source = IPFSStoreNode(
        "incoming", store, store=blockstore, staging_dir=tmp_path / "staging", import_options={"cid_version": 1},
        create=True,
    )
    store.open_store()
    try:
        source.resource_path.mkdir(parents=True)  # type: ignore[union-attr]
        _land(source.resource_path, "v1.bin", b"raw leaves please")  # type: ignore[arg-type]
        assert source.reconcile() == 1
        [artifact] = source.list_artifacts(ArtifactState.NEW)
        assert artifact.cid == compute_cid(b"raw leaves please", cid_version=1)
        assert artifact.cid.startswith("bafk")
        assert source.reconcile() == 0
    finally:
        store.close_store()


def test_open_artifact_streams_without_reading_everything(
    tmp_path: Path, store: SqliteMetadataStore, blockstore: EmbeddedBlockstore
) -> None:
    source = IPFSStoreNode("incoming", store, store=blockstore, staging_dir=tmp_path / "staging", create=True)
    data = os.urandom(3 * 262_144 + 5)
    store.open_store()
    try:
        source.resource_path.mkdir(parents=True)  # type: ignore[union-attr]
        _land(source.resource_path, "big.bin", data)  # type: ignore[arg-type]
        source.reconcile()
        [artifact] = source.list_artifacts()
        with source.open_artifact(artifact) as handle:
            first = handle.read(10)
            rest = handle.read()
        assert first + rest == data
    finally:
        store.close_store()


def test_concurrent_staging_events_record_each_file_once(
    tmp_path: Path, running: tuple[Pipeline, IPFSStoreNode, IPFSStoreNode, ReverseNode]
) -> None:
    pipeline, source, _, action = running
    staging = tmp_path / "staging"
    writers = [threading.Thread(target=_land, args=(staging, f"f{i}.bin", os.urandom(1000))) for i in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    deadline = time.monotonic() + WAIT
    while len(action.seen) < 8 and time.monotonic() < deadline:
        pipeline.wait_for_runs(pipeline.runs_finished + 1, 1.0)
    assert len(action.seen) == 8
    assert sorted(a.location for a in source.list_artifacts()) == sorted(f"f{i}.bin" for i in range(8))
