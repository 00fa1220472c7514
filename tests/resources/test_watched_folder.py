"""What the two folder-fed resources share (``WatchedFolderResource``): watch, wake-up on stop, teardown chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from anacostia_blockchain.engine import BaseResourceNode
from anacostia_blockchain.errors import ResourceError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.watch_events import Landed
from anacostia_blockchain.resources.watched_folder import STOP, WatchedFolderResource


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    return SqliteMetadataStore("metadata", f"sqlite:///{tmp_path}/meta.db")


def both(store: SqliteMetadataStore, tmp_path: Path) -> list[WatchedFolderResource]:
    return [
        FilesystemStoreNode("folder", tmp_path / "folder", store),
        IPFSStoreNode("staged", store, store=EmbeddedBlockstore(tmp_path / "ipfs", fsync=False),
                      staging_dir=tmp_path / "staging"),
    ]


def test_both_resources_share_the_watch(store: SqliteMetadataStore, tmp_path: Path) -> None:
    for node in both(store, tmp_path):
        assert isinstance(node, WatchedFolderResource)
        node.watch_folder(tmp_path / node.name / "sub")
        assert (tmp_path / node.name / "sub").is_dir()
        (tmp_path / node.name / "sub" / "a.txt").write_bytes(b"x")
        change = node.next_change(timeout=5)
        assert isinstance(change, Landed) and change.path.endswith("a.txt")
        assert node.next_change(timeout=0.01) is None
        node.request_stop()
        assert node.next_change() is STOP
        node.teardown()


def test_teardown_stops_the_watch_then_runs_the_base_teardown(
    store: SqliteMetadataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torn_down: list[str] = []
    monkeypatch.setattr(BaseResourceNode, "teardown", lambda self: torn_down.append(self.name), raising=False)
    for node in both(store, tmp_path):
        node.watch_folder(tmp_path / node.name)
        watch = node._watch
        assert watch is not None
        node.teardown()
        assert node._watch is None and not watch._observer.is_alive()
    assert torn_down == ["folder", "staged"]


def test_a_folder_that_cannot_be_created_is_a_resource_error(store: SqliteMetadataStore, tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    node = FilesystemStoreNode("folder", tmp_path / "file" / "below", store)
    with pytest.raises(ResourceError, match="resource 'folder': cannot create"):
        node.watch_folder(tmp_path / "file" / "below")
