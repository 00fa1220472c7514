"""Runs end to end on real threads, a real folder and a real database (SQLite; PostgreSQL where marked)."""

from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest
from engine_testkit import RecordingAction, simple_pipeline, wait_until, write_file

from anacostia_blockchain import FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.engine import code_fingerprint
from anacostia_blockchain.errors import NoActiveRunError


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return request.getfixturevalue("postgres_url")


def test_file_lands_run_succeeds(tmp_path: Path, store_url: str) -> None:
    pipeline, store, data, action = simple_pipeline(tmp_path, store_url)
    with pipeline:
        write_file(tmp_path / "data" / "a.csv", "1,2,3")
        assert pipeline.wait_for_runs(1, timeout=30)
        write_file(tmp_path / "data" / "b.csv", "4,5,6")
        assert pipeline.wait_for_runs(2, timeout=30)
    runs = store.runs.get_runs()
    assert [r["status"] for r in runs] == ["success", "success"]
    assert runs[0]["id"] < runs[1]["id"]
    assert runs[0]["trigger"] == "data"
    node_runs = store.runs.get_node_runs(runs[0]["id"])
    assert [(n["node_name"], n["status"], n["attempts"]) for n in node_runs] == [("action", "success", 1)]
    assert node_runs[0]["code_fingerprint"] == code_fingerprint(RecordingAction)
    assert [m["node_name"] for m in store.runs.get_metrics(runs[0]["id"])] == ["action"]
    consumed = [store.runs.run_artifacts(r["id"])["consumed"] for r in runs]
    assert [[a.location for a in c] for c in consumed] == [["a.csv"], ["b.csv"]]
    assert {a.state for a in data.list_artifacts()} == {"old"}
    assert [call[0] for call in action.calls[:4]] == ["before", "execute", "success", "after"]
    assert action.calls[1][1] == runs[0]["id"]  # the executing run is visible as current_run_id


