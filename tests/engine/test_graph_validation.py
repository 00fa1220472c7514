"""Pipeline construction rejects malformed graphs with errors that name the nodes involved."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_testkit import RecordingAction, simple_pipeline

from anacostia_blockchain import FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.errors import GraphValidationError, PipelineStateError


@pytest.fixture
def store(tmp_path: Path) -> SqliteMetadataStore:
    return SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")


@pytest.fixture
def data(tmp_path: Path, store: SqliteMetadataStore) -> FilesystemStoreNode:
    return FilesystemStoreNode("data", tmp_path / "data", store, create=True)


def test_cycle_is_named(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    a = RecordingAction("a", [data], store)
    b = RecordingAction("b", [a], store)
    c = RecordingAction("c", [b], store)
    a.predecessors.append(c)
    with pytest.raises(GraphValidationError, match=r"cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)"):
        Pipeline([store, data, a, b, c])


def test_self_loop_is_a_cycle(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    a = RecordingAction("a", [data], store)
    a.predecessors.append(a)
    with pytest.raises(GraphValidationError, match="cycle: a -> a"):
        Pipeline([store, data, a])


def test_unknown_node_object(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    with pytest.raises(GraphValidationError, match="unknown node 'not a node'"):
        Pipeline([store, data, "not a node"])  # type: ignore[list-item]


def test_predecessor_missing_from_nodes(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    a = RecordingAction("a", [data], store)
    with pytest.raises(GraphValidationError, match="'a' has predecessor 'data', which is missing"):
        Pipeline([store, a])


def test_non_node_predecessor_rejected_at_construction(store: SqliteMetadataStore) -> None:
    with pytest.raises(GraphValidationError, match="predecessors must be nodes"):
        RecordingAction("a", ["data"], store)  # type: ignore[list-item]


@pytest.mark.parametrize("count", [0, 2])
def test_exactly_one_metadata_store(tmp_path: Path, count: int) -> None:
    stores = [SqliteMetadataStore(f"s{i}", f"sqlite:///{tmp_path}/m{i}.db") for i in range(max(count, 1))]
    data = FilesystemStoreNode("data", tmp_path / "d", stores[0], create=True)
    action = RecordingAction("a", [data], stores[0])
    nodes = [*stores[:count], data, action]
    message = "found 0" if count == 0 else "found 2"
    with pytest.raises(GraphValidationError, match=f"exactly one metadata store, {message}"):
        Pipeline(nodes)


def test_duplicate_names(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    a1 = RecordingAction("a", [data], store)
    a2 = RecordingAction("a", [data], store)
    with pytest.raises(GraphValidationError, match="duplicate node name 'a': used by two nodes"):
        Pipeline([store, data, a1, a2])
    with pytest.raises(GraphValidationError, match="duplicate node name 'a': listed twice"):
        Pipeline([store, data, a1, a1])


def test_action_cannot_follow_the_store(store: SqliteMetadataStore) -> None:
    a = RecordingAction("a", [store], store)
    with pytest.raises(GraphValidationError, match="invalid edge 'metadata_store' -> 'a'"):
        Pipeline([store, a])


def test_resource_must_follow_only_the_store(store: SqliteMetadataStore, data: FilesystemStoreNode) -> None:
    other = FilesystemStoreNode("other", data.resource_path.parent / "o", store, create=True)
    other.predecessors.append(data)
    with pytest.raises(GraphValidationError, match="resource 'other': its only predecessor must be"):
        Pipeline([store, data, other])


def test_action_needs_a_predecessor(store: SqliteMetadataStore) -> None:
    a = RecordingAction("a", [], store)
    with pytest.raises(GraphValidationError, match="action 'a' has no predecessors"):
        Pipeline([store, a])


def test_resource_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(GraphValidationError, match="metadata_store must be a metadata store node"):
        FilesystemStoreNode("data", tmp_path, "sqlite:///x.db")  # type: ignore[arg-type]


def test_empty_name_rejected(store: SqliteMetadataStore) -> None:
    with pytest.raises(GraphValidationError, match="non-empty string"):
        RecordingAction(" ", [store], store)


def test_lifecycle_state_errors(tmp_path: Path) -> None:
    pipeline, *_ = simple_pipeline(tmp_path)
    with pytest.raises(PipelineStateError):
        pipeline.pause()
    pipeline.launch()
    try:
        with pytest.raises(PipelineStateError, match="cannot launch a pipeline that is running"):
            pipeline.launch()
    finally:
        pipeline.terminate()
    pipeline.terminate()  # idempotent
    with pytest.raises(PipelineStateError, match="terminated"):
        pipeline.execute()
    with pytest.raises(PipelineStateError):
        pipeline.launch()
