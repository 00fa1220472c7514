"""The UnixFS importer against the npm reference (ipfs-unixfs-importer configured like Kubo) on sizes, chunkers,
fan-outs and leaf kinds chosen by Hypothesis, and CARs our writer produces read back by @ipld/car.

``tests/ipfs/test_ipfs_reference_crosscheck.py`` covers the profiles' boundary sizes; here the shapes are random:
tiny chunkers with small fan-outs reach deep trees with little data, so many layouts are exercised quickly. Example
counts stay modest because every example is a round trip to the node process (this runs in CI on 2 cores).
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path

import pytest
from hostile_reference import NpmReference, npm_reference  # noqa: F401  (fixture)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, import_bytes, read_car, write_car

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COUNTER = itertools.count()


@st.composite
def contents(draw: st.DrawFn) -> bytes:
    """Random bytes mixed with zero runs, so identical leaves repeat (the DAG de-duplicates nothing, CIDs do)."""
    pieces = draw(st.lists(st.one_of(st.binary(max_size=3000), st.integers(1, 5000).map(bytes)), max_size=8))
    return b"".join(pieces)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("unixfs-properties")


@SETTINGS
@given(data=contents(), chunk=st.integers(1, 4096), links=st.integers(2, 40), cid_version=st.sampled_from([0, 1]),
       raw_leaves=st.booleans())
def test_cid_and_cumulative_size_match_the_npm_reference(npm_reference: NpmReference, scratch: Path, data: bytes,  # noqa: F811
                                                         chunk: int, links: int, cid_version: int,
                                                         raw_leaves: bool) -> None:
    path = scratch / f"content-{next(COUNTER)}.bin"
    path.write_bytes(data)
    ours = import_bytes(data, cid_version=cid_version, raw_leaves=raw_leaves, chunker=f"size-{chunk}",
                        max_links=links)
    theirs = npm_reference.import_file(path, cid_version=cid_version, raw_leaves=raw_leaves, chunk_size=chunk,
                                       max_links=links)
    assert (str(ours.cid), ours.cumulative_size) == theirs
    assert ours.size == len(data)
    path.unlink()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=contents(), chunk=st.integers(16, 2048), links=st.integers(2, 12), cid_version=st.sampled_from([0, 1]))
def test_exported_cars_read_in_the_reference_and_round_trip(npm_reference: NpmReference, scratch: Path,  # noqa: F811
                                                            data: bytes, chunk: int, links: int,
                                                            cid_version: int) -> None:
    store = EmbeddedBlockstore(scratch / f"repo-{next(COUNTER)}", fsync=False)
    root = store.add_bytes(data, cid_version=cid_version, chunker=f"size-{chunk}", max_links=links).cid
    car = scratch / f"export-{next(COUNTER)}.car"
    store.export_car(root, car)
    answer = npm_reference.read_car(car)
    assert answer["roots"] == [str(root)]
    assert len(answer["blocks"]) == len(set(answer["blocks"]))  # de-duplicated, every block re-hashed by @ipld/car
    other = EmbeddedBlockstore(scratch / f"repo-{next(COUNTER)}", fsync=False)
    assert other.import_car(car) == [root]
    assert other.cat(root) == data


blocks = st.lists(st.binary(max_size=600).map(lambda b: (CID.from_data(b, codec=0x55), b)), max_size=20)


@settings(max_examples=80, deadline=None)
@given(roots=st.lists(blocks.map(lambda bs: bs[0][0] if bs else CID.from_data(b"", codec=0x55)), min_size=1,
                      max_size=3), content=blocks)
def test_any_car_of_raw_blocks_round_trips(roots: list[CID], content: list[tuple[CID, bytes]]) -> None:
    """Multiple roots, empty blocks, duplicate blocks: what is written is read back unchanged, in order."""
    out = io.BytesIO()
    size = write_car(out, roots, content)
    assert size == len(out.getvalue())
    with read_car(out.getvalue()) as reader:
        assert reader.roots == roots
        assert list(reader) == content
