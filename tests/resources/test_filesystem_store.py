"""FilesystemStoreNode on a real folder with real inotify events and a real SQLite database."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anacostia_blockchain import BaseActionNode, BaseNode, FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.errors import (
    ArtifactNotFoundError,
    ArtifactWriteError,
    ConfigurationError,
    InvalidArtifactPathError,
    NoActiveRunError,
)


class RecordingAction(BaseActionNode):
    """Runs ``behaviour`` (default: succeed); ``started`` is set when execute() first begins."""

    def __init__(self, name: str, predecessors: list[BaseNode], store: SqliteMetadataStore,
                 behaviour: Callable[[RecordingAction], bool] | None = None) -> None:
        super().__init__(name, predecessors)
        self.store = store
        self.behaviour = behaviour or (lambda node: True)
        self.started = threading.Event()

    def execute(self, *args: object, **kwargs: object) -> bool:
        self.started.set()
        return self.behaviour(self)


def write_file(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content.encode() if isinstance(content, str) else content)


def wait_until(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Test-side wait for detection, which has no event of its own."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


class HeldFolder(FilesystemStoreNode):
    """A watched folder that never triggers, so detected files stay `new` for inspection."""

    def trigger_condition(self) -> bool:
        return False


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[HeldFolder, Path]]:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    folder = HeldFolder("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [folder], store)
    with Pipeline([store, folder, action]):
        yield folder, tmp_path / "data"


def states(folder: FilesystemStoreNode) -> list[tuple[str, str]]:
    return [(a.location, a.state) for a in folder.list_artifacts()]


def test_partial_write_is_picked_up_only_when_closed(watched: tuple[HeldFolder, Path]) -> None:
    folder, root = watched
    with open(root / "big.bin", "wb") as fh:
        fh.write(b"x" * 1000)
        fh.flush()
        assert not wait_until(lambda: folder.list_artifacts() != [], timeout=0.3)
        fh.write(b"y" * 1000)
    assert wait_until(lambda: folder.get_num_artifacts("new") == 1)
    artifact = folder.list_artifacts()[0]
    assert artifact.size == 2000
    assert artifact.sha256 == hashlib.sha256(b"x" * 1000 + b"y" * 1000).hexdigest()


def test_a_close_event_while_another_writer_rewrites_the_file_is_not_a_version(
    watched: tuple[HeldFolder, Path],
) -> None:
    """A close event that arrives while a second writer has truncated the file and is still writing must not record
    the half-written content; the second writer's own close records the complete file, once."""
    folder, root = watched
    write_file(root / "a.txt", "v1")
    assert wait_until(lambda: folder.get_num_artifacts("new") == 1)
    with open(root / "a.txt", "wb") as rewriter:  # truncates: the file is empty, then half written
        rewriter.write(b"half of v2")
        rewriter.flush()
        with open(root / "a.txt", "ab"):  # another writer opens and closes: a close event mid-rewrite
            pass
        assert not wait_until(lambda: len(folder.list_artifacts()) > 1, timeout=0.5)
        rewriter.write(b" and the rest")
    assert wait_until(lambda: folder.get_num_artifacts("new") == 1 and len(folder.list_artifacts()) == 2)
    latest = folder.list_artifacts("new")[0]
    assert latest.sha256 == hashlib.sha256(b"half of v2 and the rest").hexdigest()
    assert states(folder) == [("a.txt", "deleted"), ("a.txt", "new")]


def test_in_place_edit_is_a_new_version(watched: tuple[HeldFolder, Path]) -> None:
    folder, root = watched
    write_file(root / "a.txt", "v1")
    assert wait_until(lambda: folder.get_num_artifacts("new") == 1)
    write_file(root / "a.txt", "v1")  # same content again: no new version
    write_file(root / "a.txt", "v2")
    assert wait_until(lambda: len(folder.list_artifacts()) == 2)
    assert states(folder) == [("a.txt", "deleted"), ("a.txt", "new")]


def test_atomic_rename_from_outside_and_moves_out(watched: tuple[HeldFolder, Path], tmp_path: Path) -> None:
    folder, root = watched
    staging = tmp_path / "staging"
    staging.mkdir()
    write_file(staging / "model.bin", b"weights")
    os.rename(staging / "model.bin", root / "model.bin")
    assert wait_until(lambda: states(folder) == [("model.bin", "new")])
    os.rename(root / "model.bin", staging / "back.bin")
    assert wait_until(lambda: states(folder) == [("model.bin", "deleted")])


