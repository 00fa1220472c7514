"""Our importer against the npm reference (ipfs-unixfs-importer configured like Kubo) on many sizes and profiles.

Sizes straddle every boundary that changes the DAG shape: empty, one byte, a chunk minus/plus one, exactly one
chunk, exactly ``max_links`` chunks (one full level) and one more (a second level). Tiny chunkers with the real
fan-outs reach three levels with little data. Content mixes random bytes and zero runs so identical leaves repeat.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from anacostia_blockchain.ipfs import EmbeddedBlockstore, import_file, import_path

KIB = 1024
MIB = 1024 * KIB

# name -> (our flags, the reference's options)
PROFILES = {
    "unixfs-v0-2015": ({"profile": "unixfs-v0-2015"}, (0, False, 256 * KIB, 174)),
    "cid-version-1": ({"cid_version": 1}, (1, True, 256 * KIB, 174)),
    "unixfs-v1-2025": ({"profile": "unixfs-v1-2025"}, (1, True, MIB, 1024)),
    "v0-raw-leaves": ({"cid_version": 0, "raw_leaves": True}, (0, True, 256 * KIB, 174)),
}


def _content(size: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        piece = rng.randrange(1, 300 * KIB)
        out += bytes(piece) if rng.random() < 0.3 else rng.randbytes(piece)
    return bytes(out[:size])


def _sizes(chunk: int, links: int) -> list[int]:
    sizes = {0, 1, 12, chunk - 1, chunk, chunk + 1, 3 * chunk + 17}
    if chunk * (links + 1) <= 48 * MIB:
        sizes |= {chunk * links, chunk * links + 1}
    return sorted(sizes)


CASES = [
    pytest.param(name, size, id=f"{name}-{size}")
    for name, (_, (_, _, chunk, links)) in PROFILES.items()
    for size in _sizes(chunk, links)
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    files = {}
    for size in sorted({size for _, (_, _, chunk, links) in PROFILES.values() for size in _sizes(chunk, links)}):
        path = folder / f"f{size}.bin"
        path.write_bytes(_content(size, size))
        files[size] = path
    return files


@pytest.mark.parametrize(("profile", "size"), CASES)
def test_file_cid_and_cumulative_size_match_reference(reference, corpus, profile: str, size: int) -> None:
    flags, (version, raw, chunk, links) = PROFILES[profile]
    path = corpus[size]
    ours = import_file(path, **flags)
    theirs = reference.import_entries([{"path": path.name, "file": str(path)}], cid_version=version,
                                      raw_leaves=raw, chunk_size=chunk, max_links=links)
    assert (str(ours.cid), ours.cumulative_size) == (theirs[-1]["cid"], int(theirs[-1]["size"]))
    assert ours.size == size


@pytest.mark.parametrize(("chunk", "links", "size"), [
    (16, 174, 16 * 174 * 174 + 1),   # three levels with Kubo's fan-out
    (64, 1024, 64 * 1024 * 2 + 5),   # two levels with the 2025 fan-out
    (1000, 3, 27_001),               # four levels, odd chunk size
])
@pytest.mark.parametrize("raw_leaves", [False, True])
def test_deep_trees_match_reference(reference, tmp_path: Path, chunk: int, links: int, size: int,
                                    raw_leaves: bool) -> None:
    path = tmp_path / "deep.bin"
    path.write_bytes(_content(size, chunk))
    version = 1 if raw_leaves else 0
    ours = import_file(path, cid_version=version, raw_leaves=raw_leaves, chunker=f"size-{chunk}", max_links=links)
    theirs = reference.import_entries([{"path": "deep.bin", "file": str(path)}], cid_version=version,
                                      raw_leaves=raw_leaves, chunk_size=chunk, max_links=links)
    assert (str(ours.cid), ours.cumulative_size) == (theirs[-1]["cid"], int(theirs[-1]["size"]))


@pytest.mark.parametrize("profile", list(PROFILES))
def test_directory_and_wrapping_match_reference(reference, tmp_path: Path, profile: str) -> None:
    flags, (version, raw, chunk, links) = PROFILES[profile]
    root = tmp_path / "data"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "empty").mkdir()
    files = {
        "data/b.txt": b"bee\n",
        "data/a.txt": b"hello world\n",
        "data/sub/big.bin": _content(300 * KIB, 7),
        "data/sub/deeper/z": b"",
        "data/\u00e9t\u00e9.txt": b"unicode name",
        "data/Upper": b"sorted by bytes, upper-case first",
    }
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data)
    entries = [{"path": rel, "file": str(tmp_path / rel)} for rel in sorted(files)] + [{"path": "data/empty"}]
    theirs = {e["path"]: (e["cid"], int(e["size"]))
              for e in reference.import_entries(entries, cid_version=version, raw_leaves=raw, chunk_size=chunk,
                                                max_links=links, wrap=True)}
    ours = import_path(root, recursive=True, wrap=True, **flags)
    ours_by_name = {r.name: (str(r.cid), r.cumulative_size) for r in ours}
    for name in ["data", "data/sub", *files]:  # the reference prints no line for an empty directory
        assert ours_by_name[name] == theirs[name], name
    assert ours[-1].name == "" and (str(ours[-1].cid), ours[-1].cumulative_size) == theirs[""]


def test_exported_car_reads_in_reference(reference, tmp_path: Path, blockstore: EmbeddedBlockstore) -> None:
    data = _content(3 * MIB + 5, 11)
    result = blockstore.add_bytes(data, cid_version=1)
    car = tmp_path / "out.car"
    blockstore.export_car(result.cid, car)
    answer = reference.read_car(car)
    assert answer["roots"] == [str(result.cid)]
    assert answer["blocks"][0] == str(result.cid)
    assert len(answer["blocks"]) == len(set(answer["blocks"]))  # de-duplicated
    assert len(answer["blocks"]) == sum(1 for _ in blockstore.iter_car(result.cid))
