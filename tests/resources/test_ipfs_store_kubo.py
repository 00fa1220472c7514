"""IPFSStoreNode with the Kubo RPC backend, against the Kubo emulator (a real HTTP server that re-hashes)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.engine import ArtifactState, BaseActionNode, Pipeline, RunStatus
from anacostia_blockchain.errors import ArtifactWriteError
from anacostia_blockchain.ipfs import CID, KuboClient, compute_cid
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))
from emulators.kubo_emulator import KuboEmulator

WAIT = 20.0


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[KuboEmulator]:
    emulator = KuboEmulator(tmp_path / "kubo-repo")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


class Publish(BaseActionNode):
    def __init__(self, name: str, source: IPFSStoreNode, target: IPFSStoreNode) -> None:
        super().__init__(name, [source, target])
        self.source, self.target = source, target
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        for artifact in self.source.current_inputs():
            data = self.source.read_bytes(artifact)
            self.saved.append(self.target.save_artifact(data.upper(), name=artifact.location + ".upper"))
        return True


def test_staging_input_and_output_through_a_kubo_daemon(tmp_path: Path, kubo: KuboEmulator) -> None:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    source = IPFSStoreNode("incoming", store, store=kubo.url, staging_dir=tmp_path / "staging", create=True)
    target = IPFSStoreNode("published", store, store=KuboClient(kubo.url), import_options={"cid_version": 1})
    assert isinstance(source.store, KuboClient)
    action = Publish("publish", source, target)
    data = os.urandom(600_000)
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "weights.bin").write_bytes(data)
    with Pipeline([store, source, target, action]) as pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    [consumed] = source.list_artifacts(ArtifactState.OLD)
    assert consumed.cid == compute_cid(data)
    [saved] = action.saved
    assert saved.cid == compute_cid(data.upper(), cid_version=1)
    pins = kubo.store.pins()
    assert {CID.parse(consumed.cid), CID.parse(saved.cid)} <= pins
    assert kubo.store.cat(saved.cid) == data.upper()  # the daemon holds the real bytes
    assert any(call.startswith("add") for call in kubo.calls)


def test_a_daemon_that_is_down_fails_the_save_and_records_nothing(tmp_path: Path, kubo: KuboEmulator) -> None:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    source = IPFSStoreNode("incoming", store, staging_dir=tmp_path / "staging", store=tmp_path / "local-ipfs",
                           create=True)
    target = IPFSStoreNode("published", store, store=KuboClient(kubo.url, retries=1, backoff=0.01, timeout=2.0))
    action = Publish("publish", source, target)
    kubo.stop()
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "a.txt").write_bytes(b"abc")
    with Pipeline([store, source, target, action]) as pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    [run] = store.runs.get_runs()
    assert run["status"] == RunStatus.FAILED
    assert ArtifactWriteError.__name__ in run["error"]
    assert target.list_artifacts() == []