def test_directory_moved_in_and_deleted(watched: tuple[HeldFolder, Path], tmp_path: Path) -> None:
    folder, root = watched
    batch = tmp_path / "batch"
    write_file(batch / "one.csv", "1")
    write_file(batch / "sub" / "two.csv", "2")
    os.rename(batch, root / "batch")
    assert wait_until(lambda: folder.get_num_artifacts("new") == 2)
    assert sorted(a.location for a in folder.list_artifacts()) == ["batch/one.csv", "batch/sub/two.csv"]
    shutil.rmtree(root / "batch")
    assert wait_until(lambda: folder.get_num_artifacts("deleted") == 2)


def test_startup_reconciles_folder_with_database(tmp_path: Path) -> None:
    root = tmp_path / "data"
    write_file(root / "kept.csv", "k")
    write_file(root / "removed.csv", "r")
    write_file(root / "edited.csv", "e1")

    def build(init_state: str = "new") -> tuple[Pipeline, HeldFolder]:
        store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
        folder = HeldFolder("data", root, store, init_state=init_state, create=True)
        return Pipeline([store, folder, RecordingAction("action", [folder], store)]), folder

    pipeline, folder = build(init_state="old")
    with pipeline:
        assert sorted(states(folder)) == [("edited.csv", "old"), ("kept.csv", "old"), ("removed.csv", "old")]
    (root / "removed.csv").unlink()
    write_file(root / "edited.csv", "e2-longer")
    write_file(root / "added.csv", "a")
    pipeline, folder = build(init_state="old")  # init_state applies only the first time
    with pipeline:
        by_state = sorted(states(folder))
    assert by_state == [("added.csv", "new"), ("edited.csv", "deleted"), ("edited.csv", "new"),
                        ("kept.csv", "old"), ("removed.csv", "deleted")]


def test_first_scan_of_a_large_folder_records_every_file_once(tmp_path: Path) -> None:
    root = tmp_path / "data"
    root.mkdir()
    for index in range(2500):  # more than one reconcile batch
        (root / f"{index:04d}.txt").write_text(str(index))
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    folder = HeldFolder("data", root, store, create=True)
    with Pipeline([store, folder, RecordingAction("action", [folder], store)]):
        assert folder.get_num_artifacts("new") == 2500
        write_file(root / "late.txt", "late")
        assert wait_until(lambda: folder.get_num_artifacts("new") == 2501)
    assert len({a.location for a in folder.list_artifacts()}) == 2501


