"""Which pipelines a dashboard serves and the names it shows them under."""

from __future__ import annotations

from pathlib import Path

import pytest

from anacostia_blockchain.engine import BaseActionNode, Pipeline
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.service.dashboard import served_pipelines


class Noop(BaseActionNode):
    def execute(self, *args: object, **kwargs: object) -> bool:
        return True


def pipeline(tmp_path: Path, store_name: str) -> Pipeline:
    folder = tmp_path / store_name
    store = SqliteMetadataStore(store_name, f"sqlite:///{tmp_path / f'{store_name}.db'}")
    data = FilesystemStoreNode("data", folder, store, create=True)
    return Pipeline([store, data, Noop("noop", [data])])


def test_nothing_served_without_pipelines() -> None:
    assert served_pipelines(None) == []


def test_one_pipeline_is_named_after_its_store(tmp_path: Path) -> None:
    [served] = served_pipelines(pipeline(tmp_path, "nightly_store"))
    assert served.name == "nightly_store" and served.pipeline_id is None and served.run_key(3) is None


def test_a_list_keeps_its_order_and_a_mapping_gives_the_names(tmp_path: Path) -> None:
    one, two = pipeline(tmp_path, "one"), pipeline(tmp_path, "two")
    assert [s.name for s in served_pipelines([two, one])] == ["two", "one"]
    named = served_pipelines({"training": one, "publishing": two})
    assert [(s.name, s.pipeline, s.store) for s in named] == [
        ("training", one, one.metadata_store), ("publishing", two, two.metadata_store)
    ]


def test_two_pipelines_under_one_name_are_refused(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    with pytest.raises(ConfigurationError, match="two dashboard pipelines are named 'store'"):
        served_pipelines([pipeline(first, "store"), pipeline(second, "store")])


@pytest.mark.parametrize("name", ["", "a/b"])
def test_names_must_fit_in_a_url_path_segment(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigurationError, match="must be non-empty and without '/'"):
        served_pipelines({name: pipeline(tmp_path, "store")})
