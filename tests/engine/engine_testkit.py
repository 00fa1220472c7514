"""Small real nodes and helpers shared by the engine tests (no mocks: real threads, files and databases)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from anacostia_blockchain import BaseActionNode, BaseNode, FilesystemStoreNode, Pipeline, SqliteMetadataStore


class RecordingAction(BaseActionNode):
    """Runs ``behaviour`` (default: succeed) and records what happened, with timestamps."""

    def __init__(self, name: str, predecessors: list[BaseNode], store: SqliteMetadataStore,
                 behaviour: Callable[[RecordingAction], bool] | None = None, **kwargs: object) -> None:
        super().__init__(name, predecessors, **kwargs)  # type: ignore[arg-type]
        self.store = store
        self.behaviour = behaviour
        self.calls: list[tuple[str, int | None, float]] = []
        self.started = threading.Event()

    def _note(self, what: str) -> None:
        self.calls.append((what, self.store.current_run_id, time.perf_counter()))

    def before_execution(self) -> None:
        self._note("before")

    def execute(self, *args: object, **kwargs: object) -> bool:
        self._note("execute")
        self.started.set()
        if self.behaviour is None:
            self.store.log_metrics(ran=1.0)
            return True
        return self.behaviour(self)

    def on_success(self) -> None:
        self._note("success")

    def on_failure(self) -> None:
        self._note("failure")

    def on_error(self, exc: BaseException) -> None:
        self._note(f"error:{type(exc).__name__}")

    def after_execution(self) -> None:
        self._note("after")

    def executions(self) -> int:
        return sum(1 for what, _, _ in self.calls if what == "execute")


def write_file(path: Path, content: str | bytes) -> None:
    data = content.encode() if isinstance(content, str) else content
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Test-side wait for a condition the engine exposes no event for (artifact detection)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


def simple_pipeline(tmp_path: Path, url: str | None = None, **store_kwargs: object
                    ) -> tuple[Pipeline, SqliteMetadataStore, FilesystemStoreNode, RecordingAction]:
    store = SqliteMetadataStore("metadata_store", url or f"sqlite:///{tmp_path}/meta.db", **store_kwargs)  # type: ignore[arg-type]
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    action = RecordingAction("action", [data], store)
    return Pipeline([store, data, action], failure_backoff=0.01), store, data, action
