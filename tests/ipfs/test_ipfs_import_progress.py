"""The importer's progress callbacks: ``on_file`` hears every regular file of a real folder tree once, with its
size, and ``on_bytes`` adds up to the tree's content; both paths (plain importer and the embedded store) agree and
the CIDs do not change when callbacks are given."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.ipfs.importer import import_paths, import_stream


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """A folder with nested folders, an empty file, a multi-chunk file, a symlink and a dot file."""
    root = tmp_path / "tree"
    sizes = {"tree/a.txt": 5, "tree/empty": 0, "tree/sub/big.bin": 700_000, "tree/sub/deeper/c.bin": 262_145}
    for name, size in sizes.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
    (root / ".hidden").write_bytes(b"secret")
    (root / "link").symlink_to("a.txt")
    return root, sizes


def test_callbacks_report_every_file_and_all_bytes(tree: tuple[Path, dict[str, int]]) -> None:
    root, sizes = tree
    files: list[tuple[str, int]] = []
    chunks: list[int] = []
    results = import_paths([root], recursive=True, on_file=lambda n, s: files.append((n, s)), on_bytes=chunks.append)
    assert sorted(files) == sorted(sizes.items())
    assert sum(chunks) == sum(sizes.values()) == sum(size for _, size in files)
    assert max(chunks) <= 262_144 and len(chunks) >= 3 + 2  # big.bin is 3 chunks, c.bin 2: reported as they go
    assert results == import_paths([root], recursive=True)


def test_hidden_files_are_reported_when_imported(tree: tuple[Path, dict[str, int]]) -> None:
    root, sizes = tree
    files: list[tuple[str, int]] = []
    chunks: list[int] = []
    import_paths([root], recursive=True, hidden=True, on_file=lambda n, s: files.append((n, s)),
                 on_bytes=chunks.append)
    assert sorted(files) == sorted({**sizes, "tree/.hidden": 6}.items())
    assert sum(chunks) == sum(sizes.values()) + 6


def test_embedded_store_passes_the_callbacks_through(tmp_path: Path, tree: tuple[Path, dict[str, int]]) -> None:
    root, sizes = tree
    files: list[tuple[str, int]] = []
    chunks: list[int] = []
    store = EmbeddedBlockstore(tmp_path / "repo")
    results = store.add_paths([root], recursive=True, wrap=True, on_file=lambda n, s: files.append((n, s)),
                              on_bytes=chunks.append)
    assert store.cat(f"{results[-1].cid}/tree/sub/big.bin") == (root / "sub" / "big.bin").read_bytes()
    assert sorted(files) == sorted(sizes.items())
    assert sum(chunks) == sum(sizes.values())


def test_stream_reports_its_bytes(tmp_path: Path) -> None:
    chunks: list[int] = []
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(600_000))
    with data.open("rb") as handle:
        import_stream(handle, on_bytes=chunks.append)
    assert chunks == [262_144, 262_144, 600_000 - 2 * 262_144]
