"""The embedded blockstore's pins: a pin appends one line to ``pins.log`` instead of rewriting the whole set, so
pinning N items writes O(N) bytes in all (not O(N²)); the log is folded into ``pins.json`` once it outgrows the set;
other store objects (other processes) see every change; a repository holding only ``pins.json`` reads as it was; a
line torn by a crash is ignored and cut off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore
from anacostia_blockchain.ipfs import blockstore as blockstore_module


def _cids(count: int, tag: str = "") -> list[CID]:
    return [CID.from_data(f"{tag}{index}".encode(), version=1) for index in range(count)]


def _pin_all(store: EmbeddedBlockstore, cids: list[CID]) -> None:
    for cid in cids:
        store._add_pins([cid])  # pin() also walks the DAG: these are identity-free raw leaves, not stored


def test_pinning_n_items_writes_one_line_each_and_never_rewrites_the_set(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    first = _cids(1, "seed")
    _pin_all(store, first)
    cids = _cids(500)
    _pin_all(store, cids)
    assert not (tmp_path / "repo" / "pins.json").exists()  # below the compaction size: the set is never rewritten
    lines = (tmp_path / "repo" / "pins.log").read_text().splitlines()
    assert lines == [f"+{cid}" for cid in first + cids]  # one line per pin: the bytes written grow linearly
    _pin_all(store, cids[:10])  # already pinned: nothing written
    assert len((tmp_path / "repo" / "pins.log").read_text().splitlines()) == 501
    assert store.pins() == set(first + cids)
    assert EmbeddedBlockstore(tmp_path / "repo").pins() == set(first + cids)


def test_the_log_is_compacted_into_pins_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blockstore_module, "PIN_LOG_COMPACT_MIN", 8)
    repo = tmp_path / "repo"
    store = EmbeddedBlockstore(repo, fsync=False)
    cids = _cids(5)
    _pin_all(store, cids)
    for _ in range(2):  # churn: the 9th line makes the log outgrow max(8, the 5 pins)
        store.unpin(cids[0])
        _pin_all(store, cids[:1])
    assert set(json.loads((repo / "pins.json").read_text())["pins"]) == {str(c) for c in cids}
    assert not (repo / "pins.log").exists()
    store.unpin(cids[0])
    assert (repo / "pins.log").read_text() == f"-{cids[0]}\n"
    assert EmbeddedBlockstore(repo).pins() == set(cids[1:])


def test_two_store_objects_see_each_others_pins_and_unpins(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blockstore_module, "PIN_LOG_COMPACT_MIN", 4)
    one, two = EmbeddedBlockstore(tmp_path / "repo", fsync=False), EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    a, b, c = _cids(3)
    _pin_all(one, [a])
    assert two.pins() == {a}
    _pin_all(two, [b, c])
    one.unpin(b)
    assert one.pins() == two.pins() == {a, c}
    for index, cid in enumerate(_cids(12, "more")):  # several compactions by either object
        _pin_all(one if index % 2 else two, [cid])
    assert one.pins() == two.pins() == {a, c, *_cids(12, "more")}


def test_another_process_pins_into_the_same_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    store = EmbeddedBlockstore(repo, fsync=False)
    mine = _cids(3, "mine")
    _pin_all(store, mine)
    assert store.pins() == set(mine)
    script = (
        "import sys\nfrom anacostia_blockchain.ipfs import CID, EmbeddedBlockstore\n"
        "s = EmbeddedBlockstore(sys.argv[1])\n"
        "s._add_pins([CID.from_data(f'theirs{i}'.encode(), version=1) for i in range(3)])\n"
        "s.unpin(CID.from_data(b'mine0', version=1))\n"
    )
    subprocess.run([sys.executable, "-c", script, str(repo)], check=True, timeout=60)
    assert store.pins() == set(mine[1:] + _cids(3, "theirs"))


def test_a_repository_with_only_pins_json_reads_as_it_was(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    old = _cids(3, "old")
    (repo / "pins.json").write_text(json.dumps({"pins": sorted(str(c) for c in old)}, indent=1))
    store = EmbeddedBlockstore(repo, fsync=False)
    assert store.pins() == set(old)
    new = _cids(1, "new")
    _pin_all(store, new)
    store.unpin(old[0])
    assert EmbeddedBlockstore(repo).pins() == set(old[1:] + new)


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    store = EmbeddedBlockstore(repo, fsync=False)
    kept = _cids(2, "kept")
    _pin_all(store, kept)
    with (repo / "pins.log").open("ab") as handle:  # a writer that crashed mid-line
        handle.write(b"+" + str(_cids(1, "torn")[0]).encode()[:20])
    reader = EmbeddedBlockstore(repo, fsync=False)
    assert reader.pins() == set(kept)
    later = _cids(1, "later")
    _pin_all(reader, later)
    assert (repo / "pins.log").read_text().splitlines() == [f"+{cid}" for cid in kept + later]
    assert EmbeddedBlockstore(repo).pins() == set(kept + later)
    assert os.path.getsize(repo / "pins.log") == sum(len(f"+{cid}\n") for cid in kept + later)
