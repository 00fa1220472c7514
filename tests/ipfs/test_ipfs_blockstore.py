from __future__ import annotations

import base64
import hashlib
import io
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from anacostia_blockchain.errors import ContentNotFoundError, CorruptBlockError, NotAFileError, StorageError
from anacostia_blockchain.ipfs import (
    CID,
    ContentStore,
    EmbeddedBlockstore,
    ImportOptions,
    compute_cid,
    open_content_store,
    read_car,
)
from anacostia_blockchain.ipfs.blockstore import block_key


def _data(size: int) -> bytes:
    return os.urandom(size)


def test_add_cat_has_and_kubo_cids(blockstore: EmbeddedBlockstore) -> None:
    result = blockstore.add_bytes(b"hello world\n")
    assert str(result.cid) == "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
    assert (result.size, result.cumulative_size) == (12, 20)
    assert blockstore.cat(result.cid) == b"hello world\n"
    assert blockstore.has(result.cid) and blockstore.has(str(result.cid.to_v1()))
    assert not blockstore.has(CID.from_data(b"absent"))
    assert isinstance(blockstore, ContentStore)


@pytest.mark.parametrize("flags", [{}, {"cid_version": 1}, {"profile": "unixfs-v1-2025"}, {"chunker": "size-1000"}])
def test_large_content_round_trips_streaming(blockstore: EmbeddedBlockstore, flags: dict) -> None:
    data = _data(3 * 1024 * 1024 + 123)
    result = blockstore.add_bytes(data, **flags)
    assert str(result.cid) == compute_cid(data, **flags)
    pieces = list(blockstore.cat_stream(result.cid))
    chunk = ImportOptions.resolve(**flags).chunk_size
    assert max(len(p) for p in pieces) <= chunk
    assert b"".join(pieces) == data


def test_add_path_and_resolve_inside_directories(blockstore: EmbeddedBlockstore, tmp_path: Path) -> None:
    root = tmp_path / "d"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "x.txt").write_bytes(b"x content")
    (root / "a.txt").write_bytes(b"a content")
    (root / ".hidden").write_bytes(b"secret")
    entries = blockstore.add_path_all(root, recursive=True)
    assert [e.name for e in entries] == ["d/a.txt", "d/sub/x.txt", "d/sub", "d"]
    top = entries[-1].cid
    assert blockstore.cat(f"{top}/sub/x.txt") == b"x content"
    assert blockstore.cat(f"/ipfs/{top}/a.txt") == b"a content"
    with pytest.raises(ContentNotFoundError):
        blockstore.cat(f"{top}/.hidden")
    with pytest.raises(NotAFileError, match="directory"):
        blockstore.cat(top)
    with_hidden = blockstore.add_path(root, hidden=True)
    assert blockstore.cat(f"{with_hidden.cid}/.hidden") == b"secret"
    assert blockstore.add_path(root / "a.txt").cid == entries[0].cid
    with pytest.raises(StorageError, match="recursive"):
        blockstore.add_path_all(root)
    with pytest.raises(StorageError, match="no such"):
        blockstore.add_path(tmp_path / "missing")


def test_every_read_is_verified(blockstore: EmbeddedBlockstore) -> None:
    data = _data(600_000)
    result = blockstore.add_bytes(data)
    leaves = [p for p in blockstore.iter_blocks() if p.stem != block_key(result.cid)]
    victim = leaves[1]
    victim.write_bytes(victim.read_bytes()[:-1] + b"\x00")
    with pytest.raises(CorruptBlockError, match=str(victim.with_suffix(".corrupt"))):
        blockstore.cat(result.cid)
    with pytest.raises(ContentNotFoundError):  # the bad block was moved aside, never served
        blockstore.export_car(result.cid, io.BytesIO())
    assert blockstore.add_bytes(data).cid == result.cid  # adding the content again heals the store
    assert blockstore.cat(result.cid) == data


def test_missing_block_is_content_not_found(blockstore: EmbeddedBlockstore) -> None:
    result = blockstore.add_bytes(_data(600_000))
    for path in blockstore.iter_blocks():
        if path.stem != block_key(result.cid):
            path.unlink()
            break
    with pytest.raises(ContentNotFoundError):
        blockstore.cat(result.cid)
    with pytest.raises(ContentNotFoundError):
        blockstore.pin(result.cid)
    assert not blockstore.has_dag(result.cid)


