"""The metadata store node is a thin thread over a ``RunStore``: composition, not a tower of mixins."""

from __future__ import annotations

import inspect
import threading
from pathlib import Path

import pytest

import anacostia_blockchain.metadata as metadata
from anacostia_blockchain.engine import BaseMetadataStoreNode, RunRecords, RunStatus, executing
from anacostia_blockchain.errors import NoActiveRunError
from anacostia_blockchain.metadata import RunStore, SqliteMetadataStore, SqlMetadataStore


def public_names(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_the_anacostia_name_is_the_same_class() -> None:
    assert SqliteMetadataStore is SqlMetadataStore
    assert issubclass(SqlMetadataStore, BaseMetadataStoreNode)


def test_the_node_holds_a_run_store_and_adds_only_the_node_api(tmp_path: Path) -> None:
    store = SqlMetadataStore("metadata_store", f"sqlite:///{tmp_path}/m.db", input_retry_limit=5)
    assert isinstance(store.runs, RunStore) and store.runs.input_retry_limit == 5
    assert store.runs.name == "metadata_store"
    assert repr(store) == f"SqlMetadataStore('metadata_store', 'sqlite:///{tmp_path}/m.db')"
    own = public_names(SqlMetadataStore) - public_names(threading.Thread)
    assert "runs" not in own  # an instance attribute, set by the engine's base class
    assert own.isdisjoint({"get_runs", "begin_run", "record_artifact", "export_run", "engine"})
    assert {"get_metrics", "get_params", "get_tags"} <= own  # the Anacostia queries, answered by ``runs``
    assert len(public_names(SqlMetadataStore)) <= 45  # Thread + hooks + logging (both spellings) + queries


def test_the_run_store_has_every_member_the_engine_needs() -> None:
    required = {name for name in dir(RunRecords) if not name.startswith("_")}
    assert required <= public_names(RunStore)
    for name in required - {"active_run_id"}:
        wanted = inspect.signature(getattr(RunRecords, name)).parameters
        assert list(inspect.signature(getattr(RunStore, name)).parameters) == list(wanted), name


def test_a_run_store_works_without_a_node_or_a_thread(tmp_path: Path) -> None:
    runs = RunStore(f"sqlite:///{tmp_path}/m.db", name="tool")
    assert runs.open() == []
    run_id = runs.begin_run("manual", [])
    assert runs.active_run_id == run_id
    with executing(run_id, "script") as context:
        runs.log_metrics(context, {"loss": 0.5}, step=1)
        runs.log_params(context, {"lr": 0.1})
    runs.end_run(run_id, RunStatus.SUCCESS)
    assert runs.active_run_id is None
    exported = runs.export_run(run_id)
    assert exported["params"] == {"lr": 0.1} and exported["metrics"][0]["node_name"] == "script"
    assert [m["key"] for m in runs.get_metrics()] == ["loss"]  # outside a run: every run's rows
    with pytest.raises(NoActiveRunError, match="tool: no run in progress to query"):
        runs.get_params()
    runs.close()


def test_the_node_reports_runs_a_crash_left_running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    crashed = RunStore(url)
    crashed.open()
    crashed.begin_run("manual", [])
    crashed.close()
    store = SqlMetadataStore("metadata_store", url)
    store.open_store()
    assert "marked interrupted runs [1] aborted" in caplog.text
    assert store.runs.get_run(1)["status"] == "aborted"
    store.close_store()


def test_the_blockchain_store_loads_on_first_use() -> None:
    from anacostia_blockchain.metadata.blockchain_store import BlockchainMetadataStore

    assert metadata.BlockchainMetadataStore is BlockchainMetadataStore
    assert issubclass(BlockchainMetadataStore, SqlMetadataStore)
    with pytest.raises(AttributeError):
        metadata.NoSuchStore  # noqa: B018
