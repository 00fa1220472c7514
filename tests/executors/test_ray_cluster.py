"""RayExecutor on a real two-node Ray cluster (one per test session, see conftest): tasks in other processes on both
nodes, the same cache keys as the thread executor, task resources and runtime_env, a fresh process joining through
Ray Client (``RAY_ADDRESS``) or ``"auto"``, a failing datum, a worker killed mid-task, cancellation, an unreachable
address."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from anacostia_blockchain.errors import ExecutorUnavailableError
from anacostia_blockchain.executors import LocalExecutor, RayExecutor
from anacostia_blockchain.metadata.schema import executions

from .cluster import TESTS, RayCluster, descendants, free_port, worker_env
from .kit import DatumPipeline, build, drop, wait_until
from .work_fns import die_once, fail_on_bad, upper, upper_with_env, wait_then_mark

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ray_cluster")]


def unit_keys(kit: DatumPipeline) -> dict[str, tuple[str, str]]:
    """``{unit: (cache key, code fingerprint)}`` of the executed units."""
    with kit.store.runs.engine.connect() as conn:
        rows = conn.execute(select(executions.c.unit, executions.c.cache_key, executions.c.fingerprint)
                            .where(executions.c.unit.isnot(None), executions.c.status == "success")).all()
    return {row.unit: (row.cache_key, row.fingerprint) for row in rows}


def test_tasks_run_in_worker_processes_on_both_nodes_with_the_keys_of_a_local_execution(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    executor = RayExecutor(ray_cluster.address)
    remote = build(tmp_path / "ray", upper, executor, params={"seconds": 1.0})
    local = build(tmp_path / "local", upper, LocalExecutor(2), params={"seconds": 1.0})
    for kit, folder in ((remote, tmp_path / "ray"), (local, tmp_path / "local")):
        for index in range(4):
            drop(folder / "data", f"f{index}.txt", f"row {index}")
        with kit.pipeline as pipeline:
            assert pipeline.wait_for_runs(1, 120)
        assert kit.store.runs.get_runs()[0]["status"] == "success", kit.store.runs.get_node_runs(1)
    assert executor.submitted == 4 and executor.capacity == 2
    pids = {m["value"] for m in remote.store.runs.get_metrics(key="pid")}
    assert float(os.getpid()) not in pids and len(pids) >= 2  # other processes, both CPUs (one per node) used
    raylets = {int(m["value"]) for m in remote.store.runs.get_metrics(key="ppid")}  # the worker processes' parents
    head, second = (set(descendants([process.pid])) for process in ray_cluster.processes[:2])
    assert raylets & head and raylets & second  # tasks ran on the head node and on the worker node
    assert remote.outputs() == local.outputs() == {f"f{i}.txt.up": f"ROW {i}".encode() for i in range(4)}
    assert unit_keys(remote) == unit_keys(local)  # same cache keys, same code fingerprint, wherever it ran


def test_a_worker_killed_mid_task_is_retried(tmp_path: Path, ray_cluster: RayCluster) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    kit = build(tmp_path, die_once, RayExecutor(ray_cluster.address, max_retries=1), params={"markers": str(markers)})
    drop(tmp_path / "data", "a.txt", "abc")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    assert kit.store.runs.get_runs()[0]["status"] == "success"
    killed = float((markers / "a.txt").read_text())
    assert [m["value"] for m in kit.store.runs.get_metrics(key="pid")] != [killed]  # a second worker finished it
    assert kit.outputs() == {"a.txt.up": b"ABC"}


def test_a_worker_killed_with_no_retries_left_fails_the_node_naming_the_datum(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    kit = build(tmp_path, die_once, RayExecutor(ray_cluster.address, max_retries=0), params={"markers": str(markers)})
    drop(tmp_path / "data", "a.txt", "abc")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    node = kit.store.runs.get_node_runs(1)[0]
    assert node["status"] == "error"
    assert "data:a.txt: WorkerLostError: the worker running it died (0 retries spent)" in node["error"]
    assert kit.outputs() == {}


def test_a_datum_whose_work_raises_fails_the_node_naming_it(
    tmp_path: Path, ray_cluster: RayCluster
) -> None:
    executor = RayExecutor(ray_cluster.address, max_retries=2)
    kit = build(tmp_path, fail_on_bad, executor)
    drop(tmp_path / "data", "good.txt", "fine")
    drop(tmp_path / "data", "broken.txt", "bad input")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    node = kit.store.runs.get_node_runs(1)[0]
    assert node["status"] == "error"
    assert "data:broken.txt: TaskFailedError: ValueError: cannot process broken.txt" in node["error"]
    assert kit.outputs() == {"good.txt.up": b"FINE"}
    assert executor.submitted == 2  # one task per datum; the exception came back as the task's result


def test_stopping_the_pipeline_cancels_the_tasks_in_flight(tmp_path: Path, ray_cluster: RayCluster) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    kit = build(tmp_path, wait_then_mark, RayExecutor(ray_cluster.address),
                params={"markers": str(markers), "seconds": 4})
    for index in range(4):
        drop(tmp_path / "data", f"f{index}.txt", f"{index}")
    kit.pipeline.launch()
    try:
        wait_until(lambda: len(list(markers.glob("*.started"))) == 2, 120, "two tasks to start")
    finally:
        kit.pipeline.terminate()
    assert kit.store.runs.get_runs()[0]["status"] == "aborted"
    started = list(markers.glob("*.started"))
    finish_by = max(path.stat().st_mtime for path in started) + 4 + 1  # when an uncancelled task would be done
    time.sleep(max(0.0, finish_by - time.time()))
    assert len(started) == 2 and not list(markers.glob("*.done"))  # cancelled mid-task; the others never started
    assert kit.outputs() == {}


def test_ray_address_in_the_environment_joins_that_cluster(
    tmp_path: Path, ray_cluster: RayCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAY_ADDRESS", ray_cluster.address)
    executor = RayExecutor()
    assert executor.describe() == f"the Ray cluster at {ray_cluster.address}"
    kit = build(tmp_path, upper, executor)
    drop(tmp_path / "data", "a.txt", "abc")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    assert executor.capacity == 2 and kit.outputs() == {"a.txt.up": b"ABC"}


def test_an_unreachable_cluster_fails_the_launch_naming_its_address(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    kit = build(tmp_path, upper, RayExecutor(address))
    with pytest.raises(ExecutorUnavailableError, match=rf"cannot reach the Ray cluster at {address}: "):
        kit.pipeline.launch()
    assert kit.pipeline.state == "terminated"


def test_task_resources_and_runtime_env_reach_the_tasks(tmp_path: Path, ray_cluster: RayCluster) -> None:
    executor = RayExecutor(ray_cluster.address, resources={"second_node": 1},
                           runtime_env={"env_vars": {"ANACOSTIA_TASK_MARK": "from-runtime-env"}})
    kit = build(tmp_path, upper_with_env, executor)
    for index in range(2):
        drop(tmp_path / "data", f"f{index}.txt", f"row {index}")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    assert kit.outputs() == {f"f{i}.txt.up": f"ROW {i}|from-runtime-env".encode() for i in range(2)}
    on_second_node = set(descendants([ray_cluster.processes[1].pid]))  # the worker node's `ray start` and below
    pids = {int(m["value"]) for m in kit.store.runs.get_metrics(key="pid")}
    assert pids and pids <= on_second_node  # only the node with the `second_node` resource ran them


@pytest.mark.parametrize("how", ["RAY_ADDRESS=ray://", "auto"])
def test_a_fresh_process_joins_the_running_cluster(tmp_path: Path, ray_cluster: RayCluster, how: str) -> None:
    """Through Ray Client with the address in ``RAY_ADDRESS``, or ``RayExecutor("auto")`` finding the cluster started
    on this machine (its address file, in the temp dir ``RAY_TMPDIR`` points at)."""
    for index in range(2):
        drop(tmp_path / "data", f"f{index}.txt", f"row {index}")
    env = {key: value for key, value in worker_env().items() if key != "RAY_ADDRESS"}
    if how == "auto":
        env["RAY_TMPDIR"], args, described = str(ray_cluster.temp_dir.parent), ["auto"], "auto"
    else:
        env["RAY_ADDRESS"], args, described = ray_cluster.client_address, [], ray_cluster.client_address
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("join_driver.py")), str(tmp_path), *args],
                          capture_output=True, env=env, cwd=TESTS, timeout=180, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-3000:]
    summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert summary["status"] == "success", summary["error"]
    assert summary["describe"] == f"the Ray cluster at {described}" and summary["capacity"] == 2
    cluster_pids = set(descendants([process.pid for process in ray_cluster.processes]))
    assert summary["ppids"] and {int(pid) for pid in summary["ppids"]} <= cluster_pids  # workers of its raylets
    assert summary["driver_pid"] not in cluster_pids and summary["driver_pid"] not in summary["pids"]
    assert summary["outputs"] == {f"f{i}.txt.up": f"ROW {i}" for i in range(2)}
