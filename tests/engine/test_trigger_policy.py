"""Trigger policies (``all``, ``any``, a callable) on real watched folders, and actions whose inputs did not change
in a run (``unchanged``: not executed)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from engine_testkit import RecordingAction, write_file

from anacostia_blockchain import FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.engine import BaseResourceNode
from anacostia_blockchain.errors import ConfigurationError


def two_inputs(
    tmp_path: Path, url: str, **options: object
) -> tuple[Pipeline, SqliteMetadataStore, dict[str, RecordingAction]]:
    store = SqliteMetadataStore("metadata_store", url)
    left = FilesystemStoreNode("left", tmp_path / "left", store, create=True)
    right = FilesystemStoreNode("right", tmp_path / "right", store, create=True)
    actions = {
        "on_left": RecordingAction("on_left", [left], store),
        "on_right": RecordingAction("on_right", [right], store),
    }
    actions["after_right"] = RecordingAction("after_right", [actions["on_right"]], store)
    actions["on_both"] = RecordingAction("on_both", [left, right], store)
    pipeline = Pipeline([store, left, right, *actions.values()], failure_backoff=0.01, **options)  # type: ignore[arg-type]
    return pipeline, store, actions


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return str(request.getfixturevalue("postgres_url"))


def statuses(store: SqliteMetadataStore, run_id: int) -> dict[str, str]:
    return {row["node_name"]: row["status"] for row in store.runs.get_node_runs(run_id)}


def test_any_starts_a_run_for_one_changed_resource_and_actions_without_changed_inputs_do_not_execute(
    tmp_path: Path, store_url: str,
) -> None:
    pipeline, store, actions = two_inputs(tmp_path, store_url, trigger="any")
    with pipeline:
        write_file(tmp_path / "left" / "a.csv", "1")
        assert pipeline.wait_for_runs(1, timeout=20)
    run = store.runs.get_runs()[0]
    assert run["status"] == "success" and run["trigger"] == "left"
    assert statuses(store, run["id"]) == {"on_left": "success", "on_right": "unchanged", "after_right": "unchanged",
                                          "on_both": "success"}
    assert actions["on_left"].executions() == 1 and actions["on_both"].executions() == 1
    assert actions["on_right"].executions() == 0 and actions["after_right"].executions() == 0
    executions = {e["node"]: e for e in store.runs.export_run(run["id"])["executions"]}
    assert executions["on_right"]["status"] == "unchanged"


def test_all_waits_for_every_resource(tmp_path: Path) -> None:
    pipeline, store, _ = two_inputs(tmp_path, f"sqlite:///{tmp_path}/meta.db")  # the default policy
    with pipeline:
        write_file(tmp_path / "left" / "a.csv", "1")
        assert not pipeline.wait_for_runs(1, timeout=0.5)
        write_file(tmp_path / "right" / "b.csv", "2")
        assert pipeline.wait_for_runs(1, timeout=20)
    run = store.runs.get_runs()[0]
    assert run["trigger"] == "left,right"
    assert set(statuses(store, run["id"]).values()) == {"success"}


def test_a_callable_policy_decides_and_its_answer_is_the_recorded_trigger(tmp_path: Path) -> None:
    seen: list[int] = []

    def two_new_files(resources: Sequence[BaseResourceNode]) -> str | None:
        waiting = sum(resource.get_num_artifacts("new") for resource in resources)
        seen.append(waiting)
        return f"{waiting} new files" if waiting >= 2 else None

    pipeline, store, _ = two_inputs(tmp_path, f"sqlite:///{tmp_path}/meta.db", trigger=two_new_files)
    with pipeline:
        write_file(tmp_path / "left" / "a.csv", "1")
        assert not pipeline.wait_for_runs(1, timeout=0.5)
        write_file(tmp_path / "left" / "b.csv", "2")
        assert pipeline.wait_for_runs(1, timeout=20)
    assert store.runs.get_runs()[0]["trigger"] == "2 new files"
    assert 1 in seen


def test_force_executes_actions_whose_inputs_did_not_change(tmp_path: Path) -> None:
    pipeline, store, actions = two_inputs(tmp_path, f"sqlite:///{tmp_path}/meta.db", trigger="any", force=True)
    with pipeline:
        write_file(tmp_path / "left" / "a.csv", "1")
        assert pipeline.wait_for_runs(1, timeout=20)
    assert set(statuses(store, 1).values()) == {"success"}
    assert actions["on_right"].executions() == 1


@pytest.mark.parametrize("policy", ["sometimes", 3, None])
def test_an_unknown_policy_is_a_configuration_error(tmp_path: Path, policy: object) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    with pytest.raises(ConfigurationError, match="trigger must be 'all', 'any' or a callable"):
        Pipeline([store, data, RecordingAction("a", [data], store)], trigger=policy)  # type: ignore[arg-type]
