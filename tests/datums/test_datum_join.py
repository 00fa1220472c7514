"""join, cross and union over resources whose artifacts are recorded in a real metadata store (SQLite and
PostgreSQL): which combinations become datums."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.engine import ArtifactState
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources import FilesystemStoreNode
from anacostia_blockchain.resources.datums import Input, cross, join, union


@pytest.fixture
def store(store_url: str) -> Iterator[SqliteMetadataStore]:
    node = SqliteMetadataStore("metadata", store_url)
    node.open_store()
    yield node
    node.close_store()


def record(store: SqliteMetadataStore, resource: str, *locations: str,
           state: ArtifactState = ArtifactState.OLD) -> None:
    versions = [(loc, hashlib.sha256(f"{resource}/{loc}".encode()).hexdigest(), 1, None) for loc in locations]
    store.runs.record_artifacts(resource, versions, state=state)


def folder(store: SqliteMetadataStore, tmp_path: Path, name: str, glob: str | None = None) -> FilesystemStoreNode:
    return FilesystemStoreNode(name, tmp_path / name, store, glob=glob, create=True)


def names(datums) -> list[str]:
    return [d.name for d in datums]


def test_join_matches_on_shared_groups_and_needs_every_required_input(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "plates/{plate}/{well}.tif")
    masks = folder(store, tmp_path, "masks", "masks/{plate}/{well}.png")
    record(store, "images", "plates/P1/A01.tif", "plates/P1/A02.tif", "plates/P2/A01.tif", "notes.txt")
    record(store, "masks", "masks/P1/A01.png", "masks/P2/A01.png", "masks/P3/A01.png")
    datums = join(Input(images), Input(masks))
    assert [d.group for d in datums] == [{"plate": "P1", "well": "A01"}, {"plate": "P2", "well": "A01"}]
    first = datums[0]
    assert first.artifact("images").location == "plates/P1/A01.tif"
    assert first.artifact("masks").location == "masks/P1/A01.png"
    # P1/A02 has no mask and P3/A01 no image: both inputs are required, so neither is a datum


def test_an_optional_input_may_be_missing(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "plates/{plate}/{well}.tif")
    masks = folder(store, tmp_path, "masks", "masks/{plate}/{well}.png")
    record(store, "images", "plates/P1/A01.tif", "plates/P1/A02.tif")
    record(store, "masks", "masks/P1/A01.png", "masks/P9/A01.png")
    datums = join(Input(images), Input(masks, optional=True))
    assert [(d.group["well"], d.artifact("masks") is not None) for d in datums] == [("A01", True), ("A02", False)]
    assert datums[1].name == "images=plates/P1/A02.tif"  # a missing optional input is not part of the name


def test_join_on_fewer_groups_pairs_every_match(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "plates/{plate}/{well}.tif")
    layouts = folder(store, tmp_path, "layouts", "{plate}.json")
    record(store, "images", "plates/P1/A01.tif", "plates/P1/A02.tif", "plates/P2/A01.tif")
    record(store, "layouts", "P1.json", "P2.json")
    datums = join(Input(images), Input(layouts))
    assert [(d.artifact("images").location, d.artifact("layouts").location) for d in datums] == [
        ("plates/P1/A01.tif", "P1.json"), ("plates/P1/A02.tif", "P1.json"), ("plates/P2/A01.tif", "P2.json")]


def test_join_refuses_inputs_without_a_shared_group(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "plates/{plate}/{well}.tif")
    other = folder(store, tmp_path, "other", "{run}.csv")
    with pytest.raises(ConfigurationError, match="share no capture group"):
        join(Input(images), Input(other))
    with pytest.raises(ConfigurationError, match="does not capture"):
        join(Input(images), Input(other), on=["plate"])
    with pytest.raises(ConfigurationError, match="give a glob"):
        join(Input(folder(store, tmp_path, "plain")), Input(images))
    with pytest.raises(ConfigurationError, match="distinct names"):
        join(Input(images), Input(images))


def test_cross_and_union(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "plates/{plate}/{well}.tif")
    models = folder(store, tmp_path, "models", "{model}.bin")
    record(store, "images", "plates/P1/A01.tif", "plates/P1/A02.tif")
    record(store, "models", "small.bin", "large.bin")
    assert len(cross(Input(images), Input(models))) == 4
    assert cross(Input(images), Input(folder(store, tmp_path, "empty", "{x}"))) == []
    assert len(cross(Input(images), Input(folder(store, tmp_path, "none", "{x}"), optional=True))) == 2
    assert names(union(Input(images), Input(models))) == [
        "images=plates/P1/A01.tif", "images=plates/P1/A02.tif", "models=large.bin", "models=small.bin"]


def test_only_present_versions_take_part(store, tmp_path) -> None:
    images = folder(store, tmp_path, "images", "{well}.tif")
    record(store, "images", "A01.tif", "A02.tif")
    record(store, "images", "A03.tif", state=ArtifactState.NEW)  # not consumed by any run yet
    store.runs.mark_artifacts_deleted("images", ["A02.tif"])
    assert names(union(Input(images))) == ["images=A01.tif"]
