"""Kubo and Storacha misbehaving on the wire: 500s, answers held past the client's timeout, truncated bodies.

The emulators (real HTTP servers speaking the documented protocols, re-hashing everything) get per-request faults
from :mod:`fault_emulators`. What must hold:

- a write that failed is never recorded: no artifact row, no lineage, no confirmed outbox entry — even when the
  server did the work and only the answer was lost;
- idempotent reads are retried (and a broken ``dag/export`` stream falls back to verified ``block/get``);
- Storacha uploads go through the outbox: faults only delay them, an entry is ``confirmed`` only once the emulator
  holds its shard and upload, and nothing is stored twice.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fault_emulators import TEST_SPACE, FaultyKubo, FaultyStoracha

from anacostia_blockchain.engine import BaseActionNode, Pipeline, executing
from anacostia_blockchain.errors import ArtifactNotFoundError, ArtifactWriteError, KuboError, RemoteUnavailableError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, KuboClient, StorachaClient, compute_cid
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.web3storage import Web3StorageNode

CLIENT_TIMEOUT = 1.0  # generous for an unfaulted request on a busy machine; a "timeout" fault holds 3x this
SECRET, AUTH = "bridge-secret", "bridge-ucan"


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[FaultyKubo]:
    emulator = FaultyKubo(tmp_path / "kubo-repo")
    emulator.faults.delay = CLIENT_TIMEOUT * 3
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def storacha() -> Iterator[FaultyStoracha]:
    emulator = FaultyStoracha(space_did=TEST_SPACE, auth_secret=SECRET, authorization=AUTH)
    emulator.faults.delay = CLIENT_TIMEOUT * 3
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[SqliteMetadataStore]:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    store.open_store()
    try:
        yield store
    finally:
        store.close_store()


def kubo_client(kubo: FaultyKubo) -> KuboClient:
    return KuboClient(kubo.url, timeout=CLIENT_TIMEOUT, retries=2, backoff=0.01)


# --- Kubo: writes ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", ["500", "timeout", "truncate", "empty"])
def test_kubo_add_fault_records_nothing_then_a_clean_save_records_once(
    fault: str, kubo: FaultyKubo, metadata: SqliteMetadataStore
) -> None:
    node = IPFSStoreNode("models", metadata, store=kubo_client(kubo), import_options={"cid_version": 1})
    data = os.urandom(700_000)  # three 256 KiB leaves: a real DAG, not one block
    run = metadata.runs.begin_run("manual", [])
    kubo.faults.add("/api/v0/add", [fault])
    with executing(run, "train"), pytest.raises(ArtifactWriteError) as raised:
        node.save_artifact("model.bin", data)
    assert isinstance(raised.value.__cause__, KuboError | RemoteUnavailableError)
    assert kubo.faults.injected == [("/api/v0/add", fault)]
    if fault == "empty":
        assert "without naming any added entry" in str(raised.value)
    assert node.list_artifacts() == []
    assert metadata.runs.run_artifacts(run) == {"consumed": [], "produced": []}

    with executing(run, "train"):
        saved = node.save_artifact("model.bin", data)
    assert saved.cid == compute_cid(data, cid_version=1)
    assert [a.id for a in node.list_artifacts()] == [saved.id]
    assert kubo.store.verify_dag(CID.parse(saved.cid)) >= 3  # the daemon really holds every block...
    assert CID.parse(saved.cid) in kubo.store.pins()  # ...pinned
    assert node.read_bytes(saved) == data


# --- Kubo: idempotent reads are retried ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("export_faults", "block_faults", "falls_back_to_blocks"),
    [
        (["timeout"], [], False),  # no headers in time: the export request itself is retried
        (["timeout", "timeout"], [], False),
        (["truncate"], [], True),  # the stream broke mid-CAR: the blocks still owed come from block/get
        (["truncate"], ["timeout", "truncate"], True),  # ... and block/get is retried, also for a cut-off body
        (["timeout", "truncate"], ["truncate"], True),
    ],
)
def test_kubo_reads_survive_timeouts_and_broken_streams(
    export_faults: list[str], block_faults: list[str], falls_back_to_blocks: bool, kubo: FaultyKubo
) -> None:
    data = os.urandom(900_000)
    root = kubo.store.add_bytes(data).cid
    kubo.faults.add("/api/v0/dag/export", export_faults)
    kubo.faults.add("/api/v0/block/get", block_faults)
    assert kubo_client(kubo).cat(root) == data
    assert kubo.faults.pending() == 0, "every planned fault must have fired"
    assert ("block/get" in kubo.calls) == falls_back_to_blocks


def test_kubo_read_fails_typed_when_every_retry_times_out(kubo: FaultyKubo) -> None:
    root = kubo.store.add_bytes(b"weights" * 1000).cid
    kubo.faults.add("/api/v0/block/get", ["timeout"] * 3)  # 1 + retries=2
    with pytest.raises(RemoteUnavailableError, match="timed out"):
        kubo_client(kubo).get_block(root)


def test_kubo_input_from_a_failing_daemon_is_not_recorded(kubo: FaultyKubo, metadata: SqliteMetadataStore) -> None:
    root = str(kubo.store.add_bytes(os.urandom(300_000), pin=False).cid)
    node = IPFSStoreNode("inputs", metadata, store=kubo_client(kubo))
    kubo.faults.add("/api/v0/dag/export", ["500"])
    with pytest.raises(ArtifactNotFoundError, match="injected internal error"):
        node.add_cid(root)  # the daemon failed to export it: nothing fetched, nothing recorded
    assert node.list_artifacts() == []
    kubo.faults.add("/api/v0/pin/add", ["500"])
    with pytest.raises(ArtifactWriteError):
        node.add_cid(root)  # fetched and hashed fine, but the pin failed: still nothing recorded
    assert node.list_artifacts() == []
    artifact = node.add_cid(root)
    assert artifact is not None and artifact.cid == root and CID.parse(root) in kubo.store.pins()


# --- Storacha: uploads through the outbox --------------------------------------------------------------------------
class SaveModels(BaseActionNode):
    def __init__(self, name: str, source: FilesystemStoreNode, target: Web3StorageNode) -> None:
        super().__init__(name, [source, target])
        self.source, self.target = source, target
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        for artifact in self.source.current_inputs():
            data = self.source.artifact_path(artifact).read_bytes()
            self.saved.append(self.target.save_artifact(f"{artifact.location}.model", data))
        return True


def confirmed_but_not_stored(target: Web3StorageNode, storacha: FaultyStoracha) -> list[str]:
    """Entries the outbox calls confirmed whose root/shard the service does not hold (must always be empty)."""
    wrong = []
    for status in target.uploads():
        if status.status == "confirmed" and (
            status.car_cid not in storacha.shards or status.car_cid not in storacha.uploads.get(status.root, set())
        ):
            wrong.append(status.root)
    return wrong


@pytest.mark.parametrize(
    ("bridge_faults", "put_faults", "outbox_retried"),
    [
        (["500", "500"], [], True),  # store/add answered 500 twice: the client's retry, then the outbox's
        (["timeout", "truncate"], [], True),  # store/add processed but unanswered; then its answer cut
        ([], ["timeout"], False),  # the PUT stored the shard unheard; its one-time URL is spent: store/add says done
        ([], ["500", "500", "timeout"], True),  # PUT refused twice (outbox retry), then stored unheard
        ([], ["truncate"], False),  # the PUT stored the shard, its answer was cut inside the headers
        (["pass", "truncate", "timeout"], [], True),  # upload/add registered but unanswered, twice
        (["empty"], [], True),  # store/add "answered" 200 with no receipt
        ([], ["empty"], True),  # the PUT "succeeded" without storing anything: upload/add must not be believed
    ],
)
def test_storacha_faults_delay_uploads_and_never_confirm_what_is_not_stored(
    bridge_faults: list[str], put_faults: list[str], outbox_retried: bool, tmp_path: Path, storacha: FaultyStoracha
) -> None:
    client = StorachaClient(TEST_SPACE, auth_secret=SECRET, authorization=AUTH, bridge_url=storacha.url,
                            retries=1, backoff=0.01, timeout=CLIENT_TIMEOUT)
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    source = FilesystemStoreNode("incoming", tmp_path / "incoming", store, create=True)
    target = Web3StorageNode("web3", store, client=client, store=EmbeddedBlockstore(tmp_path / "ipfs", fsync=False),
                             backoff=Backoff(base=0.05, factor=2.0, cap=0.2))
    action = SaveModels("save", source, target)
    storacha.faults.add("/bridge", bridge_faults)
    storacha.faults.add("/s3/", put_faults)
    violations: list[str] = []
    watching = threading.Event()

    def watch() -> None:  # samples the invariant while the worker retries
        while not watching.wait(0.005):
            violations.extend(confirmed_but_not_stored(target, storacha))

    contents = [os.urandom(120_000), os.urandom(80_000)]
    (tmp_path / "incoming").mkdir()
    with Pipeline([store, source, target, action]):
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        for i, data in enumerate(contents):
            (tmp_path / "incoming" / f".d{i}").write_bytes(data)
            os.replace(tmp_path / "incoming" / f".d{i}", tmp_path / "incoming" / f"data-{i}.bin")
        deadline = time.monotonic() + 30
        while len(target.list_artifacts()) < len(contents):  # one run or two, depending on timing
            assert time.monotonic() < deadline, "the models were not saved"
            time.sleep(0.02)
        assert target.flush(30)
        watching.set()
        watcher.join()
        statuses = target.uploads()
    assert storacha.faults.pending() == 0, "every planned fault must have fired"
    assert violations == []
    roots = {compute_cid(data) for data in contents}
    assert {s.root for s in statuses} == roots and {s.status for s in statuses} == {"confirmed"}
    assert (max(s.attempts for s in statuses) >= 1) == outbox_retried
    assert set(storacha.uploads) == roots
    assert storacha.puts == len(storacha.shards) == len(roots)  # no shard PUT twice
    assert confirmed_but_not_stored(target, storacha) == []
    assert sum(1 for a in action.saved) == len(contents) == len(target.list_artifacts())
