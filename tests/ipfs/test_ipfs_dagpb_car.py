from __future__ import annotations

import io
from pathlib import Path

import pytest

from anacostia_blockchain.errors import CarFormatError, CorruptBlockError
from anacostia_blockchain.ipfs import CID, CarWriter, car_cid, import_bytes, read_car, write_car
from anacostia_blockchain.ipfs.car import decode_header, encode_header
from anacostia_blockchain.ipfs.dagpb import (
    FILE,
    PBLink,
    PBNode,
    UnixFSData,
    decode_node,
    decode_unixfs,
    encode_node,
    encode_unixfs,
)
from anacostia_blockchain.ipfs.multiformats import RAW

HELLO = CID.parse("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o")


def test_links_are_written_before_data_and_round_trip() -> None:
    meta = UnixFSData(FILE, filesize=24, blocksizes=[12, 12])
    node = PBNode([PBLink(HELLO, "", 20), PBLink(HELLO, "b", 20)], encode_unixfs(meta))
    block = encode_node(node)
    assert block[0] == 0x12  # field 2 (Links) first
    assert block.index(b"\x0a\x08\x08\x02") > block.rindex(bytes(HELLO))
    assert decode_node(block) == node
    assert decode_unixfs(node.data) == meta
    assert b"\x12\x00" in block  # empty Name is present, as Kubo writes it


@pytest.mark.parametrize("block", [
    b"\x0a\x05ab",                       # truncated Data
    b"\x0a\x00\x0a\x00",                 # two Data fields
    b"\x0a\x00\x12\x00",                 # Links after Data
    b"\x1a\x00",                         # unknown field
    b"\x12\x02\x12\x00",                 # link without Hash
    b"\x12\x03\x0a\x01\x00",             # link with an invalid CID
])
def test_malformed_dag_pb_is_rejected(block: bytes) -> None:
    with pytest.raises(CorruptBlockError):
        decode_node(block)


def test_unixfs_without_type_is_rejected() -> None:
    with pytest.raises(CorruptBlockError):
        decode_unixfs(b"\x18\x01")


def test_car_header_bytes_are_canonical_dag_cbor() -> None:
    header = encode_header([HELLO])
    assert header == (b"\xa2\x65roots\x81\xd8\x2a\x58\x23\x00" + bytes(HELLO) + b"\x67version\x01")
    assert decode_header(header) == [HELLO]


def _blocks() -> tuple[CID, list[tuple[CID, bytes]]]:
    blocks: list[tuple[CID, bytes]] = []

    class Sink:
        def put_block(self, cid: CID, data: bytes | memoryview) -> None:
            blocks.append((cid, bytes(data)))

    result = import_bytes(bytes(range(256)) * 4000, Sink(), chunker="size-100000", cid_version=1)
    return result.cid, blocks


def test_car_round_trip() -> None:
    root, blocks = _blocks()
    out = io.BytesIO()
    size = write_car(out, [root], blocks)
    assert size == len(out.getvalue())
    reader = read_car(out.getvalue())
    assert reader.roots == [root]
    assert list(reader) == blocks
    assert car_cid(out.getvalue()).codec == 0x0202
    assert car_cid(io.BytesIO(out.getvalue())) == car_cid(out.getvalue())


def test_car_reader_reports_first_bad_block(tmp_path: Path) -> None:
    root, blocks = _blocks()
    bad = list(blocks)
    bad[2] = (bad[2][0], bad[2][1][:-1] + b"!")
    bad[4] = (bad[4][0], b"also wrong")
    path = tmp_path / "bad.car"
    write_car(path, [root], bad)
    seen = []
    with pytest.raises(CorruptBlockError) as info:
        for cid, _ in read_car(path):
            seen.append(cid)
    assert info.value.block_index == 2 and info.value.cid == bad[2][0]
    assert str(bad[2][0]) in str(info.value) and "block 2" in str(info.value)
    assert seen == [c for c, _ in blocks[:2]]
    assert len(list(read_car(path, verify=False))) == len(blocks)


def test_car_structural_errors() -> None:
    root, blocks = _blocks()
    out = io.BytesIO()
    writer = CarWriter(out, [root])
    writer.put(*blocks[0])
    data = out.getvalue()
    with pytest.raises(CarFormatError, match="truncated"):
        list(read_car(data[:-5]))
    with pytest.raises(CarFormatError):
        read_car(b"")
    with pytest.raises(CarFormatError, match="version"):
        header = encode_header([root]).replace(b"version\x01", b"version\x02")
        read_car(bytes([len(header)]) + header)
    with pytest.raises(CarFormatError, match="invalid CID"):
        header = encode_header([root])
        list(read_car(bytes([len(header)]) + header + b"\x03\x05\x01\x02"))
    raw = CID.from_data(b"x", codec=RAW)
    assert list(read_car(_one(raw, b"x"))) == [(raw, b"x")]


def _one(cid: CID, data: bytes) -> bytes:
    out = io.BytesIO()
    write_car(out, [cid], [(cid, data)])
    return out.getvalue()
