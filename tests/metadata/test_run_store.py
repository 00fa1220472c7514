"""The run store (``store.runs`` of a ``SqliteMetadataStore``) on SQLite and on the local PostgreSQL server."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from anacostia_blockchain import SqliteMetadataStore
from anacostia_blockchain.engine import ArtifactState, ExecutionContext, NodeStatus, RunStatus, executing
from anacostia_blockchain.errors import (
    ArtifactNotFoundError,
    ConfigurationError,
    MetadataStoreError,
    MetadataValueError,
    NoActiveRunError,
    RunNotFoundError,
)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def store(store_url: str) -> Iterator[SqliteMetadataStore]:
    store = SqliteMetadataStore("metadata_store", store_url, input_retry_limit=2, input_retry_backoff=30)
    store.open_store()
    yield store
    store.close_store()


def test_metrics_params_tags_roundtrip(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "trainer"):
        store.log_metrics(loss=0.5, accuracy=0.9, step=1)
        store.log_metrics(loss=0.25, step=2)
        store.log_params(lr=0.001, layers=[64, 32], name="mlp")
        store.log_params(lr=0.01)  # replaces
        store.set_tags(stage="dev")
        assert store.runs.get_params() == {"layers": [64, 32], "lr": 0.01, "name": "mlp"}
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    metrics = store.runs.get_metrics(run_id)
    assert [(m["key"], m["value"], m["step"], m["node_name"]) for m in metrics] == [
        ("loss", 0.5, 1, "trainer"), ("accuracy", 0.9, 1, "trainer"), ("loss", 0.25, 2, "trainer")]
    assert [m["value"] for m in store.runs.get_metrics(run_id, key="loss")] == [0.5, 0.25]
    assert store.runs.get_tags(run_id) == {"stage": "dev"}
    assert store.runs.get_run(run_id)["status"] == "success"


def test_log_batch_forms_and_atomicity(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "trainer"):
        store.log_batch(metrics={"a": 1, "b": 2}, params={"p": 1}, tags={"t": "x"}, step=5)
        store.log_batch(metrics=[("c", 3.0), ("c", 4.0, 7)])
        with pytest.raises(MetadataValueError, match="metric 'bad': value must be a real number"):
            store.log_batch(metrics=[("ok", 1.0), ("bad", "NaN-ish")], params={"q": 2})
    assert [(m["key"], m["value"], m["step"]) for m in store.runs.get_metrics(run_id)] == [
        ("a", 1.0, 5), ("b", 2.0, 5), ("c", 3.0, None), ("c", 4.0, 7)]
    assert store.runs.get_params(run_id) == {"p": 1}  # the rejected batch recorded nothing


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.log_metrics(loss=float("nan")), "must be finite"),
        (lambda s: s.log_metrics(loss=True), "must be a real number"),
        (lambda s: s.log_metrics(loss=1.0, step=1.5), "step must be an int"),
        (lambda s: s.log_metrics(), "at least one metric"),
        (lambda s: s.log_params(obj=object()), "not JSON-encodable"),
        (lambda s: s.log_metrics(**{"x" * 300: 1.0}), "at most 250"),
        (lambda s: s.log_batch(metrics=[("a",)]), r"\(key, value\)"),
    ],
)
def test_bad_values_are_rejected(store: SqliteMetadataStore, call: object, message: str) -> None:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "n"), pytest.raises(MetadataValueError, match=message):
        call(store)  # type: ignore[operator]
    assert store.runs.get_metrics(run_id) == [] and store.runs.get_params(run_id) == {}


def test_logging_outside_a_run(store: SqliteMetadataStore) -> None:
    for call in (lambda: store.log_metrics(a=1.0), lambda: store.log_params(a=1), lambda: store.set_tags(a=1),
                 lambda: store.log_batch(metrics={"a": 1.0}), lambda: store.runs.get_params()):
        with pytest.raises(NoActiveRunError):
            call()


def test_active_run_is_used_from_threads_without_context(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    store.log_metrics(from_main=1.0)
    assert store.runs.get_metrics(run_id)[0]["node_name"] is None
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    with pytest.raises(NoActiveRunError):
        store.log_metrics(after=1.0)


def test_concurrent_logging_from_many_threads(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            with executing(run_id, f"node{index}"):
                for step in range(100):
                    store.log_metrics(step=step, value=float(index))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = store.runs.get_metrics(run_id)
    assert len(rows) == 800
    assert {r["node_name"] for r in rows} == {f"node{i}" for i in range(8)}


def test_run_ids_increase_across_reopen(store_url: str) -> None:
    first = SqliteMetadataStore("m", store_url)
    first.open_store()
    ids = [first.runs.begin_run("t", []) for _ in range(3)]
    for run_id in ids:
        first.runs.end_run(run_id, RunStatus.SUCCESS)
    with first.runs.engine.begin() as conn:  # even a deleted newest run's id is never reused
        conn.execute(text("DELETE FROM runs WHERE id = :id"), {"id": ids[-1]})
    first.close_store()
    second = SqliteMetadataStore("m", store_url)
    second.open_store()
    assert second.runs.begin_run("t", []) == ids[-1] + 1
    second.close_store()


def test_artifact_lifecycle_and_input_quarantine(store: SqliteMetadataStore) -> None:
    a = store.runs.record_artifact("data", "a.csv", "aa" * 32, 10, mtime_ns=1)
    assert store.runs.count_artifacts("data", ArtifactState.NEW) == 1
    run1 = store.runs.begin_run("data", ["data"])
    assert store.runs.get_artifact(a.id).state == "current"
    store.runs.end_run(run1, RunStatus.FAILED, "trainer: diverged")
    back = store.runs.get_artifact(a.id)
    assert (back.state, back.attempts) == ("new", 1) and back.retry_at is not None
    assert store.runs.count_artifacts("data", ArtifactState.NEW) == 0  # waiting 30 s for its retry
    assert store.runs.next_input_retry_at(["data"]) == pytest.approx(back.retry_at)
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE artifacts SET retry_at = 0 WHERE id = :id"), {"id": a.id})
    run2 = store.runs.begin_run("data", ["data"])
    store.runs.end_run(run2, RunStatus.FAILED, "trainer: diverged again")
    quarantined = store.runs.get_artifact(a.id)
    assert quarantined.state == "quarantined"
    assert "diverged again" in (quarantined.quarantine_reason or "")
    assert [x.id for x in store.runs.run_artifacts(run1)["consumed"]] == [a.id]  # history kept


def test_new_version_supersedes_and_deletion(store: SqliteMetadataStore) -> None:
    v1 = store.runs.record_artifact("data", "a.csv", "11" * 32, 1)
    v2 = store.runs.record_artifact("data", "a.csv", "22" * 32, 2)
    assert store.runs.get_artifact(v1.id).state == "deleted"
    assert store.runs.present_artifacts("data")["a.csv"].id == v2.id
    assert store.runs.mark_artifacts_deleted("data", ["a.csv", "missing"]) == 1
    assert store.runs.present_artifacts("data") == {}
    with pytest.raises(ArtifactNotFoundError):
        store.runs.get_artifact(9999)
    store.runs.set_artifact_cid(v2.id, "bafy-test")
    assert store.runs.get_artifact(v2.id).cid == "bafy-test"


def test_lineage_and_its_inverse(store: SqliteMetadataStore) -> None:
    store.runs.register_nodes([])
    raw = store.runs.record_artifact("data", "raw.csv", "ab" * 32, 5)
    run_id = store.runs.begin_run("data", ["data"])
    node_run = store.runs.record_node_start(run_id, "trainer", "sha256:code")
    model = store.runs.record_artifact("models", "model.bin", "cd" * 32, 9, state=ArtifactState.CURRENT,
                                  produced=ExecutionContext(run_id, "trainer"))
    store.runs.record_node_end(node_run, NodeStatus.SUCCESS)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    lineage = store.runs.lineage(model)
    assert lineage is not None
    assert lineage["run"]["id"] == run_id and lineage["node"] == "trainer"
    assert lineage["code_fingerprint"] == "sha256:code"
    assert [a.id for a in lineage["inputs"]] == [raw.id]
    assert store.runs.lineage(raw) is None
    assert [a.id for a in store.runs.derived_artifacts(raw)] == [model.id]
    assert store.runs.get_artifact(model.id).state == "old"


def test_export_run_is_plain_json(store: SqliteMetadataStore) -> None:
    store.runs.record_artifact("data", "raw.csv", "ab" * 32, 5)
    run_id = store.runs.begin_run("data", ["data"])
    with executing(run_id, "trainer"):
        store.log_metrics(loss=0.1)
        store.log_params(lr=0.1)
        store.set_tags(owner="ml")
    store.runs.record_node_result(run_id, "evaluator", NodeStatus.SKIPPED, "sha256:e", "ancestor failed")
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.runs.set_run_hash(run_id, "0x" + "ef" * 32)
    exported = json.loads(json.dumps(store.runs.export_run(run_id)))
    assert exported["run"]["hash"] == "0x" + "ef" * 32
    assert exported["metrics"][0]["key"] == "loss" and exported["params"] == {"lr": 0.1}
    assert exported["tags"] == {"owner": "ml"}
    assert exported["nodes"][0]["status"] == "skipped"
    assert exported["artifacts"]["consumed"][0]["location"] == "raw.csv"
    assert exported["lineage"] == [{"artifact_id": 1, "relation": "consumed", "node_name": None}]
    with pytest.raises(RunNotFoundError):
        store.runs.export_run(999)
    with pytest.raises(RunNotFoundError):
        store.runs.end_run(999, RunStatus.SUCCESS)


def test_newer_schema_is_refused(store_url: str) -> None:
    store = SqliteMetadataStore("m", store_url)
    store.open_store()
    with store.runs.engine.begin() as conn:
        conn.execute(text("UPDATE anacostia_schema SET version = 99"))
    store.close_store()
    again = SqliteMetadataStore("m", store_url)
    with pytest.raises(MetadataStoreError, match="schema version 99, newer"):
        again.open_store()
    again.close_store()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = SqliteMetadataStore("m", f"sqlite:///{tmp_path}/deep/er/meta.db")
    store.open_store()
    with store.runs.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    store.close_store()


def test_in_memory_sqlite_is_shared_across_threads() -> None:
    store = SqliteMetadataStore("m", "sqlite://")
    store.open_store()
    run_id = store.runs.begin_run("t", [])
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(len(store.runs.get_runs())))
    thread.start()
    thread.join()
    assert seen == [1] and run_id == 1
    store.close_store()


def test_bad_urls_and_unreachable_servers() -> None:
    with pytest.raises(ConfigurationError, match="not a database URL"):
        SqliteMetadataStore("m", "not a url")
    with pytest.raises(ConfigurationError, match="cannot use database URL"):
        SqliteMetadataStore("m", "nosuchdb://x/y")
    store = SqliteMetadataStore("m", "postgresql://postgres:s3cret@127.0.0.1:1/none")
    assert "s3cret" not in repr(store) and "***" in repr(store)
    with pytest.raises(MetadataStoreError, match="database error") as info:
        store.open_store()
    assert "s3cret" not in str(info.value)
    assert info.value.__cause__ is not None
    with pytest.raises(ConfigurationError):
        SqliteMetadataStore("m", "sqlite://", input_retry_limit=0)


def test_bulk_record_supersedes_like_single_records(store: SqliteMetadataStore) -> None:
    old = store.runs.record_artifact("data", "f-1", "00" * 32, 1)
    count = store.runs.record_artifacts("data", [(f"f-{i}", f"{i:064x}", i, i) for i in range(1200)],
                                   state=ArtifactState.OLD)
    assert count == 1200 and store.runs.record_artifacts("data", []) == 0
    assert store.runs.get_artifact(old.id).state == "deleted"
    present = store.runs.present_artifacts("data")
    assert len(present) == 1200 and present["f-1"].sha256 == f"{1:064x}"
    assert store.runs.count_artifacts("data", ArtifactState.OLD) == 1200


def test_batch_fast_path_and_general_path_record_the_same(store: SqliteMetadataStore) -> None:
    run_id = store.runs.begin_run("manual", [])
    triples = [("loss", 0.5, 1), ("loss", 0.25, None)]
    for node in ("trainer-1", "o'brien; DROP TABLE metrics; --", None):
        with executing(run_id, node):  # type: ignore[arg-type]
            store.log_batch(metrics=triples)  # plain triples: handed to the driver as they are
            store.log_batch(metrics=[list(t) for t in triples])  # lists: the general path
    rows = [(m["node_name"], m["key"], m["value"], m["step"]) for m in store.runs.get_metrics(run_id)]
    expected = []
    for node in ("trainer-1", "o'brien; DROP TABLE metrics; --", None):
        expected += [(node, "loss", 0.5, 1), (node, "loss", 0.25, None)] * 2
    assert rows == expected
    with executing(run_id, "n"), pytest.raises(MetadataValueError, match="must be finite"):
        store.log_batch(metrics=[("loss", 1.0, 1), ("loss", float("inf"), 2)])
