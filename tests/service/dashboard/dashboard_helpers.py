"""Helpers of the dashboard tests: a real pipeline (SQLite store, watched folders, actions that log metrics, save
outputs and fail on bad input), the app serving pipelines, and phone emulation and screenshots in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdp import Browser

from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.service import ServiceConfig, create_app

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}


class Train(BaseActionNode):
    """Logs ``steps`` losses in one batch (``loss`` falls with the step), params, and saves a model file; fails on an
    input containing ``bad`` (the store quarantines it: ``input_retry_limit=1``)."""

    def __init__(self, name: str, predecessors: list[BaseNode], models: FilesystemStoreNode, steps: int) -> None:
        super().__init__(name, predecessors)
        self.models = models
        self.steps = steps

    def execute(self, *args: object, **kwargs: object) -> bool:
        store = self.coordinator.store
        run_id = store.current_run_id
        data = self.predecessors[0]
        if any(b"bad" in (data.resource_path / a.location).read_bytes() for a in data.current_inputs()):
            self.log("refusing an input marked bad", level="WARNING")
            return False
        store.log_params(learning_rate=0.01, steps=self.steps)
        store.log_batch(metrics=[("loss", 1.0 / (run_id + step + 1), step) for step in range(self.steps)])
        self.models.save_artifact(f"model-{run_id}.bin", f"weights of run {run_id}".encode())
        return True


class Evaluate(BaseActionNode):
    """Logs ``accuracy`` once per run (rising with the run id)."""

    def execute(self, *args: object, **kwargs: object) -> bool:
        store = self.coordinator.store
        store.log_metrics(accuracy=0.8 + 0.01 * int(store.current_run_id))
        store.set_tags(evaluated_by="evaluate")
        return True


class BuiltPipeline:
    def __init__(self, tmp_path: Path, name: str, steps: int) -> None:
        self.incoming = tmp_path / f"{name}-incoming"
        self.incoming.mkdir()
        self.store = SqliteMetadataStore(name, f"sqlite:///{tmp_path / f'{name}.db'}", input_retry_limit=1)
        data = FilesystemStoreNode("data", self.incoming, self.store, create=True)
        self.models = FilesystemStoreNode("models", tmp_path / f"{name}-models", self.store, monitoring=False)
        train = Train("train", [data, self.models], self.models, steps)
        evaluate = Evaluate("evaluate", [train])
        nodes: list[BaseNode] = [self.store, data, self.models, train, evaluate]
        self.pipeline = Pipeline(nodes, failure_backoff=0.05)

    def run_batches(self, count: int, timeout: float = 60, content: str = "x,y\n1,2\n") -> None:
        done = len(self.store.runs.get_runs())
        for index in range(count):
            number = done + index + 1
            (self.incoming / f"batch-{number}.csv").write_text(f"{content}{number},{number}\n")
            assert self.pipeline.wait_for_runs(done + index + 1, timeout=timeout)


def dashboard_app(tmp_path: Path, pipeline: Any, **config: Any) -> Any:
    """The app on a fresh index database serving ``pipeline`` (one, a list or a ``{name: pipeline}`` mapping)."""
    options: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path / 'index.db'}", "chain_id": 31337, **config}
    return create_app(ServiceConfig(**options), pipeline=pipeline)


def as_phone(browser: Browser) -> None:
    browser.send("Emulation.setDeviceMetricsOverride", **PHONE)


def no_horizontal_scroll(browser: Browser) -> bool:
    return bool(browser.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def screenshot(browser: Browser, path: Path) -> Path:
    """A PNG of the whole page; checked to be a real, non-trivial image."""
    shot = browser.screenshot(path)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    return shot