def test_save_artifact_is_atomic_and_records_lineage(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    models = FilesystemStoreNode("models", tmp_path / "models", store, monitoring=False)
    saved: list[object] = []

    def train(node: RecordingAction) -> bool:
        saved.append(models.save_artifact("v1/model.bin", b"weights"))
        saved.append(models.save_artifact("card.md", lambda fh: fh.write(b"# card")))
        with open(tmp_path / "data" / "raw.csv", "rb") as src:
            saved.append(models.save_artifact("copy.csv", src))
        (models.resource_path / "report.txt").write_text("written by hand")
        saved.append(models.record_current("report.txt"))
        return True

    trainer = RecordingAction("trainer", [data, models], store, behaviour=train)
    with Pipeline([store, data, models, trainer]) as pipeline:
        write_file(tmp_path / "data" / "raw.csv", "1,2")
        assert pipeline.wait_for_runs(1, timeout=10)
        assert not pipeline.wait_for_runs(2, timeout=0.3)  # outputs never trigger (monitoring=False)
    assert (tmp_path / "models" / "v1" / "model.bin").read_bytes() == b"weights"
    assert not list((tmp_path / "models").rglob(".anacostia-tmp-*"))
    produced = store.runs.run_artifacts(1)["produced"]
    assert [(a.location, a.produced_by_node, a.state) for a in produced] == [
        ("v1/model.bin", "trainer", "old"), ("card.md", "trainer", "old"), ("copy.csv", "trainer", "old"),
        ("report.txt", "trainer", "old")]
    lineage = store.runs.lineage(produced[0])
    assert lineage is not None and [a.location for a in lineage["inputs"]] == ["raw.csv"]
    assert len(models.list_artifacts()) == 4  # the watcher-free output store recorded each file once


def test_save_artifact_errors_record_nothing(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = FilesystemStoreNode("out", tmp_path / "out", store, monitoring=False)
    errors: list[BaseException] = []

    def misbehave(node: RecordingAction) -> bool:
        (out.resource_path / "blocker").write_text("a file where a folder is needed")
        for name, content in [("../escape.txt", b"x"), ("/abs.txt", b"x"), ("blocker/inside.txt", b"x"),
                              ("ok.txt", 12345), ("missing.txt", None)]:
            try:
                if content is None:
                    out.record_current(name)
                else:
                    out.save_artifact(name, content)  # type: ignore[arg-type]
            except Exception as exc:
                errors.append(exc)
        return True

    action = RecordingAction("writer", [data, out], store, behaviour=misbehave)
    with Pipeline([store, data, out, action]) as pipeline:
        with pytest.raises(NoActiveRunError):
            out.save_artifact("early.txt", b"x")
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=10)
    assert [type(e) for e in errors] == [InvalidArtifactPathError, InvalidArtifactPathError, ArtifactWriteError,
                                         ConfigurationError, ArtifactNotFoundError]
    assert "blocker/inside.txt" in str(errors[2])
    assert out.list_artifacts() == []
    assert sorted(p.name for p in out.resource_path.iterdir()) == ["blocker"]  # no temp files left


def test_max_old_samples_prunes_oldest(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, max_old_samples=2, create=True)
    action = RecordingAction("action", [data], store)
    with Pipeline([store, data, action]) as pipeline:
        for index in range(4):
            write_file(tmp_path / "data" / f"{index}.csv", str(index))
            assert pipeline.wait_for_runs(index + 1, timeout=10)
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["2.csv", "3.csv"]
    assert sorted(states(data)) == [("0.csv", "deleted"), ("1.csv", "deleted"), ("2.csv", "old"), ("3.csv", "old")]


def test_artifacts_arriving_during_a_run_wait_for_the_next(tmp_path: Path) -> None:
    gate = threading.Event()
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [data], store, behaviour=lambda node: gate.wait(10))
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "first", "1")
        assert action.started.wait(10)
        write_file(tmp_path / "data" / "second", "2")
        assert wait_until(lambda: data.get_num_artifacts("new") == 1)
        gate.set()
        assert pipeline.wait_for_runs(2, timeout=10)
    consumed = [[a.location for a in store.runs.run_artifacts(r)["consumed"]] for r in (1, 2)]
    assert consumed == [["first"], ["second"]]


def test_constructor_validation(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    with pytest.raises(ConfigurationError, match="init_state"):
        FilesystemStoreNode("d", tmp_path, store, init_state="current", create=True)
    with pytest.raises(ConfigurationError, match="max_old_samples"):
        FilesystemStoreNode("d", tmp_path, store, max_old_samples=-1, create=True)
    folder = FilesystemStoreNode("d", tmp_path, store, create=True)
    with pytest.raises(ConfigurationError, match="unknown artifact state 'fresh'"):
        folder.get_num_artifacts("fresh")


def test_hidden_and_temporary_files_are_not_content(tmp_path):
    """An atomic writer's temp file (``.name.partial``) renamed into place is one artifact, not two."""
    store = SqliteMetadataStore("store", f"sqlite:///{tmp_path}/meta.db")
    folder = tmp_path / "data"
    resource = FilesystemStoreNode("data", folder, store, create=True)
    seen: list[list[str]] = []

    class Record(BaseActionNode):
        def execute(self, *args, **kwargs) -> bool:
            seen.append(sorted(a.location for a in resource.current_inputs()))
            return True

    pipeline = Pipeline([store, resource, Record("record", [resource])])
    pipeline.launch()
    try:
        for name in ("a.csv", "b.csv"):
            tmp = folder / f".{name}.partial"
            tmp.write_text("x" * 100_000)
            tmp.rename(folder / name)
            assert pipeline.wait_for_runs(len(seen) + 1, timeout=10)
        (folder / "notes.txt~").write_text("editor backup")
        (folder / ".hidden").mkdir()
        (folder / ".hidden" / "c.csv").write_text("in a hidden folder")
        time.sleep(0.3)
    finally:
        pipeline.terminate()
    assert seen == [["a.csv"], ["b.csv"]]
    assert sorted(a.location for a in store.runs.list_artifacts("data", None)) == ["a.csv", "b.csv"]
