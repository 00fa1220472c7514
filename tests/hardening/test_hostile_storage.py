"""Hostile storage backends: a Kubo daemon serving bytes that do not match their CID, a daemon that ignores the
import options it is sent, a stream cut mid-CAR, corrupt blocks on disk, and uploads over Storacha's size limit.

What must hold: a typed :class:`StorageError` (or the resource-level error wrapping it) that names the problem;
no partial file where a complete export is expected; nothing pinned or recorded that was not verified; an upload
refused for its size is parked (not lost, not retried forever) and goes through exactly once after the cause is fixed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_storage import FlagIgnoringKubo, KuboEmulator, SaveOnce, StorachaEmulator

from anacostia_blockchain.engine import Pipeline, RunStatus
from anacostia_blockchain.errors import (
    ArtifactNotFoundError,
    ArtifactWriteError,
    ContentNotFoundError,
    CorruptBlockError,
    KuboError,
    RemoteUnavailableError,
    StorachaSizeLimitError,
    StorageError,
)
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, KuboClient, StorachaClient, compute_cid
from anacostia_blockchain.ipfs.dagpb import decode_node
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.web3storage import Web3StorageNode

SPACE = "did:key:z6MkhostileStorageTests"
SECRET, AUTH = "hostile-secret", "hostile-authorization"
CONTENT = bytes(range(256)) * 2000 + b"tail"  # 512 KiB + 4: several leaves at 100 kB chunks
WAIT = 30.0


@pytest.fixture
def kubo(tmp_path: Path) -> Iterator[KuboEmulator]:
    emulator = KuboEmulator(tmp_path / "kubo-repo")
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def storacha() -> Iterator[StorachaEmulator]:
    emulator = StorachaEmulator(space_did=SPACE, auth_secret=SECRET, authorization=AUTH)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


def _stored_with_a_tampered_leaf(kubo: KuboEmulator) -> tuple[KuboClient, CID, CID]:
    client = KuboClient(kubo.url, retries=0)
    root = client.add_bytes(CONTENT, chunker="size-100000").cid
    leaf = decode_node(client.get_block(root)).links[2].cid
    kubo.tamper[leaf.multihash] = b"these are not the leaf's bytes"
    return client, root, leaf


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_daemon_serving_other_bytes_for_a_cid_is_caught_everywhere(tmp_path: Path, kubo: KuboEmulator) -> None:
    client, root, leaf = _stored_with_a_tampered_leaf(kubo)
    with pytest.raises(CorruptBlockError, match=str(leaf)):
        client.cat(root)
    with pytest.raises(CorruptBlockError):
        client.get_block(leaf)
    streamed = b""
    with pytest.raises(CorruptBlockError):
        for chunk in client.cat_stream(root):
            streamed += chunk
    assert CONTENT.startswith(streamed) and len(streamed) < len(CONTENT)  # only verified bytes came out


def test_a_corrupt_export_leaves_no_partial_car_behind(tmp_path: Path, kubo: KuboEmulator) -> None:
    client, root, _ = _stored_with_a_tampered_leaf(kubo)
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(CorruptBlockError):
        client.export_car(root, out / "model.car")
    assert _leftovers(out) == []
    (out / "model.car").write_bytes(b"an earlier, complete export")
    with pytest.raises(CorruptBlockError):
        client.export_car(root, out / "model.car")
    assert (out / "model.car").read_bytes() == b"an earlier, complete export"  # not clobbered by a half export
    assert _leftovers(out) == ["model.car"]


def test_a_stream_cut_by_the_daemon_is_a_typed_error_and_leaves_nothing(tmp_path: Path, kubo: KuboEmulator) -> None:
    client = KuboClient(kubo.url, retries=0)
    root = client.add_bytes(CONTENT, chunker="size-100000").cid
    kubo.fail_stream["dag/export"] = (150_000, "context canceled")
    with pytest.raises(StorageError) as info:
        client.export_car(root, tmp_path / "cut.car")
    assert isinstance(info.value, KuboError | RemoteUnavailableError | CorruptBlockError)
    assert "context canceled" in str(info.value) or "truncated" in str(info.value)
    assert not any(p.name.endswith((".car", ".partial")) for p in tmp_path.iterdir())


def test_the_embedded_store_refuses_to_export_a_block_rotted_on_disk(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    root = store.add_bytes(CONTENT, chunker="size-100000").cid
    leaf = decode_node(store.get_block(root)).links[1].cid
    [block_file] = [p for p in (tmp_path / "repo").rglob("*.data") if p.read_bytes() and leaf.matches(p.read_bytes())]
    block_file.write_bytes(b"bit rot")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(CorruptBlockError):
        store.export_car(root, out / "rotten.car")
    assert _leftovers(out) == []
    with pytest.raises(ContentNotFoundError):  # the rotten block was moved aside, never served again
        store.cat(root)
    store.add_bytes(CONTENT, chunker="size-100000")  # re-adding the content heals the store
    assert store.cat(root) == CONTENT


def test_an_input_cid_whose_content_is_tampered_is_not_recorded_or_pinned(tmp_path: Path, kubo: KuboEmulator) -> None:
    client, root, _ = _stored_with_a_tampered_leaf(kubo)
    client.unpin(root)
    metadata = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    metadata.open_store()
    node = IPFSStoreNode("inputs", metadata, store=client)
    with pytest.raises(ArtifactNotFoundError, match="does not hash"):
        node.add_cid(str(root))
    assert node.list_artifacts() == []
    assert root not in client.pins()


@pytest.mark.parametrize("form", ["bytes", "file"])
def test_a_daemon_ignoring_the_import_options_gets_nothing_recorded(tmp_path: Path, form: str) -> None:
    kubo = FlagIgnoringKubo(tmp_path / "kubo-repo")
    kubo.start()
    try:
        metadata = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
        source = FilesystemStoreNode("incoming", tmp_path / "incoming", metadata, create=True)
        target = IPFSStoreNode("published", metadata, store=KuboClient(kubo.url, retries=0),
                               import_options={"cid_version": 1})
        payload = (tmp_path / "payload.bin") if form == "file" else CONTENT
        (tmp_path / "payload.bin").write_bytes(CONTENT)
        (tmp_path / "incoming").mkdir()
        (tmp_path / "incoming" / "trigger.txt").write_bytes(b"go")
        with Pipeline([metadata, source, target, SaveOnce("save", source, target, payload)]) as pipeline:
            assert pipeline.wait_for_runs(1, WAIT)
        [run] = metadata.runs.get_runs()
        assert run["status"] == RunStatus.FAILED and ArtifactWriteError.__name__ in run["error"]
        assert compute_cid(CONTENT, cid_version=1) in run["error"]  # the message names the expected CID
        assert target.list_artifacts() == []
    finally:
        kubo.stop()


def _storacha_client(storacha: StorachaEmulator, **extra: object) -> StorachaClient:
    return StorachaClient(SPACE, auth_secret=SECRET, authorization=AUTH, bridge_url=storacha.url, retries=0,
                          backoff=0.01, timeout=5.0, **extra)  # type: ignore[arg-type]


def test_an_oversized_car_is_refused_before_anything_is_sent(tmp_path: Path, storacha: StorachaEmulator) -> None:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    root = store.add_bytes(CONTENT, cid_version=1).cid
    with pytest.raises(StorachaSizeLimitError, match="shard limit"):
        _storacha_client(storacha, max_car_size=1024).upload_content(store, root)
    assert storacha.allocations == {} and storacha.puts == 0 and storacha.uploads == {}
    storacha.max_size = 1024  # the service's own limit: refused at store/add, nothing stored or registered
    with pytest.raises(StorachaSizeLimitError, match="StoreItemSizeExceeded"):
        _storacha_client(storacha).upload_content(store, root)
    assert storacha.puts == 0 and storacha.uploads == {} and storacha.shards == {}


def test_a_tampered_source_is_never_uploaded(tmp_path: Path, kubo: KuboEmulator, storacha: StorachaEmulator) -> None:
    client, root, _ = _stored_with_a_tampered_leaf(kubo)
    with pytest.raises(CorruptBlockError):
        _storacha_client(storacha).upload_content(client, root)
    assert storacha.allocations == {} and storacha.puts == 0 and storacha.uploads == {}


def test_an_oversized_artifact_is_kept_locally_parked_and_uploaded_once_after_the_fix(
    tmp_path: Path, storacha: StorachaEmulator
) -> None:
    storacha.max_size = 10_000
    payload = os.urandom(60_000)

    def pipeline() -> tuple[Pipeline, Web3StorageNode]:
        metadata = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
        source = FilesystemStoreNode("incoming", tmp_path / "incoming", metadata, create=True)
        target = Web3StorageNode("web3", metadata, client=_storacha_client(storacha),
                                 store=EmbeddedBlockstore(tmp_path / "local-ipfs", fsync=False),
                                 backoff=Backoff(base=0.05, factor=2.0, cap=0.2))
        return Pipeline([metadata, source, target, SaveOnce("save", source, target, payload)]), target

    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "trigger.txt").write_bytes(b"go")
    first, target = pipeline()
    with first:
        assert first.wait_for_runs(1, WAIT)
        assert target.flush(WAIT)
        [status] = target.uploads()
        assert status.status == "failed" and "StorachaSizeLimitError" in (status.last_error or "")
        assert status.root == compute_cid(payload)
    assert storacha.puts == 0 and storacha.uploads == {}
    assert EmbeddedBlockstore(tmp_path / "local-ipfs", fsync=False).cat(compute_cid(payload)) == payload

    storacha.max_size = 4 * 1024**3
    second, target = pipeline()
    with second:
        assert target.retry_failed() == 1
        assert target.flush(WAIT)
        assert [s.status for s in target.uploads()] == ["confirmed"]
    assert set(storacha.uploads) == {compute_cid(payload)} and storacha.puts == 1
