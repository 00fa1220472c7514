"""The run loop: when to start a run, which node runs next, how a run ends.

One :class:`RunCoordinator` per pipeline. Its loop runs on the metadata store's thread; everything else talks to it
through one :class:`threading.Condition`:

- resources call :meth:`artifacts_changed` after recording a new artifact version;
- action threads call :meth:`admit` before every attempt (it blocks while the pipeline is paused) and
  :meth:`node_finished` after;
- the pipeline calls :meth:`pause`, :meth:`resume` and :meth:`stop`.

A run starts when the pipeline's trigger policy says so (:mod:`.trigger`). A node that ends ``reused`` or
``unchanged`` (:mod:`.cache`) counts as succeeded: its children are dispatched and the run can succeed; the
coordinator keeps each node's cache key for its children's keys (:meth:`RunCoordinator.upstream`).

The loop sleeps in ``Condition.wait`` with a timeout only when a deadline exists (a failed input's retry time, or
the backoff after a failed run), so an idle pipeline uses no CPU. Runs are sequential; inside a run every action
whose predecessors succeeded is dispatched at once, so independent branches execute in parallel.

Why a failing run cannot loop tightly: its inputs go back to ``new`` with a growing ``retry_at`` (and are
quarantined after the store's limit), and the coordinator itself waits ``failure_backoff * 2**(streak-1)`` seconds
(capped at ``max_failure_backoff``) after each consecutive failed run before it evaluates triggers again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import AnacostiaError, ConfigurationError
from .states import ArtifactState, NodeStatus, RunStatus
from .trigger import TriggerPolicy, resolve_trigger

if TYPE_CHECKING:
    from .action import BaseActionNode
    from .graph import PipelineGraph
    from .metadata_store import BaseMetadataStoreNode
    from .node import BaseNode


@dataclass(slots=True)
class _Completion:
    run_id: int
    node_name: str
    status: NodeStatus
    error: str | None
    cache_key: str | None = None


@dataclass(slots=True)
class _ActiveRun:
    run_id: int
    waiting: dict[str, int]
    has_inputs: bool = True
    ready: deque[str] = field(default_factory=deque)
    running: set[str] = field(default_factory=set)
    results: dict[str, NodeStatus] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Upstream:
    """A predecessor action's outcome in the executing run, as a node's cache decision sees it."""

    node_name: str
    status: NodeStatus
    cache_key: str | None


class RunCoordinator:
    """Starts runs, dispatches action nodes in DAG order and ends runs (see the module docstring)."""

    def __init__(
        self,
        graph: PipelineGraph,
        *,
        failure_backoff: float = 0.5,
        max_failure_backoff: float = 60.0,
        trigger: TriggerPolicy = "all",
        force: bool = False,
    ) -> None:
        if failure_backoff < 0 or max_failure_backoff < 0:
            raise ConfigurationError("failure_backoff and max_failure_backoff must be >= 0")
        self.graph = graph
        self._trigger = resolve_trigger(trigger)
        #: Every action executes: no reuse of earlier results, no skipping of unchanged ones.
        self.force = bool(force)
        self.store: BaseMetadataStoreNode = graph.store
        self.failure_backoff = failure_backoff
        self.max_failure_backoff = max_failure_backoff
        self._cv = threading.Condition()
        self._completions: deque[_Completion] = deque()
        self._dirty = True
        self._paused = False
        self._stopping = False
        self._not_before = 0.0  # monotonic time before which no run starts (failed-run backoff)
        self._retry_at: float | None = None  # wall-clock time when a waiting input becomes eligible again
        self._failure_streak = 0
        self._active: _ActiveRun | None = None
        self._finished_runs = 0
        self._crash: tuple[str, BaseException] | None = None
        self._done = threading.Event()

    # --- called from other threads ---------------------------------------------------------------------------------
    def artifacts_changed(self) -> None:
        """A resource recorded something: re-evaluate the trigger."""
        with self._cv:
            self._dirty = True
            self._cv.notify_all()

    def node_finished(
        self, run_id: int, node_name: str, status: NodeStatus, error: str | None = None,
        cache_key: str | None = None,
    ) -> None:
        with self._cv:
            self._completions.append(_Completion(run_id, node_name, status, error, cache_key))
            self._cv.notify_all()

    def upstream(self, run_id: int, node: BaseNode) -> list[Upstream]:
        """The outcomes of ``node``'s predecessor actions in run ``run_id`` (all finished when it is dispatched)."""
        with self._cv:
            active = self._active
            if active is None or active.run_id != run_id:
                return []
            return [Upstream(pred.name, active.results.get(pred.name, NodeStatus.RUNNING), active.keys.get(pred.name))
                    for pred in node.predecessors if pred.name in self.graph.actions]

    def run_has_inputs(self, run_id: int) -> bool:
        """Whether run ``run_id`` consumed any input (a run with none never marks actions ``unchanged``)."""
        with self._cv:
            active = self._active
            return active is None or active.run_id != run_id or active.has_inputs

    def node_crashed(self, node: BaseNode, exc: BaseException) -> None:
        """A node thread died: record it and stop the pipeline (``Pipeline.execute`` re-raises it)."""
        with self._cv:
            if self._crash is None:
                self._crash = (node.name, exc)
            if self._active is not None and node.name in self._active.running:
                self._completions.append(
                    _Completion(self._active.run_id, node.name, NodeStatus.ERROR, f"thread crashed: {exc!r}")
                )
            self._stopping = True
            self._cv.notify_all()

    def admit(self) -> bool:
        """Block while paused. ``False`` means the pipeline is stopping and the caller must not start work."""
        with self._cv:
            self._cv.wait_for(lambda: not self._paused or self._stopping)
            return not self._stopping

    def pause(self) -> None:
        """No run starts and no action attempt begins until :meth:`resume` (running attempts finish)."""
        with self._cv:
            self._paused = True
            self._cv.notify_all()

    def resume(self) -> None:
        with self._cv:
            self._paused = False
            self._dirty = True
            self._cv.notify_all()

    def stop(self) -> None:
        """Finish promptly: dispatch nothing new, let running attempts end, mark an unfinished run aborted."""
        with self._cv:
            self._stopping = True
            self._cv.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopping(self) -> bool:
        """Whether the pipeline was asked to stop (work that can end early, such as tasks on an executor, does)."""
        return self._stopping

    @property
    def crash(self) -> tuple[str, BaseException] | None:
        return self._crash

    @property
    def finished_runs(self) -> int:
        return self._finished_runs

    def wait_for_runs(self, count: int, timeout: float | None = None) -> bool:
        """Wait until ``count`` runs ended since launch (or the loop stopped); ``True`` if they did."""
        with self._cv:
            self._cv.wait_for(lambda: self._finished_runs >= count or self._done.is_set(), timeout)
            return self._finished_runs >= count

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    # --- the loop (metadata store thread) ------------------------------------------------------------------------
    def serve(self) -> None:
        try:
            self._loop()
        finally:
            with self._cv:
                self._done.set()
                self._cv.notify_all()

    def _has_work(self) -> bool:
        if self._completions:
            return True
        if self._stopping:
            return self._active is None or not self._active.running
        if self._paused:
            return False
        if self._active is not None:
            return bool(self._active.ready)
        if time.monotonic() < self._not_before:
            return False
        if self._retry_at is not None and time.time() >= self._retry_at:
            self._retry_at = None
            self._dirty = True
        return self._dirty

    def _timeout(self) -> float | None:
        if self._paused or self._active is not None:
            return None
        deadlines = []
        now = time.monotonic()
        if self._not_before > now:
            deadlines.append(self._not_before - now)
        if self._retry_at is not None:
            deadlines.append(max(0.0, self._retry_at - time.time()))
        return min(deadlines) if deadlines else None

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._has_work():
                    self._cv.wait(self._timeout())
                completions = list(self._completions)
                self._completions.clear()
                stopping = self._stopping
                paused = self._paused
                check_trigger = (self._dirty and self._active is None and not paused and not stopping
                                 and time.monotonic() >= self._not_before)
                if check_trigger:
                    self._dirty = False
            active = self._active
            for completion in completions:
                self._apply_completion(completion)
            if active is not None:
                if not stopping and not paused:
                    self._dispatch_ready(active)
                if not active.running and (stopping or self._all_done(active)):
                    self._finish_run(active, aborted=stopping and not self._all_done(active))
                continue
            if stopping:
                return
            if check_trigger:
                self._maybe_start_run()

    # --- run bookkeeping -----------------------------------------------------------------------------------------
    def _maybe_start_run(self) -> None:
        store = self.store
        names = [r.name for r in self.graph.monitoring_resources]
        try:
            trigger = self._trigger(store, self.graph.monitoring_resources)
            if trigger is None:
                self._retry_at = store.runs.next_input_retry_at(names)
                return
            run_id = store.runs.begin_run(trigger, names)
            has_inputs = any(store.runs.count_artifacts(name, ArtifactState.CURRENT) for name in names)
        except Exception as exc:  # a store outage or a bug in a trigger_condition(): back off, try again
            detail = str(exc) if isinstance(exc, AnacostiaError) else repr(exc)
            store.log(f"could not evaluate triggers or start a run: {detail}", level="ERROR")
            self._register_failure()
            with self._cv:
                self._dirty = True
            return
        active = _ActiveRun(run_id, waiting=dict(self.graph.action_in_degree), has_inputs=has_inputs)
        active.ready.extend(name for name, count in active.waiting.items() if count == 0)
        self._active = active
        try:
            store.on_run_start(run_id)
        except Exception as exc:
            store.log(f"on_run_start hook failed for run {run_id}: {exc!r}", level="ERROR")
            active.errors.append(f"on_run_start: {type(exc).__name__}: {exc}")
            active.ready.clear()
            for name in self.graph.action_order:
                self._record_terminal(active, name, NodeStatus.SKIPPED, "on_run_start hook failed")
            self._finish_run(active, aborted=False)

    def _dispatch_ready(self, active: _ActiveRun) -> None:
        while active.ready:
            name = active.ready.popleft()
            active.running.add(name)
            node: BaseActionNode = self.graph.actions[name]
            node.submit(active.run_id)

    def _apply_completion(self, completion: _Completion) -> None:
        active = self._active
        if active is None or completion.run_id != active.run_id or completion.node_name in active.results:
            return
        active.running.discard(completion.node_name)
        active.results[completion.node_name] = completion.status
        if completion.cache_key is not None:
            active.keys[completion.node_name] = completion.cache_key
        if completion.status.succeeded:
            for child in self.graph.action_children[completion.node_name]:
                active.waiting[child] -= 1
                if active.waiting[child] == 0 and child not in active.results:
                    active.ready.append(child)
            return
        active.errors.append(f"{completion.node_name}: {completion.error or completion.status}")
        for descendant in self.graph.descendants(completion.node_name):
            self._record_terminal(active, descendant, NodeStatus.SKIPPED, f"ancestor {completion.node_name!r} "
                                  f"ended {completion.status}")

    def _record_terminal(self, active: _ActiveRun, name: str, status: NodeStatus, reason: str) -> None:
        if name in active.results or name in active.running:
            return
        active.results[name] = status
        if name in active.ready:
            active.ready.remove(name)
        node = self.graph.actions[name]
        try:
            self.store.runs.record_node_result(active.run_id, name, status, node.code_fingerprint, reason)
        except AnacostiaError as exc:
            self.store.log(f"could not record {status} for {name!r} in run {active.run_id}: {exc}", level="ERROR")

    def _all_done(self, active: _ActiveRun) -> bool:
        return len(active.results) == len(self.graph.actions)

    def _finish_run(self, active: _ActiveRun, *, aborted: bool) -> None:
        if aborted or NodeStatus.ABORTED in active.results.values():
            for name in self.graph.action_order:
                self._record_terminal(active, name, NodeStatus.ABORTED, "pipeline stopped")
            status = RunStatus.ABORTED
        elif all(result.succeeded for result in active.results.values()) and not active.errors:
            status = RunStatus.SUCCESS
        else:
            status = RunStatus.FAILED
        error = "; ".join(active.errors) or None
        self._persist_end(active.run_id, status, error)
        for resource in self.graph.resources.values():
            try:
                resource.after_run(active.run_id, status)
            except Exception as exc:
                resource.log(f"after_run hook failed for run {active.run_id}: {exc!r}", level="ERROR")
        try:
            self.store.on_run_end(active.run_id, status)
        except Exception as exc:
            self.store.log(f"on_run_end hook failed for run {active.run_id}: {exc!r}", level="ERROR")
        if status is RunStatus.FAILED:
            self._register_failure()
        elif status is RunStatus.SUCCESS:
            self._failure_streak = 0
        with self._cv:
            self._active = None
            self._dirty = True
            self._finished_runs += 1
            self._cv.notify_all()

    def _persist_end(self, run_id: int, status: RunStatus, error: str | None) -> None:
        """Persist the run's end; a database outage delays the end (retried with backoff), never loses it."""
        delay = 0.05
        while True:
            try:
                self.store.runs.end_run(run_id, status, error)
                return
            except AnacostiaError as exc:
                self.store.log(f"could not end run {run_id} ({exc}); retrying in {delay:.2f}s", level="ERROR")
            with self._cv:
                if self._cv.wait_for(lambda: self._stopping, delay) and delay >= 1.0:
                    # stopping and the database still fails: the run stays `running` and is recovered as
                    # `aborted` (inputs returned to `new`) when the store opens next time.
                    return
            delay = min(delay * 2, 5.0)

    def _register_failure(self) -> None:
        self._failure_streak += 1
        backoff = min(self.failure_backoff * 2 ** (self._failure_streak - 1), self.max_failure_backoff)
        self._not_before = time.monotonic() + backoff
