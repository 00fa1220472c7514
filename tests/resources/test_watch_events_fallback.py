"""Where Linux's close events and read leases are missing, the folder watch falls back to watchdog's platform
observer (forced here: its polling observer) and ``open_for_writing`` to ``False``; files still land."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest
from watchdog.observers.polling import PollingObserver

from anacostia_blockchain.resources import watch_events
from anacostia_blockchain.resources.watch_events import FolderChange, FolderWatch, Gone, Landed, open_for_writing


def _next(changes: queue.Queue[FolderChange], wanted: type, path: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            change = changes.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(change, wanted) and Path(change.path) == path:
            return
    raise AssertionError(f"no {wanted.__name__} for {path}")


def test_the_fallback_watch_reports_written_moved_and_deleted_files(tmp_path: Path) -> None:
    changes: queue.Queue[FolderChange] = queue.Queue()
    watch = FolderWatch(tmp_path, changes.put, observer=PollingObserver(timeout=0.05))
    assert not watch.close_events
    watch.start()
    try:
        (tmp_path / "batch-1.csv").write_text("a,b\n1,2\n")
        _next(changes, Landed, tmp_path / "batch-1.csv")
        (tmp_path / ".batch-2.partial").write_text("x")
        (tmp_path / ".batch-2.partial").rename(tmp_path / "batch-2.csv")
        _next(changes, Landed, tmp_path / "batch-2.csv")
        (tmp_path / "batch-1.csv").unlink()
        _next(changes, Gone, tmp_path / "batch-1.csv")
    finally:
        watch.stop()


def test_without_read_leases_a_file_open_for_writing_is_left_to_the_stat_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.bin"
    with path.open("wb") as writer:
        writer.write(b"partial")
        assert open_for_writing(path)  # Linux: the lease is refused while a writer has the file open
        monkeypatch.setattr(watch_events, "SETLEASE", None)
        assert not open_for_writing(path)
