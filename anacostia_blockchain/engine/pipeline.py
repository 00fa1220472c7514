"""``Pipeline``: validates the DAG at construction and runs its node threads.

``launch()`` returns at once with every node running; ``execute()`` launches (if needed) and blocks until the
pipeline is stopped — by ``terminate()`` from another thread, SIGINT/SIGTERM (handled gracefully when called on the
main thread), or a crashed node thread (re-raised as :class:`PipelineError`). ``pause()`` stops new work: no run
starts and no action attempt begins until ``resume()``; attempts already executing finish. ``terminate()`` lets
executing attempts finish, records the unfinished run as ``aborted`` with its inputs back to ``new``, stops every
thread and closes the store. A pipeline runs once: it cannot be relaunched after ``terminate()``.

Launch order: the store opens its database (and recovers interrupted runs), the nodes are registered with their
code fingerprints, resources reconcile their contents, then the threads start (actions, resources, store last), so
the first trigger check sees a consistent state.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from types import FrameType, TracebackType
from typing import Any

from ..errors import GraphValidationError, PipelineError, PipelineStateError
from .action import Executor
from .coordinator import RunCoordinator
from .graph import PipelineGraph
from .node import BaseNode, _as_logger_list
from .trigger import TriggerPolicy

_log = logging.getLogger("anacostia_blockchain.pipeline")


class Pipeline:
    """A validated DAG of nodes and the threads that run it (see the module docstring).

    ``loggers`` become the loggers of every node constructed without its own. ``failure_backoff`` /
    ``max_failure_backoff``: seconds the coordinator waits after consecutive failed runs (doubling, capped).
    ``trigger``: when a run starts (``"all"``, ``"any"`` or a callable; :mod:`.trigger`). ``force=True``: every
    action executes in every run (no reuse of earlier results, none skipped as unchanged; :mod:`.cache`).
    ``executor``: where the work of actions constructed without their own ``executor=`` runs (:mod:`.action`).
    """

    def __init__(
        self,
        nodes: Iterable[BaseNode],
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        failure_backoff: float = 0.5,
        max_failure_backoff: float = 60.0,
        trigger: TriggerPolicy = "all",
        force: bool = False,
        executor: Executor | None = None,
    ) -> None:
        if isinstance(nodes, BaseNode) or not isinstance(nodes, Iterable):
            raise GraphValidationError("Pipeline(nodes=...) takes a list of nodes")
        self.graph = PipelineGraph(nodes)
        self.nodes: list[BaseNode] = self.graph.nodes
        self.loggers = _as_logger_list(loggers)
        for node in self.nodes:
            if not node.loggers:
                node.loggers = list(self.loggers)
        for action in self.graph.actions.values():
            if action.executor is None:
                action.executor = executor
        self.metadata_store = self.graph.store
        self._coordinator = RunCoordinator(
            self.graph, failure_backoff=failure_backoff, max_failure_backoff=max_failure_backoff, trigger=trigger,
            force=force,
        )
        self._state = "created"
        self._state_lock = threading.Lock()
        self._prepared: list[BaseNode] = []

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def launch(self) -> None:
        """Open the store, reconcile resources and start every node thread; returns at once."""
        with self._state_lock:
            if self._state != "created":
                raise PipelineStateError(f"cannot launch a pipeline that is {self._state}; build a new Pipeline")
            self._state = "launching"
        try:
            for node in self.nodes:
                node.attach(self._coordinator)
            store = self.graph.store
            store.prepare()
            self._prepared.append(store)
            store.runs.register_nodes(self.nodes)
            for node in self.nodes:
                if node is not store:
                    node.prepare()
                    self._prepared.append(node)
        except BaseException:
            self._teardown()
            with self._state_lock:
                self._state = "terminated"
            raise
        for node in [*self.graph.actions.values(), *self.graph.resources.values(), store]:
            node.start()
        with self._state_lock:
            self._state = "running"
        self._log(f"launched {len(self.nodes)} nodes")

    def execute(self) -> None:
        """Launch if needed and block until stopped (SIGINT/SIGTERM stop gracefully on the main thread)."""
        if self._state == "created":
            self.launch()
        elif self._state != "running":
            raise PipelineStateError(f"cannot execute a pipeline that is {self._state}")
        previous: dict[signal.Signals, Any] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                previous[signum] = signal.signal(signum, self._on_signal)
        try:
            self._coordinator.wait_stopped()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            self.terminate()
        crash = self._coordinator.crash
        if crash is not None:
            name, exc = crash
            raise PipelineError(f"node {name!r} crashed: {exc!r}") from exc

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._log(f"received {signal.Signals(signum).name}: stopping")
        self._coordinator.stop()

    def terminate(self, timeout: float | None = 30.0) -> None:
        """Stop gracefully (see the module docstring). Idempotent. Called from one of the pipeline's own threads
        (an action deciding to stop), it returns at once and the shutdown completes on a helper thread."""
        if any(node is threading.current_thread() for node in self.nodes):
            threading.Thread(target=self.terminate, args=(timeout,), name="anacostia-terminate").start()
            return
        with self._state_lock:
            if self._state in ("terminated", "created"):
                self._state = "terminated"
                return
            self._state = "terminating"
        store = self.graph.store
        store.request_stop()
        store.join(timeout)
        others = [node for node in self.nodes if node is not store]
        for node in others:
            node.request_stop()
        for node in others:
            node.join(timeout)
        stuck = [node.name for node in self.nodes if node.is_alive()]
        if stuck:
            self._log(f"threads still running after {timeout}s: {', '.join(stuck)}", level=logging.ERROR)
        self._teardown()
        with self._state_lock:
            self._state = "terminated"
        self._log("terminated")

    def _teardown(self) -> None:
        for node in reversed(self._prepared):
            try:
                node.teardown()
            except Exception as exc:
                self._log(f"teardown of {node.name!r} failed: {exc!r}", level=logging.ERROR)
        self._prepared.clear()

    def pause(self) -> None:
        """Stop new work: no run starts, no action attempt begins (see the module docstring)."""
        self._require_running("pause")
        self._coordinator.pause()

    def resume(self) -> None:
        self._require_running("resume")
        self._coordinator.resume()

    def _require_running(self, what: str) -> None:
        if self._state != "running":
            raise PipelineStateError(f"cannot {what} a pipeline that is {self._state}")

    @property
    def force(self) -> bool:
        """Whether every action executes in every run (``anacostia-chain run --no-cache`` sets it)."""
        return self._coordinator.force

    @force.setter
    def force(self, value: bool) -> None:
        self._coordinator.force = bool(value)

    # --- observation ---------------------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """``created``, ``launching``, ``running``, ``terminating`` or ``terminated``."""
        return self._state

    @property
    def paused(self) -> bool:
        return self._coordinator.paused

    @property
    def runs_finished(self) -> int:
        """Runs that ended (any status) since launch."""
        return self._coordinator.finished_runs

    def wait_for_runs(self, count: int, timeout: float | None = None) -> bool:
        """Block until ``count`` runs ended since launch; ``False`` on timeout or if the pipeline stopped."""
        return self._coordinator.wait_for_runs(count, timeout)

    def _log(self, msg: str, level: int = logging.INFO) -> None:
        for logger in self.loggers or [_log]:
            logger.log(level, "pipeline: %s", msg)

    # --- context manager -----------------------------------------------------------------------------------------
    def __enter__(self) -> Pipeline:
        self.launch()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.terminate()
