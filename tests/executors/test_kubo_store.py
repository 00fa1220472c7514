"""Tasks reading and writing through a Kubo RPC URL (the shared store of a cluster spanning machines): a real
offline js-ipfs daemon speaking ``/api/v0`` (tests/ipfs/jsipfs_daemon.py). Workers open the store from its URL, the
coordinator verifies each output through the same daemon before recording it."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.executors import LocalExecutor, store_config
from anacostia_blockchain.ipfs import KuboClient

from .kit import build, drop
from .work_fns import upper

pytestmark = pytest.mark.slow


def _daemon_module() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "ipfs" / "jsipfs_daemon.py"
    spec = importlib.util.spec_from_file_location("executors_jsipfs_daemon", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def kubo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    daemon = _daemon_module().JsIpfsDaemon(tmp_path_factory.mktemp("jsipfs") / "repo")
    try:
        yield str(daemon.url)
    finally:
        daemon.stop()


def test_tasks_read_and_write_through_a_kubo_rpc_url(tmp_path: Path, kubo_url: str) -> None:
    executor = LocalExecutor(2)
    kit = build(tmp_path, upper, executor, output_store=kubo_url)
    assert store_config(kit.out.store) == kubo_url  # what the tasks were told
    for index in range(3):
        drop(tmp_path / "data", f"f{index}.txt", f"via kubo {index}")
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 60)
    assert kit.store.runs.get_runs()[0]["status"] == "success", kit.store.runs.get_node_runs(1)
    with KuboClient(kubo_url) as daemon:
        pinned = {str(cid) for cid in daemon.pins()}
        for artifact in kit.store.runs.present_artifacts("out").values():
            assert daemon.has(str(artifact.cid)) and str(artifact.cid) in pinned  # stored there, pinned
    assert kit.outputs() == {f"f{i}.txt.up": f"VIA KUBO {i}".encode() for i in range(3)}
    assert executor.submitted == 3


def test_a_store_url_with_credentials_is_never_sent_to_workers() -> None:
    for store in (KuboClient("http://127.0.0.1:5001", auth=("user", "secret")),
                  KuboClient("http://user:secret@127.0.0.1:5001"), KuboClient("http://127.0.0.1:5001?token=secret")):
        with pytest.raises(ConfigurationError, match="never sent to them") as caught:
            store_config(store)
        assert "secret" not in str(caught.value)
