"""The blockstore's locks with ``flock`` and with the fallback for systems without it (forced here): garbage
collection waits for an add in progress, across two store objects on one repository, and the store works end to end."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from anacostia_blockchain.ipfs import EmbeddedBlockstore, _file_lock


@pytest.fixture(params=["flock", "fallback"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "fallback":
        monkeypatch.setattr(_file_lock, "HAS_FLOCK", False)
    return str(request.param)


def test_gc_waits_for_an_add_in_progress(tmp_path: Path, mode: str) -> None:
    adding, collecting = EmbeddedBlockstore(tmp_path, fsync=False), EmbeddedBlockstore(tmp_path, fsync=False)
    unpinned = collecting.add_bytes(b"garbage", pin=False).cid
    finished = threading.Event()

    def collect() -> None:
        collecting.gc()
        finished.set()

    with adding._gc_guard(exclusive=False):  # what an add holds from its first block to its pin
        worker = threading.Thread(target=collect)
        worker.start()
        assert not finished.wait(0.3), f"gc ran while an add held the repository ({mode})"
        assert collecting.has(unpinned)
    assert finished.wait(10)
    worker.join()
    assert not collecting.has(unpinned)


def test_the_store_works_end_to_end(tmp_path: Path, mode: str) -> None:
    store = EmbeddedBlockstore(tmp_path, fsync=False)
    kept = store.add_bytes(b"kept" * 10_000).cid
    dropped = store.add_bytes(b"dropped" * 10_000).cid
    store.unpin(dropped)
    assert store.gc() > 0
    assert store.cat(kept) == b"kept" * 10_000 and not store.has(dropped)
    assert store.pins() == {kept}
