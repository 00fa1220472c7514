"""execute() and signals, store hooks, idle behaviour, code fingerprints and the execution context."""

from __future__ import annotations

import importlib.util
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from engine_testkit import RecordingAction, simple_pipeline, write_file

from anacostia_blockchain import FilesystemStoreNode, Pipeline, RunStatus, SqliteMetadataStore
from anacostia_blockchain.engine import code_fingerprint, current_execution
from anacostia_blockchain.errors import PipelineError


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_execute_blocks_until_a_signal_then_stops_gracefully(tmp_path: Path, signum: int) -> None:
    pipeline, store, _, action = simple_pipeline(tmp_path)

    def drive() -> None:
        write_file(tmp_path / "data" / "a", "a")
        if pipeline.wait_for_runs(1, timeout=10):
            os.kill(os.getpid(), signum)

    previous = signal.getsignal(signum)
    threading.Thread(target=drive, daemon=True).start()
    pipeline.execute()  # returns (no KeyboardInterrupt, no exit) once the signal arrived
    assert pipeline.state == "terminated"
    assert signal.getsignal(signum) is previous
    assert [r["status"] for r in store.runs.get_runs()] == ["success"]
    assert not action.is_alive()


def test_store_hooks_see_persisted_state(tmp_path: Path) -> None:
    events: list[tuple[str, object]] = []

    class HookedStore(SqliteMetadataStore):
        def on_start(self) -> None:
            events.append(("start", None))

        def on_run_start(self, run_id: int) -> None:
            events.append(("run_start", self.runs.get_run(run_id)["status"]))

        def on_run_end(self, run_id: int, status: RunStatus) -> None:
            events.append(("run_end", (status, self.runs.export_run(run_id)["run"]["status"])))

        def on_stop(self) -> None:
            events.append(("stop", None))

    store = HookedStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [data], store)
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "a", "a")
        assert pipeline.wait_for_runs(1, timeout=10)
    assert events == [("start", None), ("run_start", "running"), ("run_end", ("success", "success")),
                      ("stop", None)]


def test_idle_pipeline_uses_no_cpu(tmp_path: Path) -> None:
    pipeline, *_ = simple_pipeline(tmp_path)
    with pipeline:
        time.sleep(0.2)
        cpu_before, wall_before = time.process_time(), time.monotonic()
        time.sleep(1.0)
        cpu = time.process_time() - cpu_before
        wall = time.monotonic() - wall_before
    assert cpu / wall < 0.02  # generous bound for a shared machine; the benchmark reports the real figure


def _load_class(path: Path, body: str) -> type:
    path.write_text(
        "from anacostia_blockchain import BaseActionNode\n\n"
        "class Trainer(BaseActionNode):\n"
        "    def execute(self, *args, **kwargs):\n"
        f"        {body}\n"
    )
    spec = importlib.util.spec_from_file_location("fingerprint_probe", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Trainer


def test_fingerprint_follows_the_class_source(tmp_path: Path) -> None:
    v1 = _load_class(tmp_path / "v1.py", "return True")
    v1_again = _load_class(tmp_path / "v1b.py", "return True")
    v2 = _load_class(tmp_path / "v2.py", "return False")
    assert code_fingerprint(v1) == code_fingerprint(v1_again)
    assert code_fingerprint(v1) != code_fingerprint(v2)
    assert code_fingerprint(v1).startswith("sha256:") and len(code_fingerprint(v1)) == 71


def test_execution_context_is_set_only_inside_execute(tmp_path: Path) -> None:
    seen: list[object] = []

    def capture(node: RecordingAction) -> bool:
        seen.append(current_execution())
        return True

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("capture", [data], store, behaviour=capture)
    with Pipeline([store, data, action]) as pipeline:
        write_file(tmp_path / "data" / "a", "a")
        assert pipeline.wait_for_runs(1, timeout=10)
        assert current_execution() is None
        assert store.current_run_id is None
    assert [(c.run_id, c.node_name) for c in seen] == [(1, "capture")]  # type: ignore[attr-defined]


def test_an_action_can_terminate_its_own_pipeline(tmp_path: Path) -> None:
    holder: list[Pipeline] = []

    def stop_everything(node: RecordingAction) -> bool:
        holder[0].terminate()  # returns at once; the shutdown finishes on a helper thread
        return True

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("stopper", [data], store, behaviour=stop_everything)
    pipeline = Pipeline([store, data, action])
    holder.append(pipeline)
    pipeline.launch()
    write_file(tmp_path / "data" / "a", "a")
    assert pipeline.wait_for_runs(1, timeout=10)
    action.join(10)
    deadline = time.monotonic() + 10
    while pipeline.state != "terminated" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pipeline.state == "terminated"
    assert [r["status"] for r in store.runs.get_runs()] == ["success"]


def test_a_crashing_trigger_condition_backs_off_instead_of_killing_the_pipeline(tmp_path: Path) -> None:
    calls: list[float] = []

    class Broken(FilesystemStoreNode):
        def trigger_condition(self) -> bool:
            calls.append(time.monotonic())
            raise KeyError("typo in trigger")

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = Broken("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [data], store)
    with Pipeline([store, data, action], failure_backoff=0.1, max_failure_backoff=0.2) as pipeline:
        time.sleep(0.7)
        assert pipeline.state == "running" and store.is_alive()
    assert 2 <= len(calls) <= 8  # backed off (0.1, 0.2, 0.2, ...), not a tight loop


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_crashed_node_thread_stops_execute_with_a_pipeline_error(tmp_path: Path) -> None:
    class Exploding(FilesystemStoreNode):
        def serve(self) -> None:
            raise RuntimeError("disk controller on fire")

    store = SqliteMetadataStore("metadata_store", f"sqlite:///{tmp_path}/meta.db")
    data = Exploding("data", tmp_path / "data", store, create=True)
    pipeline = Pipeline([store, data, RecordingAction("action", [data], store)])
    with pytest.raises(PipelineError, match="node 'data' crashed: RuntimeError"):
        pipeline.execute()
    assert pipeline.state == "terminated"
