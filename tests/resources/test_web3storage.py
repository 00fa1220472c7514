"""Web3StorageNode against the Storacha emulator: CARs via the persistent outbox, outages, restarts, exactly once."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.engine import BaseActionNode, Pipeline, RunStatus
from anacostia_blockchain.errors import ArtifactNotFoundError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, StorachaClient, compute_cid, read_car
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.outbox import Backoff, Outbox
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.web3storage import Web3StorageNode

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))
from emulators.storacha_emulator import StorachaEmulator

SPACE = "did:key:z6MkspaceForAnacostiaTests"
SECRET, AUTH = "test-secret", "test-authorization"
WAIT = 30.0
FAST = Backoff(base=0.05, factor=2.0, cap=0.2)


@pytest.fixture
def storacha() -> Iterator[StorachaEmulator]:
    emulator = StorachaEmulator(space_did=SPACE, auth_secret=SECRET, authorization=AUTH)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def _client(storacha: StorachaEmulator, *, secret: str = SECRET) -> StorachaClient:
    return StorachaClient(
        SPACE, auth_secret=secret, authorization=AUTH, bridge_url=storacha.url, retries=0, backoff=0.01, timeout=5.0
    )


class Publish(BaseActionNode):
    """Saves each input twice under two names (same content: one upload) and once transformed."""

    def __init__(self, name: str, source: FilesystemStoreNode, target: IPFSStoreNode) -> None:
        super().__init__(name, [source, target])
        self.source, self.target = source, target
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        for artifact in self.source.current_inputs():
            data = self.source.artifact_path(artifact).read_bytes()
            self.saved.append(self.target.save_artifact(f"{artifact.location}/a", data))
            self.saved.append(self.target.save_artifact(f"{artifact.location}/b", data))
            self.saved.append(self.target.save_artifact(data[::-1], name=f"{artifact.location}/reversed"))
        return True


def _pipeline(
    tmp_path: Path, client: StorachaClient, db_url: str | None = None
) -> tuple[Pipeline, Web3StorageNode, Publish]:
    store = SqliteMetadataStore("metadata", db_url or f"sqlite:///{tmp_path / 'meta.db'}")
    source = FilesystemStoreNode("incoming", tmp_path / "incoming", store, create=True)
    target = Web3StorageNode(
        "web3", store, client=client, store=EmbeddedBlockstore(tmp_path / "local-ipfs", fsync=False), backoff=FAST
    )
    action = Publish("publish", source, target)
    return Pipeline([store, source, target, action]), target, action


@contextlib.contextmanager
def pipeline_store_open(tmp_path: Path, client: StorachaClient) -> Iterator[Web3StorageNode]:
    """A fresh pipeline on the same database, launched, for status queries after a restart."""
    pipeline, target, _ = _pipeline(tmp_path, client)
    with pipeline:
        yield target


def _land(tmp_path: Path, name: str, data: bytes) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    (folder / f".{name}.tmp").write_bytes(data)
    os.replace(folder / f".{name}.tmp", folder / name)


def _assert_landed_once(storacha: StorachaEmulator, contents: list[bytes]) -> None:
    roots = {compute_cid(c) for c in contents}
    assert set(storacha.uploads) == roots
    assert storacha.puts == len(roots) == len(storacha.shards)
    for root, shards in storacha.uploads.items():
        [shard] = shards
        with read_car(storacha.shards[shard]) as reader:
            assert [str(r) for r in reader.roots] == [root]


def test_artifacts_upload_as_cars_exactly_once(tmp_path: Path, storacha: StorachaEmulator) -> None:
    pipeline, target, action = _pipeline(tmp_path, _client(storacha))
    data = os.urandom(300_000)
    _land(tmp_path, "model.bin", data)
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        assert target.flush(WAIT)
        statuses = {s.root: s for s in target.uploads()}
    assert len(statuses) == 2  # a, b and reversed: two distinct contents
    for status in statuses.values():
        assert status.uploaded and status.attempts == 0 and status.status == "confirmed"
        assert CID.parse(status.car_cid).codec == 0x0202
        assert storacha.uploads[status.root] == {status.car_cid}
    _assert_landed_once(storacha, [data, data[::-1]])
    first, second, flipped = action.saved
    assert first.cid == second.cid == compute_cid(data) and flipped.cid == compute_cid(data[::-1])
    with pipeline_store_open(tmp_path, _client(storacha)) as reopened:
        assert reopened.upload_status(first).car_cid == statuses[first.cid].car_cid
        with pytest.raises(ArtifactNotFoundError):
            reopened.upload_status(compute_cid(b"never saved"))
    assert list((target.car_dir).iterdir()) == []  # CAR files are removed once confirmed


def test_an_outage_delays_uploads_and_loses_nothing(tmp_path: Path, storacha: StorachaEmulator) -> None:
    storacha.unavailable["bridge"] = 10_000
    pipeline, target, _ = _pipeline(tmp_path, _client(storacha))
    data = os.urandom(50_000)
    _land(tmp_path, "a.bin", data)
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        assert pipeline.metadata_store.runs.get_runs()[0]["status"] == RunStatus.SUCCESS  # the run does not wait
        assert not target.flush(1.0)
        pending = target.uploads()
        assert {s.status for s in pending} <= {"pending", "claimed"}
        assert max(s.attempts for s in pending) >= 1
        assert any("RemoteUnavailableError" in (s.last_error or "") for s in pending)
        storacha.unavailable["bridge"] = 0
        storacha.unavailable["put"] = 2  # the storage PUT still fails twice: retried too
        assert target.flush(WAIT)
    assert {s.status for s in target.uploads()} == {"confirmed"}
    _assert_landed_once(storacha, [data, data[::-1]])


def test_bad_credentials_park_the_upload_until_retried(tmp_path: Path, storacha: StorachaEmulator) -> None:
    pipeline, target, _ = _pipeline(tmp_path, _client(storacha, secret="wrong"))
    _land(tmp_path, "a.bin", b"needs valid tokens")
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        assert target.flush(WAIT)  # nothing left to try: both are parked
        assert {s.status for s in target.uploads()} == {"failed"}
        assert all("StorachaAuthError" in (s.last_error or "") for s in target.uploads())
    assert storacha.puts == 0

    again, target2, _ = _pipeline(tmp_path, _client(storacha))
    with again:
        assert target2.retry_failed() == 2
        assert target2.flush(WAIT)
    assert {s.status for s in target2.uploads()} == {"confirmed"}
    _assert_landed_once(storacha, [b"needs valid tokens", b"snekot dilav sdeen"])


_CRASHING_PRODUCER = textwrap.dedent(
    """
    import os, sys, json
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import test_web3storage as t
    from anacostia_blockchain.ipfs import StorachaClient
    tmp, url = Path(sys.argv[1]), sys.argv[3]
    client = StorachaClient(t.SPACE, auth_secret=t.SECRET, authorization=t.AUTH, bridge_url=url, retries=0,
                            backoff=0.01, timeout=5.0)
    pipeline, target, _ = t._pipeline(tmp, client)
    t._land(tmp, "a.bin", b"first payload")
    t._land(tmp, "b.bin", b"second payload")
    pipeline.launch()
    assert pipeline.wait_for_runs(1, 30)
    while pipeline.runs_finished < 2 and len(target.uploads()) < 4:
        pipeline.wait_for_runs(pipeline.runs_finished + 1, 1)
    print(json.dumps([s.status for s in target.uploads()]), flush=True)
    os._exit(9)  # die without stopping anything: no teardown, no flush
    """
)


def test_a_process_restart_resumes_pending_uploads(tmp_path: Path, storacha: StorachaEmulator) -> None:
    storacha.unavailable["bridge"] = 10_000  # every upload attempt of the first process fails
    child = subprocess.run(
        [sys.executable, "-c", _CRASHING_PRODUCER, str(tmp_path), str(Path(__file__).parent), storacha.url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parents[2],
    )
    assert child.returncode == 9, child.stderr[-3000:]
    statuses = json.loads(child.stdout.strip().splitlines()[-1])
    assert len(statuses) == 4 and "confirmed" not in statuses
    assert storacha.puts == 0

    storacha.unavailable["bridge"] = 0
    pipeline, target, _ = _pipeline(tmp_path, _client(storacha))
    with pipeline:
        assert target.flush(WAIT)
    assert {s.status for s in target.uploads()} == {"confirmed"}
    payloads = [b"first payload", b"second payload"]
    _assert_landed_once(storacha, payloads + [p[::-1] for p in payloads])


def test_an_upload_whose_confirmation_was_lost_is_not_stored_twice(tmp_path: Path, storacha: StorachaEmulator) -> None:
    storacha.unavailable["bridge"] = 10_000
    pipeline, target, _ = _pipeline(tmp_path, _client(storacha))
    _land(tmp_path, "a.bin", b"uploaded by a worker that then died")
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
    # A worker in another process claims both entries, uploads them, and dies before marking them.
    storacha.unavailable["bridge"] = 0
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    dead = Outbox(store.runs.engine, backoff=FAST)
    claimed = []
    deadline = time.monotonic() + WAIT
    while len(claimed) < 2 and time.monotonic() < deadline:
        claimed += dead.claim(target.outbox_kind)
        time.sleep(0.05)
    assert len(claimed) == 2
    for entry in claimed:
        _client(storacha).upload_car(target.car_path(entry.payload["root"]), entry.payload["root"])
    assert storacha.puts == 2

    again, target2, _ = _pipeline(tmp_path, _client(storacha))
    with again:
        assert target2.flush(WAIT)
    assert {s.status for s in target2.uploads()} == {"confirmed"}
    assert storacha.puts == 2  # store/add answered "done": no second PUT
    _assert_landed_once(storacha, [b"uploaded by a worker that then died", b"deid neht taht rekrow a yb dedaolpu"])


def test_a_recorded_artifact_that_was_never_queued_is_queued_at_startup(
    tmp_path: Path, storacha: StorachaEmulator
) -> None:
    class RecordOnly(Publish):
        def execute(self, *args: Any, **kwargs: Any) -> bool:
            for artifact in self.source.current_inputs():  # the crash window: recorded, not yet queued
                data = self.source.artifact_path(artifact).read_bytes()
                self.saved.append(IPFSStoreNode.save_artifact(self.target, data, name=artifact.location))
            return True

    pipeline, target, _ = _pipeline(tmp_path, _client(storacha))
    pipeline.nodes[-1].__class__ = RecordOnly
    _land(tmp_path, "orphan.bin", b"recorded only")
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        assert target.uploads() == []
    again, target2, _ = _pipeline(tmp_path, _client(storacha))
    with again:
        assert target2.flush(WAIT)
    assert [s.status for s in target2.uploads()] == ["confirmed"]
    _assert_landed_once(storacha, [b"recorded only"])


@pytest.mark.postgres
def test_the_outbox_works_on_postgresql_across_restarts(
    tmp_path: Path, storacha: StorachaEmulator, postgres_url: str
) -> None:
    storacha.unavailable["bridge"] = 10_000
    pipeline, target, _ = _pipeline(tmp_path, _client(storacha), postgres_url)
    _land(tmp_path, "pg.bin", b"metadata in postgres")
    with pipeline:
        assert pipeline.wait_for_runs(1, WAIT)
        assert not target.flush(0.5)
    storacha.unavailable["bridge"] = 0
    again, target2, _ = _pipeline(tmp_path, _client(storacha), postgres_url)
    with again:
        assert target2.flush(WAIT)
    assert {s.status for s in target2.uploads()} == {"confirmed"}
    _assert_landed_once(storacha, [b"metadata in postgres", b"sergtsop ni atadatem"])
