"""What the two folder-fed resources share (``WatchedFolderResource``): a missing watched folder is an error naming it
unless ``create=True``; watch, wake-up on stop, teardown chain."""

from __future__ import annotations

from pathlib import Path

import pytest

from anacostia_blockchain.engine import BaseActionNode, BaseResourceNode, Pipeline
from anacostia_blockchain.errors import ResourceError, WatchedFolderNotFoundError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode
from anacostia_blockchain.resources.watch_events import Landed
from anacostia_blockchain.resources.watched_folder import STOP, WatchedFolderResource


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    return SqliteMetadataStore("metadata", f"sqlite:///{tmp_path}/meta.db")


def both(store: SqliteMetadataStore, tmp_path: Path, *, create: bool = True) -> list[WatchedFolderResource]:
    return [
        FilesystemStoreNode("folder", tmp_path / "folder", store, create=create),
        IPFSStoreNode("staged", store, store=EmbeddedBlockstore(tmp_path / "ipfs", fsync=False),
                      staging_dir=tmp_path / "staging", create=create),
    ]


@pytest.mark.parametrize("given", [{}, {"create": False}], ids=["default", "create=False"])
def test_a_missing_watched_folder_is_an_error_naming_it(store: SqliteMetadataStore, tmp_path: Path,
                                                        given: dict[str, bool]) -> None:
    nodes: list[WatchedFolderResource] = [
        FilesystemStoreNode("folder", tmp_path / "folder", store, **given),
        IPFSStoreNode("staged", store, store=EmbeddedBlockstore(tmp_path / "ipfs", fsync=False),
                      staging_dir=tmp_path / "staging", **given),
    ]
    for node in nodes:
        missing = tmp_path / f"{node.name}-mistyped"
        with pytest.raises(WatchedFolderNotFoundError) as raised:
            node.watch_folder(missing)
        assert str(raised.value) == (f"resource {node.name!r}: the watched folder {missing} does not exist (create it, "
                                     "or pass create=True)")
        assert raised.value.path == str(missing) and isinstance(raised.value, ResourceError)
        assert not missing.exists() and node._watch is None
        (tmp_path / "a-file").write_bytes(b"")
        with pytest.raises(WatchedFolderNotFoundError, match="a-file is not a folder"):
            node.watch_folder(tmp_path / "a-file")


def test_create_true_creates_it_and_an_output_store_always_does(store: SqliteMetadataStore, tmp_path: Path) -> None:
    for node in both(store, tmp_path, create=True):
        node.watch_folder(tmp_path / f"{node.name}-new" / "sub")
        assert (tmp_path / f"{node.name}-new" / "sub").is_dir()
        node.teardown()
    output = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    output.watch_folder(tmp_path / "out")
    assert (tmp_path / "out").is_dir()


def test_a_pipeline_with_a_mistyped_folder_fails_at_launch_and_creates_nothing(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "dta", store)
    pipeline = Pipeline([store, data, Nothing("nothing", [data])])
    with pytest.raises(WatchedFolderNotFoundError, match=f"the watched folder {tmp_path / 'dta'} does not exist"):
        pipeline.launch()
    pipeline.terminate()
    assert not (tmp_path / "dta").exists()


class Nothing(BaseActionNode):
    def execute(self, *args: object, **kwargs: object) -> bool:
        return True


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
    node = FilesystemStoreNode("folder", tmp_path / "file" / "below", store, create=True)
    with pytest.raises(ResourceError, match="resource 'folder': cannot create"):
        node.watch_folder(tmp_path / "file" / "below")
