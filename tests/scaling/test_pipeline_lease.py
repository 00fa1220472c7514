"""Pipelines sharing one database: scoped runs and artifacts, one lease per pipeline, fencing of a stalled owner.

Real SQLite files and PostgreSQL schemas; the stalled owner is a real process stopped with SIGSTOP.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from anacostia_blockchain.engine import ArtifactState, RunStatus, executing
from anacostia_blockchain.errors import PipelineLeaseError, PipelineStateError
from anacostia_blockchain.metadata import RunStore, SqlMetadataStore

HOLDER = Path(__file__).with_name("lease_holder.py")
SHA_A, SHA_B = "a" * 64, "b" * 64


def opened(url: str, pipeline: str | None, **options: object) -> RunStore:
    store = RunStore(url, name=f"store-{pipeline}", pipeline=pipeline, **options)  # type: ignore[arg-type]
    store.open()
    return store


def test_a_second_store_of_a_running_pipeline_is_refused_naming_the_holder(db_url: str) -> None:
    first = opened(db_url, "training")
    second = RunStore(db_url, name="again", pipeline="training")
    other = opened(db_url, "publishing")  # another pipeline on the same database: no conflict
    try:
        with pytest.raises(PipelineLeaseError, match=r"pipeline 'training' is already running on this database "
                           rf"\(process {os.getpid()} on host .*standby=True.*pipeline='\.\.\.'") as caught:
            second.open()
        assert caught.value.pipeline == "training" and f"process {os.getpid()}" in str(caught.value.holder)
        first.close()  # a graceful stop releases the lease: the next process takes it at once
        assert second.open() == []
    finally:
        for store in (first, second, other):
            store.close()


def test_a_standby_waits_and_takes_over_when_the_active_store_closes(db_url: str) -> None:
    active = opened(db_url, "training", lease_ttl=30)
    run_id = active.begin_run("manual", [])
    standby = RunStore(db_url, name="standby", pipeline="training", standby=True, lease_ttl=30)
    recovered: list[list[int]] = []
    waiter = threading.Thread(target=lambda: recovered.append(standby.open()))
    waiter.start()
    try:
        waiter.join(1.0)
        assert waiter.is_alive() and not recovered  # the active store holds the lease (30 s ttl): it waits
        active.close()  # stopped mid-run, lease released
        waiter.join(30)
        assert recovered == [[run_id]]
        assert standby.get_run(run_id)["status"] == "aborted"
    finally:
        active.close()
        standby.close()
        waiter.join(30)


def test_closing_a_waiting_standby_ends_its_wait_with_a_clear_error(db_url: str) -> None:
    active = opened(db_url, "training", lease_ttl=30)
    standby = RunStore(db_url, name="standby", pipeline="training", standby=True, lease_ttl=30)
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            standby.open()
        except PipelineStateError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=wait)
    waiter.start()
    try:
        waiter.join(0.5)
        standby.close()
        waiter.join(30)
        assert not waiter.is_alive()
        assert "closed while waiting as the standby of 'training'" in str(errors[0])
    finally:
        active.close()


def test_runs_artifacts_and_queries_are_scoped_by_pipeline(db_url: str) -> None:
    alpha, beta = opened(db_url, "alpha"), opened(db_url, "beta")
    reader = RunStore(db_url)  # no pipeline: reads every pipeline, holds no lease
    try:
        alpha.record_artifact("data", "x.csv", SHA_A, 1)
        beta.record_artifact("data", "x.csv", SHA_B, 2)  # same resource and location, another pipeline
        assert [a.sha256 for a in alpha.list_artifacts("data")] == [SHA_A]
        run_a = alpha.begin_run("data", ["data"])
        assert beta.count_artifacts("data", ArtifactState.NEW) == 1  # alpha's run took only alpha's input
        run_b = beta.begin_run("data", ["data"])
        with executing(run_a, "train") as context:
            alpha.log_metrics(context, {"loss": 0.5})
        with executing(run_b, "train") as context:
            beta.log_metrics(context, {"loss": 0.9})
        alpha.end_run(run_a, RunStatus.SUCCESS)
        assert [r["id"] for r in alpha.get_runs()] == [run_a] and [r["id"] for r in beta.get_runs()] == [run_b]
        assert alpha.run_counts() == {"success": 1} and beta.run_counts() == {"running": 1}
        assert [m["value"] for m in alpha.get_metrics()] == [0.5]
        assert {a.state for a in beta.list_artifacts("data")} == {ArtifactState.CURRENT}
        assert sorted(r["id"] for r in reader.get_runs()) == sorted([run_a, run_b])
        assert "pipeline" not in reader.get_run(run_a)  # run records (and manifests) keep their fields
        assert reader.open() == [] and beta.get_run(run_b)["status"] == "running"  # a reader recovers nothing
        alpha.close()
        alpha = opened(db_url, "alpha")  # a restarted alpha recovers nothing of beta's
        assert beta.get_run(run_b)["status"] == "running"
    finally:
        for store in (alpha, beta, reader):
            store.close()


def test_nodes_of_two_pipelines_may_share_names(db_url: str) -> None:
    alpha = SqlMetadataStore("metadata", db_url, pipeline="alpha")
    beta = SqlMetadataStore("metadata", db_url, pipeline="beta")
    alpha.open_store()
    beta.open_store()
    try:
        alpha.runs.register_nodes([alpha])
        beta.runs.register_nodes([beta])  # the same node name in another pipeline
        with alpha.runs.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT pipeline, name FROM nodes ORDER BY pipeline").all()
        assert [tuple(row) for row in rows] == [("alpha", "metadata"), ("beta", "metadata")]
    finally:
        alpha.close_store()
        beta.close_store()


def test_a_stalled_owner_is_taken_over_and_fenced_out(db_url: str) -> None:
    holder = subprocess.Popen([sys.executable, str(HOLDER), db_url, "training", "4"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert holder.stdout is not None and holder.stdin is not None
    new_owner = RunStore(db_url, name="new", pipeline="training", standby=True, lease_ttl=4)
    try:
        line = holder.stdout.readline()
        assert line.startswith("ready"), line
        run_id = int(line.split()[1])
        holder.send_signal(signal.SIGSTOP)  # alive, but stalled: its heartbeat stops
        with pytest.raises(PipelineLeaseError):
            RunStore(db_url, name="eager", pipeline="training").open()  # its lease has not expired yet
        assert new_owner.open() == [run_id]  # the standby waits for the expiry, then recovers the run
        assert new_owner.get_run(run_id)["status"] == "aborted"
        holder.send_signal(signal.SIGCONT)
        holder.stdin.write("go\n")
        holder.stdin.flush()
        assert holder.stdout.readline().startswith("lost: pipeline 'training': this process's lease expired")
        assert holder.wait(30) == 0
        assert new_owner.get_run(run_id)["status"] == "aborted"  # the old owner's end_run wrote nothing
        assert [a.state for a in new_owner.list_artifacts("data")] == [ArtifactState.NEW]
        assert new_owner.begin_run("data", ["data"]) > run_id  # the input is this owner's to process again
    finally:
        if holder.poll() is None:
            holder.send_signal(signal.SIGCONT)
            holder.kill()
        holder.wait(30)
        new_owner.close()


def test_the_lease_of_a_crashed_process_on_this_host_is_taken_over_at_once(db_url: str) -> None:
    holder = subprocess.Popen([sys.executable, str(HOLDER), db_url, "training", "600"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert holder.stdout is not None
    line = holder.stdout.readline()
    assert line.startswith("ready"), line
    holder.kill()  # a crash: the lease row stays, valid for ten more minutes
    holder.wait(30)
    restarted = RunStore(db_url, name="restarted", pipeline="training", lease_ttl=600)
    try:
        assert restarted.open() == [int(line.split()[1])]  # no standby, no wait: its holder's pid is gone
    finally:
        restarted.close()
