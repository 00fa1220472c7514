"""The embedded default (``RayExecutor()`` with no address starts Ray inside the pipeline's process), and that Ray
lost mid-run: the run fails naming it, its input returns to ``new``, nothing is recorded twice.

The pipeline runs in a subprocess (this test process already joined the session's cluster; one Ray per process).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from anacostia_blockchain.engine import ArtifactState
from anacostia_blockchain.errors import MetadataStoreError
from anacostia_blockchain.metadata import RunStore

from .cluster import TESTS, cmdline, descendants, worker_env
from .kit import drop, wait_until

pytestmark = pytest.mark.slow
DRIVER = Path(__file__).with_name("ray_driver.py")


def test_the_embedded_ray_runs_tasks_and_losing_it_fails_the_run_without_recording_twice(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    (tmp_path / "markers").mkdir()
    env = {key: value for key, value in worker_env().items() if key != "RAY_ADDRESS"}
    log = open(tmp_path / "driver.log", "wb")  # noqa: SIM115 - closed below
    driver = subprocess.Popen([sys.executable, str(DRIVER), url, str(tmp_path)], stdout=log, stderr=subprocess.STDOUT,
                              env=env, cwd=TESTS)
    runs = RunStore(url, pipeline="metadata")
    try:
        drop(tmp_path / "data", "a.txt", "fast")
        wait_until(lambda: _statuses(runs) == ["success"], 240, "the first run on the embedded Ray")
        pids = {m["value"] for m in runs.get_metrics(key="pid")}
        assert pids and pids.isdisjoint({float(driver.pid), float(os.getpid())})  # Ray's worker processes
        drop(tmp_path / "data", "b.txt", "slow")
        wait_until(lambda: (tmp_path / "markers" / "b.txt.started").exists(), 120, "the slow task to start")
        embedded = [pid for pid in descendants([driver.pid])
                    if "gcs_server" in cmdline(pid) or "raylet" in cmdline(pid)]
        assert embedded, "the embedded Ray runs below the pipeline's process"
        for pid in embedded:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: _statuses(runs) == ["success", "failed"], 120, "the run to fail")
        run = runs.get_runs()[1]
        assert "data:b.txt: ExecutorUnavailableError: lost the embedded Ray" in str(run["error"])
        b = [a for a in runs.list_artifacts("data") if a.location == "b.txt"]
        assert [(a.state, a.attempts) for a in b] == [(ArtifactState.NEW, 1)]  # back to new, to be retried
        outputs = runs.list_artifacts("out")
        assert [a.location for a in outputs] == ["a.txt.up"]  # the first run's output, recorded once
        assert driver.poll() is None  # the pipeline outlives its cluster
    finally:
        runs.close()
        driver.send_signal(signal.SIGTERM)
        try:
            driver.wait(90)
        finally:
            if driver.poll() is None:
                driver.kill()
            log.close()
    assert driver.returncode == 0, (tmp_path / "driver.log").read_text()[-3000:]


def _statuses(runs: RunStore) -> list[str]:
    try:
        return [str(run["status"]) for run in runs.get_runs()]
    except MetadataStoreError:  # the pipeline has not created its tables yet
        return []
