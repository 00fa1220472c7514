"""The statements every run executes cost the same however much history the database holds.

The cost of a statement is counted in SQLite virtual-machine steps (a progress handler on every connection of the
store's engine): deterministic, unlike a timing, and proportional to the rows a statement visits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text

from anacostia_blockchain.engine import ArtifactState, ExecutionContext, ExecutionSpec, NodeStatus, RunStatus
from anacostia_blockchain.engine.fingerprint import fingerprint_of
from anacostia_blockchain.metadata import RunStore


class _Trainer:
    """A node class to fingerprint."""


class _StepCounter:
    """Counts SQLite VM steps on every connection of an engine (one call of the handler per ``granularity``)."""

    granularity = 10

    def __init__(self, store: RunStore) -> None:
        self.steps = 0
        event.listen(store.engine, "connect", self._install)
        store.engine.dispose()  # connections made from now on count

    def _install(self, dbapi_connection: object, _record: object) -> None:
        dbapi_connection.set_progress_handler(self._tick, self.granularity)  # type: ignore[attr-defined]

    def _tick(self) -> int:
        self.steps += self.granularity
        return 0

    def cost(self, call: object) -> int:
        before = self.steps
        call()  # type: ignore[operator]
        return self.steps - before


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    runs = RunStore(f"sqlite:///{tmp_path}/meta.db", pipeline="p")
    runs.open()
    yield runs
    runs.close()


def _executed_runs(store: RunStore, count: int, spec: ExecutionSpec) -> int:
    """``count`` runs whose node executed with ``spec``, logged values and was not reusable (it saved nothing)."""
    run_id = 0
    for _ in range(count):
        run_id = store.begin_run("manual", [])
        execution = store.begin_execution(run_id, spec)
        context = ExecutionContext(run_id, spec.node_name, execution_id=execution)
        store.log_batch(context, metrics=[("loss", 0.5, step) for step in range(3)], params={"lr": 0.1})
        store.end_execution(execution, NodeStatus.SUCCESS, reusable=False)
        store.end_run(run_id, RunStatus.SUCCESS)
    return run_id


def test_the_cache_lookup_does_not_read_the_non_reusable_executions_of_its_key(store: RunStore) -> None:
    spec = ExecutionSpec.build("train", fingerprint_of(_Trainer), {}, [])
    counter = _StepCounter(store)
    _executed_runs(store, 5, spec)
    store.find_reusable([spec.key])  # first use: connection set-up is not the lookup
    few = counter.cost(lambda: store.find_reusable([spec.key]))
    _executed_runs(store, 400, spec)
    many = counter.cost(lambda: store.find_reusable([spec.key]))
    assert store.find_reusable([spec.key]) == {}
    assert many <= few * 1.5, f"lookup cost grew from {few} to {many} VM steps with 400 more executions of the key"


def test_reading_one_run_does_not_visit_the_other_runs_of_the_pipeline(store: RunStore) -> None:
    spec = ExecutionSpec.build("train", fingerprint_of(_Trainer), {}, [])
    counter = _StepCounter(store)
    first = _executed_runs(store, 1, spec)
    store.get_metrics(first)
    few = counter.cost(lambda: (store.get_metrics(first), store.get_param_rows(first), store.export_run(first)))
    _executed_runs(store, 400, spec)
    many = counter.cost(lambda: (store.get_metrics(first), store.get_param_rows(first), store.export_run(first)))
    assert many <= few * 1.5, f"reading one run grew from {few} to {many} VM steps with 400 more runs"


def test_an_existing_database_gains_the_indexes_it_lacks_when_a_store_opens_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/meta.db"
    first = RunStore(url, pipeline="p")
    first.open()
    with first.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_executions_reusable"))
        conn.execute(text("DROP INDEX ix_artifacts_resource_state"))
    first.close()
    assert "ix_executions_reusable" not in {i["name"] for i in inspect(first.engine).get_indexes("executions")}

    reopened = RunStore(url, pipeline="p")
    reopened.open()
    try:
        indexes = inspect(reopened.engine)
        assert {"ix_executions_reusable", "ix_executions_run"} <= {i["name"] for i in indexes.get_indexes("executions")}
        assert "ix_artifacts_resource_state" in {i["name"] for i in indexes.get_indexes("artifacts")}
        run_id = reopened.begin_run("manual", [])
        assert reopened.count_artifacts("data", ArtifactState.NEW) == 0
        reopened.end_run(run_id, RunStatus.SUCCESS)
    finally:
        reopened.close()
