"""``anacostia-chain run --metrics-port PORT`` (or ``ANACOSTIA_METRICS_PORT``): a pipeline process without the
marketplace serves its metrics while it runs; scraped from the real console script with prometheus-client's parser."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from anacostia_blockchain.chain.dev import free_port

CLI = str(Path(sys.executable).with_name("anacostia-chain"))
PIPELINE = textwrap.dedent(
    """
    import os
    from pathlib import Path

    from anacostia_blockchain import BaseActionNode, Pipeline, SqliteMetadataStore
    from anacostia_blockchain.nodes import MonitoringDataStoreNode

    WORK = Path(os.environ["RUN_TEST_DIR"])


    class Count(BaseActionNode):
        def __init__(self, name, predecessors, metadata_store):
            self.metadata_store = metadata_store
            super().__init__(name, predecessors)

        def execute(self, *args, **kwargs) -> bool:
            self.metadata_store.log_metrics(files=len(self.predecessors[0].current_inputs()))
            return True


    def build_pipeline():
        store = SqliteMetadataStore("metadata_store", f"sqlite:///{WORK / 'metadata.db'}")
        folder = MonitoringDataStoreNode("data_store", WORK / "data", store, create=True)
        return Pipeline(nodes=[store, folder, Count("count", [folder], store)])
    """
)


def successful_runs(port: int) -> float | None:
    """``anacostia_runs{status="success"}`` of the endpoint, ``None`` while it does not answer or has no run yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except (urllib.error.URLError, ConnectionError):
        return None
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "anacostia_runs" and sample.labels.get("status") == "success":
                return sample.value
    return None


@pytest.mark.parametrize("how", ["option", "environment"])
def test_a_running_pipeline_serves_its_metrics(tmp_path: Path, how: str) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "batch-1.txt").write_text("one")
    module = tmp_path / "count.py"
    module.write_text(PIPELINE)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANACOSTIA_")} | {"RUN_TEST_DIR": str(tmp_path)}
    args = [CLI, "run", str(module)]
    if how == "option":
        args += ["--metrics-port", str(port)]
    else:
        env["ANACOSTIA_METRICS_PORT"] = str(port)
    process = subprocess.Popen(args, cwd=tmp_path, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while successful_runs(port) != 1:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the endpoint never showed the run"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert f"metrics on http://127.0.0.1:{port}/metrics" in err
    assert successful_runs(port) is None  # the server stopped with the pipeline