def test_put_block_refuses_wrong_bytes(blockstore: EmbeddedBlockstore) -> None:
    cid = CID.from_data(b"right")
    with pytest.raises(CorruptBlockError):
        blockstore.put_block(cid, b"wrong")
    assert not blockstore.has(cid)
    blockstore.put_block(cid, b"right")
    assert blockstore.get_block(cid) == b"right"


def test_pins_persist_and_gc(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=True)
    kept = store.add_bytes(_data(500_000))
    dropped = store.add_bytes(_data(500_000), pin=False)
    other = store.add_bytes(b"pinned then unpinned")
    assert store.pins() == {kept.cid, other.cid}
    store.unpin(other.cid)
    with pytest.raises(ContentNotFoundError, match="not pinned"):
        store.unpin(other.cid)
    reopened = EmbeddedBlockstore(tmp_path / "repo")
    assert reopened.pins() == {kept.cid}
    removed = reopened.gc()
    assert removed == 1 + 3  # `other` (one leaf); `dropped` (root + 2 leaves); nothing of `kept`
    assert reopened.cat(kept.cid) and not reopened.has(dropped.cid) and not reopened.has(other.cid)
    assert not list((tmp_path / "repo").rglob(".tmp-*"))


def test_car_export_import_between_stores(blockstore: EmbeddedBlockstore, tmp_path: Path) -> None:
    data = bytes(300_000) + _data(700_000) + bytes(300_000)  # repeated zero chunks de-duplicate
    result = blockstore.add_bytes(data)
    car = tmp_path / "x.car"
    written = blockstore.export_car(result.cid, car)
    assert written == car.stat().st_size
    cids = [c for c, _ in read_car(car)]
    assert cids[0] == result.cid and len(cids) == len(set(cids))
    other = EmbeddedBlockstore(tmp_path / "other", fsync=False)
    assert other.import_car(car) == [result.cid]
    assert other.pins() == {result.cid} and other.cat(result.cid) == data


def test_import_car_with_corrupt_block_pins_nothing(blockstore: EmbeddedBlockstore, tmp_path: Path) -> None:
    result = blockstore.add_bytes(_data(600_000))
    raw = bytearray()
    out = io.BytesIO()
    blockstore.export_car(result.cid, out)
    raw = bytearray(out.getvalue())
    raw[-10] ^= 0xFF
    other = EmbeddedBlockstore(tmp_path / "other", fsync=False)
    with pytest.raises(CorruptBlockError):
        other.import_car(bytes(raw))
    assert other.pins() == set()


def test_concurrent_adds_of_same_content(blockstore: EmbeddedBlockstore) -> None:
    data = _data(2_000_000)
    results = []
    threads = [threading.Thread(target=lambda: results.append(blockstore.add_bytes(data))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.cid for r in results}) == 1
    assert blockstore.cat(results[0].cid) == data
    assert blockstore.pins() == {results[0].cid}


def test_open_content_store_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANACOSTIA_IPFS_PATH", str(tmp_path / "env-repo"))
    default = open_content_store("embedded")
    assert isinstance(default, EmbeddedBlockstore) and default.path == tmp_path / "env-repo"
    explicit = open_content_store(f"embedded:{tmp_path / 'x'}")
    assert isinstance(explicit, EmbeddedBlockstore) and explicit.path == tmp_path / "x"
    kubo = open_content_store("http://127.0.0.1:5001")
    assert type(kubo).__name__ == "KuboClient"


def test_killed_add_leaves_a_consistent_store(tmp_path: Path) -> None:
    """SIGKILL in the middle of an add: no pin, no torn block, and the same add afterwards completes."""
    repo = tmp_path / "repo"
    child = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from anacostia_blockchain.ipfs import EmbeddedBlockstore; "
         f"EmbeddedBlockstore({str(repo)!r}).add_stream(sys.stdin.buffer)"],
        stdin=subprocess.PIPE,
    )
    data = _data(3 * 1024 * 1024)
    assert child.stdin is not None
    child.stdin.write(data[: 2 * 1024 * 1024])
    child.stdin.flush()
    deadline = time.monotonic() + 20
    while len(list(repo.glob("blocks/*/*.data"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    child.kill()
    child.wait(timeout=10)
    store = EmbeddedBlockstore(repo)
    written = list(store.iter_blocks())
    assert len(written) >= 4 and store.pins() == set()
    for path in written:
        digest = base64.b32decode(path.stem + "=" * (-len(path.stem) % 8))[2:]
        assert hashlib.sha256(path.read_bytes()).digest() == digest
    result = store.add_bytes(data)
    assert store.cat(result.cid) == data and store.pins() == {result.cid}
