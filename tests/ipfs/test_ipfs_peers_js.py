"""Against the JS ecosystem's own software: ipfs-car (CLI), @ipld/car, Helia + @helia/unixfs + @helia/car, cardex.

- ipfs-car packs a folder of more than 1,000 entries as a HAMT-sharded directory; we read its CAR and resolve paths
  through the shard, and it lists and unpacks the CARs we write (our shards included).
- Helia imports the same folder to the same CIDs as our importer under matching options (both IPIP-499 profiles),
  and reads our CARv1 and CARv2 exports.
- @ipld/car reads our CARv1 and CARv2; cardex (an independent CARv2 index writer) builds byte for byte the
  ``MultihashIndexSorted`` index our CARv2 carries, and inspects ours.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from pathlib import Path

import pytest
from ipfs_peer_runners import node_peer, npm_bin

from anacostia_blockchain.ipfs import EmbeddedBlockstore, import_path
from anacostia_blockchain.ipfs.car import read_car
from anacostia_blockchain.ipfs.car_index import car_get_block, parse_car_index, read_car_index, verify_car_index
from anacostia_blockchain.ipfs.dagpb import HAMT_SHARD, decode_node, decode_unixfs

MIB = 1024 * 1024


def _is_shard(store: EmbeddedBlockstore, path: str) -> bool:
    cid = store.resolve(path)
    return decode_unixfs(decode_node(store.get_block(cid)).data or b"").type == HAMT_SHARD


def _folder(root: Path, count: int, name_length: int) -> Path:
    rng = random.Random(count)
    (root / "sub").mkdir(parents=True)
    for i in range(count):
        (root / f"{i:0{name_length}d}.txt").write_bytes(f"entry {i}\n".encode())
    (root / "sub" / "big.bin").write_bytes(rng.randbytes(MIB + 17) + bytes(2 * MIB))
    (root / "sub" / "empty.bin").write_bytes(b"")
    return root


def _run(*args: object, cwd: Path | None = None) -> str:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=180, cwd=cwd)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("wide") / "dataset", 1100, 6)


def test_ipfs_car_sharded_folder_reads_and_resolves_here(wide: Path, tmp_path: Path) -> None:
    car = tmp_path / "packed.car"
    _run(npm_bin("ipfs-car"), "pack", wide, "--output", car)
    store = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    (root,) = store.import_car(car)  # a single folder packs as the root itself
    assert _is_shard(store, str(root))  # ipfs-car shards directories above 1,000 entries
    assert store.cat(f"{root}/000777.txt") == b"entry 777\n"
    assert store.cat(f"/ipfs/{root}/sub/big.bin") == (wide / "sub" / "big.bin").read_bytes()
    assert len(store.ls(str(root))) == 1101
    out = store.get(str(root), tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in wide.iterdir())


def test_our_cars_list_and_unpack_in_ipfs_car(wide: Path, tmp_path: Path) -> None:
    version = 1  # our CARv2 is read by Helia and @ipld/car below
    store = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    root = store.add_path(wide, recursive=True, cid_version=1)
    assert not _is_shard(store, str(root.cid))  # 1,100 short names stay below 256 KiB: a basic directory
    car = tmp_path / "ours.car"
    store.export_car(root.cid, car, version=version)
    listed = _run(npm_bin("ipfs-car"), "ls", car).split()
    assert "000001.txt" in " ".join(listed) and any(line.endswith("sub/big.bin") for line in listed)
    _run(npm_bin("ipfs-car"), "unpack", car, "--output", tmp_path / "unpacked")
    unpacked = tmp_path / "unpacked"
    assert (unpacked / "sub" / "big.bin").read_bytes() == (wide / "sub" / "big.bin").read_bytes()
    assert len(list(unpacked.iterdir())) == 1101


HELIA_PROFILES = {
    # our flags -> ipfs-unixfs-importer options (what @helia/unixfs passes through)
    "unixfs-v0-2015": ({"profile": "unixfs-v0-2015"},
                       {"cidVersion": 0, "rawLeaves": False, "chunkSize": 262144, "maxLinks": 174,
                        "shardSplitThresholdBytes": 262144, "shardSplitStrategy": "links-bytes",
                        "shardFanoutBits": 8}),
    "unixfs-v1-2025": ({"profile": "unixfs-v1-2025"},
                       {"cidVersion": 1, "rawLeaves": True, "chunkSize": MIB, "maxLinks": 1024,
                        "shardSplitThresholdBytes": 262144, "shardSplitStrategy": "block-bytes",
                        "shardFanoutBits": 8}),
    "small-shards": ({"cid_version": 1, "hamt_threshold": 2000, "hamt_fanout": 16},
                     {"cidVersion": 1, "rawLeaves": True, "chunkSize": 262144, "maxLinks": 174,
                      "shardSplitThresholdBytes": 2000, "shardSplitStrategy": "links-bytes", "shardFanoutBits": 4}),
}


@pytest.fixture(scope="module")
def helia_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # 960 entries of 250-byte names: above 256 KiB by either estimate, in both profiles
    return _folder(tmp_path_factory.mktemp("helia") / "set", 960, 250)


@pytest.fixture(scope="module")
def small_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder(tmp_path_factory.mktemp("small") / "set", 200, 12)


def _entries(folder: Path) -> list[dict[str, str]]:
    out = []
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder.parent))
        out.append({"path": rel} if path.is_dir() else {"path": rel, "file": str(path)})
    return out


def test_helia_imports_to_our_cids(helia_folder: Path, small_folder: Path, tmp_path: Path) -> None:
    folders = {name: small_folder if name == "small-shards" else helia_folder for name in HELIA_PROFILES}
    imports = [{"entries": _entries(folders[name]), "options": options}
               for name, (_, options) in HELIA_PROFILES.items()]
    answers = node_peer({"op": "helia-add", "imports": imports})["imports"]
    for (name, (flags, _)), theirs in zip(HELIA_PROFILES.items(), answers, strict=True):
        folder = folders[name]
        ours = {r.name: str(r.cid) for r in import_path(folder, recursive=True, **flags)}
        assert theirs["set"] == ours["set"], name
        files = sum(1 for p in folder.rglob("*") if p.is_file())
        assert theirs.keys() <= ours.keys() and len(theirs) >= files  # every file (sharded dirs' subdirs unreported)
        assert {k: ours[k] for k in theirs} == theirs, name
        store = EmbeddedBlockstore(tmp_path / name, fsync=False)
        store.add_path(folder, recursive=True, **flags)
        assert _is_shard(store, ours["set"]), name


def test_helia_reads_our_cars(small_folder: Path, tmp_path: Path) -> None:
    # CARv2 here; our CARv1 is read by ipfs-car above and @ipld/car below
    store = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    root = store.add_path(small_folder, recursive=True, profile="unixfs-v1-2025", hamt_threshold=1000)
    assert _is_shard(store, str(root.cid))
    car = tmp_path / "ours.car"
    store.export_car(root.cid, car, version=2)
    big = f"{root.cid}/sub/big.bin"
    entry = f"{root.cid}/{7:012d}.txt"
    answer = node_peer({"op": "helia-read", "car": str(car), "paths": [big, entry], "ls": str(root.cid)})
    data = (small_folder / "sub" / "big.bin").read_bytes()
    assert answer["files"][big] == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    assert answer["files"][entry]["sha256"] == hashlib.sha256(b"entry 7\n").hexdigest()
    assert sorted(answer["ls"]) == sorted(p.name for p in small_folder.iterdir())


def test_ipld_car_reads_our_v1_and_v2(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    root = store.add_bytes(os.urandom(MIB + 5), cid_version=1)
    for version in (1, 2):
        car = tmp_path / f"v{version}.car"
        store.export_car(root.cid, car, version=version)
        answer = node_peer({"op": "ipld-car", "car": str(car)})
        blocks = sum(1 for _ in store.iter_car(root.cid))
        assert answer == {"version": version, "roots": [str(root.cid)], "blocks": blocks}
        with read_car(car) as reader:
            assert reader.version == version and len(list(reader)) == blocks


def test_cardex_builds_the_index_our_carv2_carries(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "store", fsync=False)
    root = store.add_bytes(os.urandom(2 * MIB + 3), chunker="size-65536")
    v1, v2 = tmp_path / "v1.car", tmp_path / "v2.car"
    store.export_car(root.cid, v1)
    store.export_car(root.cid, v2, version=2)
    built = tmp_path / "v1.car.idx"
    _run(npm_bin("cardex"), "build", v1, "--output", built)
    with v2.open("rb") as handle:
        index_offset = read_car(v2).v2_header.index_offset  # type: ignore[union-attr]
        handle.seek(index_offset)
        ours = handle.read()
    assert built.read_bytes() == ours  # same codec, order and payload offsets
    assert len(parse_car_index(built.read_bytes())) == verify_car_index(v2) == len(read_car_index(v2) or [])
    (tmp_path / "ours.idx").write_bytes(ours)
    lines = _run(npm_bin("cardex"), "inspect", tmp_path / "ours.idx").split("\n")  # "<cid> @ <offset>" lines
    inspected = {int(line.rpartition(" @ ")[2]) for line in lines if " @ " in line}
    assert inspected == {offset for _, offset in (read_car_index(v2) or parse_car_index(b"")).items()}
    # cardex's IndexSorted (0x0400: bare digests) in place of ours: read, checked and used for random access
    sorted_index = tmp_path / "sorted.idx"
    _run(npm_bin("cardex"), "build", v1, "--format", "IndexSorted", "--output", sorted_index)
    swapped = tmp_path / "swapped.car"
    swapped.write_bytes(v2.read_bytes()[:index_offset] + sorted_index.read_bytes())
    assert read_car_index(swapped).codec == 0x0400  # type: ignore[union-attr]
    ours_blocks = dict(read_car(v1))
    assert verify_car_index(swapped) == len(ours_blocks)
    some = next(iter(ours_blocks))
    assert car_get_block(swapped, some) == ours_blocks[some]
