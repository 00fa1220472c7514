"""HAMT shards and CARv2 on our side: refusals of damaged input, the decision rules, the CLI's CARv2 export.

That our shards and CARv2s are the ecosystem's is proven against the real peers (``test_ipfs_peers_*.py``); these
tests pin down what happens with input no peer would write.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from anacostia_blockchain.cli.main import main
from anacostia_blockchain.errors import CarFormatError, ConfigurationError, ContentNotFoundError, CorruptBlockError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, ImportOptions, build_directory, import_bytes
from anacostia_blockchain.ipfs.car import CARV2_PRAGMA, read_car, write_car
from anacostia_blockchain.ipfs.car_index import car_get_block, read_car_index, verify_car_index
from anacostia_blockchain.ipfs.dagpb import HAMT_SHARD, PBLink, PBNode, UnixFSData, encode_node, encode_unixfs
from anacostia_blockchain.ipfs.hamt import MURMUR3_X64_64, should_shard


class _Blocks(dict):
    def put_block(self, cid: CID, data: bytes) -> None:
        self[cid] = bytes(data)


def _entries(count: int, blocks: _Blocks) -> dict[str, object]:
    return {f"entry-{i:04d}": import_bytes(f"{i}".encode(), blocks) for i in range(count)}


def test_shard_decision_follows_each_rule() -> None:
    blocks = _Blocks()
    entries = sorted((n.encode(), r) for n, r in _entries(10, blocks).items())  # 10 x (10 + 34) = 440 bytes
    assert not should_shard(entries, ImportOptions(hamt_threshold=440))
    assert should_shard(entries, ImportOptions(hamt_threshold=440, shard_at_threshold=True))
    assert should_shard(entries, ImportOptions(hamt_threshold=439))
    assert should_shard(entries, ImportOptions(max_directory_links=9))
    assert not should_shard(entries, ImportOptions(max_directory_links=9, hamt_threshold=0))
    assert not should_shard(entries, ImportOptions(hamt_estimation="disabled", hamt_threshold=1))
    with pytest.raises(ConfigurationError, match="power of two"):
        ImportOptions(hamt_fanout=100)
    with pytest.raises(ConfigurationError, match="hamt_estimation"):
        ImportOptions(hamt_estimation="bytes")


def test_block_estimation_is_the_basic_node_size() -> None:
    blocks = _Blocks()
    entries = _entries(10, blocks)
    basic = build_directory(entries, blocks)
    size = len(blocks[basic.cid])
    assert build_directory(entries, hamt_estimation="block", hamt_threshold=size).cid == basic.cid
    assert build_directory(entries, hamt_estimation="block", hamt_threshold=size - 1).cid != basic.cid


def test_shard_lookup_and_listing(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "s", fsync=False)
    entries = {name: store.add_bytes(name.encode(), pin=False) for name in (f"n{i}" for i in range(300))}
    root = build_directory(entries, store, hamt_threshold=10, hamt_fanout=8)
    assert store.cat(f"{root.cid}/n123") == b"n123"
    assert sorted(name for name, _, _ in store.ls(root.cid)) == sorted(entries)
    with pytest.raises(ContentNotFoundError, match="no link named 'n300'"):
        store.resolve(f"{root.cid}/n300")


def _shard(links: list[PBLink], **meta: int) -> tuple[CID, bytes]:
    data = UnixFSData(HAMT_SHARD, data=b"\x01", hash_type=meta.get("hash_type", MURMUR3_X64_64),
                      fanout=meta.get("fanout", 256))
    block = encode_node(PBNode(links, encode_unixfs(data)))
    return CID.from_data(block, version=0), block


@pytest.mark.parametrize(("links", "meta", "message"), [
    ([], {"hash_type": 0x11}, "hash function 0x11"),
    ([], {"fanout": 100}, "fanout 100"),
    (["ZZname"], {}, "without a hex slot prefix"),
    (["a"], {}, "without a 2-digit slot prefix"),
])
def test_damaged_shards_are_refused(tmp_path: Path, links: list[str], meta: dict, message: str) -> None:
    store = EmbeddedBlockstore(tmp_path / "s", fsync=False)
    leaf = store.add_bytes(b"leaf", pin=False)
    cid, block = _shard([PBLink(leaf.cid, name, leaf.cumulative_size) for name in links], **meta)
    store.put_block(cid, block)
    with pytest.raises(CorruptBlockError, match=message):
        store.ls(cid)


@pytest.fixture
def carv2(tmp_path: Path) -> tuple[Path, CID, _Blocks]:
    blocks = _Blocks()
    root = import_bytes(bytes(range(256)) * 2000, blocks, chunker="size-65536").cid
    path = tmp_path / "x.car"
    write_car(path, [root], list(blocks.items()), version=2)
    return path, root, blocks


def test_carv2_reads_verifies_and_looks_up(carv2: tuple[Path, CID, _Blocks]) -> None:
    path, root, blocks = carv2
    with read_car(path) as reader:
        assert reader.version == 2 and reader.roots == [root] and not reader.v2_header.fully_indexed
        assert dict(reader) == dict(blocks)
    assert verify_car_index(path) == len(blocks)
    some = next(iter(blocks))
    assert car_get_block(path, some) == blocks[some]
    with pytest.raises(ContentNotFoundError):
        car_get_block(path, CID.from_data(b"absent"))


def test_carv2_damage_is_refused(carv2: tuple[Path, CID, _Blocks], tmp_path: Path) -> None:
    path, _, _ = carv2
    raw = bytearray(path.read_bytes())
    data_offset, data_size, index_offset = struct.unpack_from("<QQQ", raw, len(CARV2_PRAGMA) + 16)
    moved = bytearray(raw)
    struct.pack_into("<Q", moved, len(raw) - 8, 1)  # the last index entry points into the middle of a section
    bad = tmp_path / "bad-index.car"
    bad.write_bytes(bytes(moved))
    with pytest.raises(CarFormatError):
        verify_car_index(bad)
    short = tmp_path / "short.car"
    short.write_bytes(bytes(raw[: data_offset + data_size // 2]))
    with pytest.raises(CarFormatError, match="truncated"):
        list(read_car(short))
    inside = bytearray(raw)
    struct.pack_into("<Q", inside, len(CARV2_PRAGMA) + 16, 20)  # data offset inside the header
    (tmp_path / "inside.car").write_bytes(bytes(inside))
    with pytest.raises(CarFormatError, match="inside the CARv2 header"):
        read_car(tmp_path / "inside.car")
    codec = bytearray(raw)
    codec[index_offset : index_offset + 2] = b"\x82\x08"  # index codec 0x0402: not one the spec defines
    (tmp_path / "codec.car").write_bytes(bytes(codec))
    with pytest.raises(CarFormatError, match="unsupported CARv2 index codec 0x402"):
        read_car_index(tmp_path / "codec.car")
    with pytest.raises(ConfigurationError, match="seekable"):
        write_car(_Unseekable(), [], [], version=2)


class _Unseekable:
    def write(self, data: bytes) -> int:
        return len(data)

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return 0


def test_cli_exports_carv2(capsys, tmp_path: Path) -> None:
    source = tmp_path / "f.bin"
    source.write_bytes(b"cli carv2\n" * 1000)
    repo = tmp_path / "repo"
    assert main(["ipfs", "add", "--repo", str(repo), "-Q", str(source)]) == 0
    cid = capsys.readouterr().out.strip()
    assert main(["ipfs", "car", "export", "--repo", str(repo), "--car-version", "2", cid, str(tmp_path / "o.car")]) == 0
    assert verify_car_index(tmp_path / "o.car") >= 1
    assert main(["ipfs", "car", "import", "--repo", str(tmp_path / "other"), str(tmp_path / "o.car")]) == 0
    assert capsys.readouterr().out == f"Pinned root\t{cid}\tsuccess\n"