def test_independent_branches_run_in_parallel_and_join_in_order(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    barrier = threading.Barrier(2, timeout=5)

    def meet(node: RecordingAction) -> bool:
        barrier.wait()  # only returns if both branches execute at the same time
        return True

    root = RecordingAction("root", [data], store)
    left = RecordingAction("left", [root], store, behaviour=meet)
    right = RecordingAction("right", [root], store, behaviour=meet)
    join = RecordingAction("join", [left, right], store)
    with Pipeline([store, data, root, left, right, join]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    assert store.runs.get_runs()[0]["status"] == "success"
    start = {node.name: node.calls[1][2] for node in (root, left, right, join)}
    end = {node.name: node.calls[-1][2] for node in (root, left, right, join)}
    assert end["root"] <= min(start["left"], start["right"])
    assert max(end["left"], end["right"]) <= start["join"]


def test_failure_skips_descendants_and_fails_run(tmp_path: Path, store_url: str) -> None:
    store = SqliteMetadataStore("metadata_store", store_url, input_retry_backoff=60)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    bad = RecordingAction("bad", [data], store, behaviour=lambda node: False)
    child = RecordingAction("child", [bad], store)
    grandchild = RecordingAction("grandchild", [child], store)
    sibling = RecordingAction("sibling", [data], store)
    with Pipeline([store, data, bad, child, grandchild, sibling], failure_backoff=0.01) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    run = store.runs.get_runs()[0]
    assert run["status"] == "failed"
    assert "bad: execute() returned False" in run["error"]
    results = {n["node_name"]: n["status"] for n in store.runs.get_node_runs(run["id"])}
    assert results == {"bad": "failure", "child": "skipped", "grandchild": "skipped", "sibling": "success"}
    assert child.executions() == 0 and grandchild.executions() == 0
    assert [c[0] for c in bad.calls] == ["before", "execute", "failure", "after"]


def test_error_records_message_and_traceback(tmp_path: Path) -> None:
    def boom(node: RecordingAction) -> bool:
        raise ValueError("bad batch 7")

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("boom", [data], store, behaviour=boom)
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    node_run = store.runs.get_node_runs(store.runs.get_runs()[0]["id"])[0]
    assert node_run["status"] == "error"
    assert node_run["error"] == "ValueError: bad batch 7"
    assert "Traceback" in node_run["traceback"] and "def boom" not in node_run["error"]
    assert 'raise ValueError("bad batch 7")' in node_run["traceback"]
    assert [c[0] for c in action.calls] == ["before", "execute", "error:ValueError", "after"]


def test_non_bool_result_is_an_error(tmp_path: Path) -> None:
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("forgot_return", [data], store, behaviour=lambda node: None)  # type: ignore[arg-type,return-value]
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    node_run = store.runs.get_node_runs(1)[0]
    assert node_run["status"] == "error"
    assert "execute() must return True or False, got None" in node_run["error"]


def test_node_retries_with_backoff(tmp_path: Path) -> None:
    def flaky(node: RecordingAction) -> bool:
        if node.executions() < 3:
            raise ConnectionError("transient")
        return True

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("flaky", [data], store, behaviour=flaky, max_retries=2, retry_backoff=0.05)
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    node_run = store.runs.get_node_runs(1)[0]
    assert (node_run["status"], node_run["attempts"]) == ("success", 3)
    starts = [t for what, _, t in action.calls if what == "execute"]
    assert starts[1] - starts[0] >= 0.05 and starts[2] - starts[1] >= 0.1  # backoff doubles


def test_failing_inputs_back_off_then_quarantine_without_a_tight_loop(tmp_path: Path) -> None:
    pipeline, store, data, action = simple_pipeline(tmp_path, input_retry_limit=3, input_retry_backoff=0.1)
    action.behaviour = lambda node: False
    with pipeline:
        write_file(tmp_path / "data" / "poison.csv", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
        waiting = data.list_artifacts()[0]
        assert waiting.state == "new" and waiting.attempts == 1 and waiting.retry_at is not None
        assert data.get_num_artifacts("new") == 0  # not eligible until its backoff elapsed
        assert pipeline.wait_for_runs(3, timeout=30)
        assert not pipeline.wait_for_runs(4, timeout=0.5)  # quarantined: nothing triggers any more
    runs = store.runs.get_runs()
    assert [r["status"] for r in runs] == ["failed"] * 3
    gaps = [b["started_at"] - a["ended_at"] for a, b in itertools.pairwise(runs)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # input backoff 0.1 s, then doubled
    artifact = data.list_artifacts()[0]
    assert artifact.state == "quarantined" and artifact.attempts == 3
    assert "execute() returned False" in (artifact.quarantine_reason or "")
    assert store.runs.release_quarantined("data") == 1
    assert data.get_num_artifacts("new") == 1


def test_pause_stops_new_runs_and_new_attempts(tmp_path: Path) -> None:
    release = threading.Event()
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    first = RecordingAction("first", [data], store, behaviour=lambda node: release.wait(10))
    second = RecordingAction("second", [first], store)
    with Pipeline([store, data, first, second]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert first.started.wait(10)
        pipeline.pause()
        release.set()  # `first` finishes while paused; `second` must not start
        assert not second.started.wait(0.3)
        pipeline.resume()
        assert pipeline.wait_for_runs(1, timeout=30)
        pipeline.pause()
        write_file(tmp_path / "data" / "y", "y")
        assert wait_until(lambda: data.get_num_artifacts("new") == 1)
        assert not pipeline.wait_for_runs(2, timeout=0.3)  # no run starts while paused
        pipeline.resume()
        assert pipeline.wait_for_runs(2, timeout=30)
    assert [r["status"] for r in store.runs.get_runs()] == ["success", "success"]


def test_terminate_mid_run_aborts_it_and_returns_inputs(tmp_path: Path) -> None:
    release = threading.Event()
    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    first = RecordingAction("first", [data], store, behaviour=lambda node: release.wait(10))
    second = RecordingAction("second", [first], store)
    pipeline = Pipeline([store, data, first, second])
    pipeline.launch()
    write_file(tmp_path / "data" / "x", "x")
    assert first.started.wait(10)
    stopper = threading.Thread(target=pipeline.terminate)
    stopper.start()
    time.sleep(0.05)
    release.set()  # the running attempt finishes; nothing new starts
    stopper.join(10)
    assert pipeline.state == "terminated"
    assert not any(t.is_alive() for t in (store, data, first, second))
    run = store.runs.get_runs()[0]
    assert run["status"] == "aborted"
    results = {n["node_name"]: n["status"] for n in store.runs.get_node_runs(run["id"])}
    assert results == {"first": "success", "second": "aborted"}
    assert second.executions() == 0
    assert [a.state for a in data.list_artifacts()] == ["new"]


def test_restart_continues_run_ids_and_does_not_retrigger(tmp_path: Path) -> None:
    pipeline, *_ = simple_pipeline(tmp_path)
    with pipeline:
        write_file(tmp_path / "data" / "a", "a")
        assert pipeline.wait_for_runs(1, timeout=30)
    pipeline, store, _data, action = simple_pipeline(tmp_path)
    with pipeline:
        assert not pipeline.wait_for_runs(1, timeout=0.3)  # `a` was consumed: no run on restart
        write_file(tmp_path / "data" / "b", "b")
        assert pipeline.wait_for_runs(1, timeout=30)
    assert [r["id"] for r in store.runs.get_runs()] == [1, 2]
    assert action.executions() == 1


def test_interrupted_run_becomes_aborted_and_inputs_new(tmp_path: Path) -> None:
    pipeline, store, data, _ = simple_pipeline(tmp_path)
    write_file(tmp_path / "data" / "a", "a")
    # A process that died mid-run: run row `running`, its input `current`.
    store.open_store()
    data.reconcile()
    run_id = store.runs.begin_run("data", ["data"])
    node_run = store.runs.record_node_start(run_id, "action", "sha256:x")
    assert node_run and [a.state for a in data.list_artifacts()] == ["current"]
    store.close_store()

    pipeline, store, data, _action = simple_pipeline(tmp_path)
    with pipeline:
        assert pipeline.wait_for_runs(1, timeout=30)  # the returned input triggers a fresh run
    runs = store.runs.get_runs()
    assert [(r["id"], r["status"]) for r in runs] == [(1, "aborted"), (2, "success")]
    assert "interrupted" in runs[0]["error"]
    assert store.runs.get_node_runs(1)[0]["status"] == "aborted"
    assert [a.consumed_run_id for a in data.list_artifacts()] == [2]


def test_logging_outside_a_run_is_a_clear_error(tmp_path: Path) -> None:
    pipeline, store, *_ = simple_pipeline(tmp_path)
    with pipeline, pytest.raises(NoActiveRunError, match="while a run is in progress"):
        store.log_metrics(loss=1.0)


def test_hook_failure_in_on_run_start_fails_the_run(tmp_path: Path) -> None:
    class PickyStore(SqliteMetadataStore):
        def on_run_start(self, run_id: int) -> None:
            raise RuntimeError("ledger offline")

    store = PickyStore("metadata_store", f"sqlite:///{tmp_path}/meta.db", input_retry_backoff=60)
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [data], store)
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "x", "x")
        assert pipeline.wait_for_runs(1, timeout=30)
    run = store.runs.get_runs()[0]
    assert run["status"] == "failed" and "ledger offline" in run["error"]
    assert action.executions() == 0
