"""Disk full while saving an artifact: a clear ``ArtifactWriteError``, nothing recorded, nothing half-written left.

Also: the volume holding the CARs queued for Storacha fills up (the artifact itself was stored fine).

The disk is really full: each test mounts a small tmpfs (``mount -t tmpfs -o size=...``; the suite runs as root
here) and unmounts it afterwards. The metadata database lives on the normal disk, the artifacts on the tmpfs, which
is what happens when an artifact volume fills up under a running pipeline.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.engine import executing
from anacostia_blockchain.errors import ArtifactWriteError, StorageError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, StorachaClient, compute_cid
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.web3storage import Web3StorageNode

DISK = 1024 * 1024  # the small volume: 1 MiB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0755", "tmpfs", str(mountpoint)],
                   check=True, capture_output=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True, capture_output=True)


@pytest.fixture
def metadata(tmp_path: Path) -> Iterator[SqliteMetadataStore]:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'meta.db'}")
    store.open_store()
    try:
        yield store
    finally:
        store.close_store()


def used_bytes(path: Path) -> int:
    stat = os.statvfs(path)
    return (stat.f_blocks - stat.f_bfree) * stat.f_frsize


def every_file(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# --- FilesystemStoreNode ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["bytes", "writer", "stream"])
def test_filesystem_store_disk_full_records_nothing_and_leaves_no_temp_file(
    form: str, small_disk: Path, metadata: SqliteMetadataStore
) -> None:
    node = FilesystemStoreNode("models", small_disk / "models", metadata, monitoring=False)
    node.prepare()
    run = metadata.runs.begin_run("manual", [])
    with executing(run, "train"):
        kept = node.save_artifact("small.bin", b"fits" * 1000)
    baseline = used_bytes(small_disk)
    payload = os.urandom(2 * DISK)
    content: object = {
        "bytes": payload,
        "writer": lambda handle: [handle.write(payload[i : i + 65536]) for i in range(0, len(payload), 65536)],
        "stream": __import__("io").BytesIO(payload),
    }[form]

    with executing(run, "train"), pytest.raises(ArtifactWriteError, match="No space left on device") as raised:
        node.save_artifact("too-big.bin", content)  # type: ignore[arg-type]
    assert isinstance(raised.value.__cause__, OSError)
    assert "models" in str(raised.value) and "too-big.bin" in str(raised.value)

    assert [a.location for a in node.list_artifacts()] == ["small.bin"]
    assert [a.id for a in metadata.runs.run_artifacts(run)["produced"]] == [kept.id]
    assert every_file(small_disk) == ["models/small.bin"]  # no partial file, no .anacostia-tmp-* left
    assert used_bytes(small_disk) == baseline  # the space the failed write took is free again
    with executing(run, "train"):  # and the volume is usable at once
        again = node.save_artifact("next.bin", b"x" * 100_000)
    assert (small_disk / "models" / "next.bin").stat().st_size == again.size == 100_000


def test_filesystem_store_overwrite_on_full_disk_keeps_the_previous_version(
    small_disk: Path, metadata: SqliteMetadataStore
) -> None:
    node = FilesystemStoreNode("models", small_disk / "models", metadata, monitoring=False)
    node.prepare()
    run = metadata.runs.begin_run("manual", [])
    first = os.urandom(300_000)
    with executing(run, "train"):
        node.save_artifact("model.bin", first)
        with pytest.raises(ArtifactWriteError):
            node.save_artifact("model.bin", os.urandom(900_000))  # old + new do not both fit
    assert (small_disk / "models" / "model.bin").read_bytes() == first  # atomic: the old version is intact
    [artifact] = node.list_artifacts()
    assert artifact.size == len(first)


# --- IPFSStoreNode on an embedded blockstore -------------------------------------------------------------------------
@pytest.mark.parametrize("form", ["bytes", "name-and-bytes", "path"])
def test_ipfs_store_disk_full_records_nothing_pins_nothing_and_leaves_no_blocks(
    form: str, tmp_path: Path, small_disk: Path, metadata: SqliteMetadataStore
) -> None:
    blocks = EmbeddedBlockstore(small_disk / "ipfs", fsync=True)
    node = IPFSStoreNode("models", metadata, store=blocks, import_options={"cid_version": 1})
    run = metadata.runs.begin_run("manual", [])
    small = os.urandom(50_000)
    with executing(run, "train"):
        kept = node.save_artifact(small, name="small.bin")
    files_before, baseline = every_file(small_disk), used_bytes(small_disk)
    payload = os.urandom(3 * DISK)  # 12 leaves of 256 KiB: the disk fills up part-way through the import
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)

    with executing(run, "train"), pytest.raises(ArtifactWriteError, match="No space left on device") as raised:
        if form == "bytes":
            node.save_artifact(payload, name="big.bin")
        elif form == "name-and-bytes":
            node.save_artifact("big.bin", payload)
        else:
            node.save_artifact(source)
    assert isinstance(raised.value.__cause__, StorageError)

    assert [a.id for a in node.list_artifacts()] == [kept.id]
    assert [a.id for a in metadata.runs.run_artifacts(run)["produced"]] == [kept.id]
    assert blocks.pins() == {CID.parse(kept.cid)}  # type: ignore[arg-type]
    assert every_file(small_disk) == files_before, "the failed import must leave no block or temp file behind"
    assert used_bytes(small_disk) <= baseline + 64 * 1024  # at most the shard directories it created
    assert blocks.cat(kept.cid) == small  # type: ignore[arg-type]
    with executing(run, "train"):  # the store is usable again straight away
        medium = os.urandom(400_000)
        saved = node.save_artifact(medium, name="medium.bin")
    assert saved.cid == compute_cid(medium, cid_version=1) and blocks.cat(saved.cid) == medium  # type: ignore[arg-type]


def test_blockstore_disk_full_keeps_blocks_shared_with_pinned_content(small_disk: Path) -> None:
    """The cleanup removes only what the failed import created and no pin reaches, never a shared block."""
    blocks = EmbeddedBlockstore(small_disk / "ipfs", fsync=False)
    shared = os.urandom(256 * 1024)  # exactly one leaf
    pinned = blocks.add_bytes(shared, cid_version=1).cid
    before = every_file(small_disk)
    with pytest.raises(StorageError, match="No space left on device"):
        blocks.add_bytes(shared + os.urandom(3 * DISK), cid_version=1)  # starts with the pinned leaf
    assert every_file(small_disk) == before
    assert blocks.verify_dag(pinned) == 1 and blocks.cat(pinned) == shared


# --- Web3StorageNode: the CAR for the upload does not fit -----------------------------------------------------------
def test_web3storage_car_volume_full_records_nothing_and_queues_nothing(
    tmp_path: Path, small_disk: Path, metadata: SqliteMetadataStore
) -> None:
    # the bridge is never reached in this test (port 9, nothing listens): only the local side matters here
    client = StorachaClient("did:key:z6MkDiskFullTest", auth_secret="secret", authorization="ucan",
                            bridge_url="http://127.0.0.1:9/bridge", retries=0, timeout=1.0)
    node = Web3StorageNode("web3", metadata, client=client, store=EmbeddedBlockstore(tmp_path / "ipfs", fsync=False),
                           car_dir=small_disk / "cars")
    node.setup()  # opens the upload outbox in the metadata database and starts the uploader
    try:
        run = metadata.runs.begin_run("manual", [])
        with executing(run, "train"):
            kept = node.save_artifact("small.bin", os.urandom(100_000))
            with pytest.raises(ArtifactWriteError, match="No space left on device"):
                node.save_artifact("big.bin", os.urandom(2 * DISK))  # stored locally fine; its CAR does not fit
        assert [a.id for a in node.list_artifacts()] == [kept.id]
        assert [a.id for a in metadata.runs.run_artifacts(run)["produced"]] == [kept.id]
        assert [u.root for u in node.uploads()] == [kept.cid]  # no upload queued for what was not recorded
        assert every_file(small_disk) == [f"cars/{kept.cid}.car"]  # no partial CAR left
    finally:
        node.teardown()
