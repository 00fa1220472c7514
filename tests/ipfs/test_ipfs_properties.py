"""Property tests: encodings round-trip and the importer agrees with itself however the bytes arrive."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from anacostia_blockchain.ipfs import CID, import_bytes, import_stream, read_car, write_car
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

cids = st.builds(lambda data, v1: CID.from_data(data, version=1 if v1 else 0, codec=RAW if v1 else 0x70),
                 st.binary(max_size=64), st.booleans())


@given(cids)
def test_cid_text_and_binary_round_trip(cid: CID) -> None:
    assert CID.parse(str(cid)) == cid
    assert CID.parse(bytes(cid)) == cid


@given(st.lists(st.tuples(cids, st.text(max_size=20), st.integers(0, 2**40)), max_size=8),
       st.one_of(st.none(), st.binary(max_size=100)))
def test_dag_pb_round_trip(links: list[tuple[CID, str, int]], data: bytes | None) -> None:
    node = PBNode([PBLink(c, n, t) for c, n, t in links], data)
    assert decode_node(encode_node(node)) == node


@given(st.lists(st.integers(0, 2**40), max_size=10), st.one_of(st.none(), st.binary(max_size=50)))
def test_unixfs_round_trip(sizes: list[int], data: bytes | None) -> None:
    meta = UnixFSData(FILE, data=data, filesize=sum(sizes), blocksizes=sizes)
    assert decode_unixfs(encode_unixfs(meta)) == meta


class _Trickle(io.RawIOBase):
    """Returns at most ``step`` bytes per read, like a pipe or a socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = min(len(buffer), self._step, len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=5000), st.integers(1, 700), st.integers(1, 300), st.integers(2, 5), st.booleans())
def test_chunk_boundaries_do_not_depend_on_read_sizes(data: bytes, step: int, chunk: int, links: int,
                                                      raw: bool) -> None:
    flags = {"chunker": f"size-{chunk}", "max_links": links, "cid_version": 1 if raw else 0}
    expected = import_bytes(data, **flags)
    assert import_stream(_Trickle(data, step), **flags) == expected  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=3000), st.integers(50, 400))
def test_car_of_any_dag_round_trips(data: bytes, chunk: int) -> None:
    blocks: list[tuple[CID, bytes]] = []

    class Sink:
        def put_block(self, cid: CID, block: bytes | memoryview) -> None:
            blocks.append((cid, bytes(block)))

    root = import_bytes(data, Sink(), chunker=f"size-{chunk}", max_links=3).cid
    out = io.BytesIO()
    write_car(out, [root], blocks)
    reader = read_car(out.getvalue())
    assert reader.roots == [root] and list(reader) == blocks
