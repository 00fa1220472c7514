"""``BaseActionNode``: a job that runs once per run, after its predecessors.

Subclasses implement ``execute(*args, **kwargs) -> bool`` (``True`` success, ``False`` failure; raising is an
error) and may override the hooks, which run on every attempt in this order::

    before_execution() -> execute() -> on_success() | on_failure() | on_error(exc) -> after_execution()

An exception from a hook makes the attempt an error. A non-bool return value from ``execute()`` is an error too
(forgetting ``return True`` is the most common bug in an action). ``execute()`` raising
:class:`~anacostia_blockchain.errors.WorkCancelledError` (its work stopped early because the pipeline is stopping)
makes the node ``aborted``, so the run is aborted rather than failed.

Retries: ``max_retries`` extra attempts, waiting ``retry_backoff * 2**(attempt-1)`` seconds between them (class
attributes; the constructor's keyword arguments override them per instance). The wait is interruptible: stopping the
pipeline ends it at once. Every attempt waits while the pipeline is paused, so ``pause()`` really stops new work.
Each node result (status, timings, attempts, error message and traceback, code fingerprint) goes to the metadata
store's ``node_runs`` table.

Before executing, the node decides whether it needs to (:mod:`.cache`), unless ``force`` is set on it or on the
pipeline:

- ``unchanged``: the run has inputs, but none of them reached this node (no declared input, every predecessor
  action unchanged) — nothing executes;
- ``reused``: a reusable execution with the same cache key exists — its outputs are linked into the run, with the
  metrics, params and tags it logged;
- otherwise it executes; the execution is recorded with what it read and saved, and is reusable when it succeeded,
  saved outputs and read nothing outside its declared inputs.

Declared inputs (:meth:`BaseActionNode.cache_inputs`): by default the ``current`` artifacts of the predecessor
resources (the run's inputs there, and what the run produced there so far) plus what the predecessor actions
produced in the run. A node that reads history (``list_artifacts("old")``) is therefore never reused unless it
declares that history. Inside ``execute()``, :meth:`BaseActionNode.run_units` processes work units, each cached on
its own (:mod:`.work`).

Where work runs: ``executor=`` (or the pipeline's ``executor=``) names an :class:`Executor` — the local thread pool or
a Ray cluster (``anacostia_blockchain.executors``). The node starts it when the pipeline launches (so an unreachable
cluster fails the launch) and shuts it down after its thread stopped; the executors' ``run_tasks`` sends the node's
work units to it. ``None``: the pipeline's executor, else the local thread executor.
"""

from __future__ import annotations

import logging
import queue
import traceback
from abc import abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol

from ..errors import AnacostiaError, ConfigurationError, WorkCancelledError
from .artifact import Artifact
from .cache import ExecutionSpec, attribute_params, is_reusable
from .context import executing
from .node import BaseNode
from .reads import ReadLog
from .resource import BaseResourceNode
from .states import ArtifactState, NodeStatus
from .work import UnitReport, WorkUnit, run_units

_STOP = -1


class Executor(Protocol):
    """Where an action's work runs, as the engine sees it (the implementations are in
    ``anacostia_blockchain.executors``): started when the pipeline launches, shut down when it stops. One executor may
    serve several nodes: each node calls ``start`` once and ``shutdown`` once."""

    def start(self) -> None: ...

    def shutdown(self) -> None: ...


class BaseActionNode(BaseNode):
    """A job in the pipeline (see the module docstring for the hook order and retries)."""

    node_kind: ClassVar[str] = "action"
    #: Extra attempts after a failed or erroring one.
    max_retries: int = 0
    #: Seconds before the first retry; doubled for each further retry.
    retry_backoff: float = 0.5
    #: Always execute: never reuse an earlier result, never skip as unchanged.
    force: bool = False

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        max_retries: int | None = None,
        retry_backoff: float | None = None,
        force: bool | None = None,
        executor: Executor | None = None,
    ) -> None:
        super().__init__(name, predecessors, loggers)
        #: Where this node's work units run (``None``: the pipeline's executor, else the local thread executor).
        self.executor = executor
        if max_retries is not None:
            self.max_retries = max_retries
        if retry_backoff is not None:
            self.retry_backoff = retry_backoff
        if force is not None:
            self.force = bool(force)
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigurationError(f"action {name!r}: max_retries must be an int >= 0, got {self.max_retries!r}")
        if self.retry_backoff < 0:
            raise ConfigurationError(f"action {name!r}: retry_backoff must be >= 0, got {self.retry_backoff!r}")
        self._inbox: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._launch_params: dict[str, Any] | None = None

    # --- the user's code -----------------------------------------------------------------------------------------
    @abstractmethod
    def execute(self, *args: Any, **kwargs: Any) -> bool:
        """Do the job. Return ``True`` on success, ``False`` on failure; raising counts as an error."""

    def before_execution(self) -> None:
        """Hook: before each attempt."""

    def on_success(self) -> None:
        """Hook: the attempt returned ``True``."""

    def on_failure(self) -> None:
        """Hook: the attempt returned ``False``."""

    def on_error(self, exc: BaseException) -> None:
        """Hook: the attempt raised ``exc`` (already recorded with its traceback)."""

    def after_execution(self) -> None:
        """Hook: after each attempt, whatever its outcome."""

    # --- what results depend on (the cache key) ------------------------------------------------------------------
    def cache_params(self) -> dict[str, Any]:
        """The configuration this node's results depend on besides its code and inputs (only its digest is kept).

        Default: the instance's public attributes holding plain data (str, numbers, bools, None, bytes, and lists,
        tuples and dicts of those) as they were when the pipeline launched (so state the node keeps while it runs
        does not count); objects (resources, stores, callables) are left out — override to add what they configure.
        """
        if self._launch_params is None:
            return attribute_params(self)
        return dict(self._launch_params)

    def prepare(self) -> None:
        self._launch_params = attribute_params(self)
        if self.executor is not None:
            self.executor.start()
        try:
            super().prepare()
        except BaseException:  # a node that failed to prepare is not torn down: release the executor here
            if self.executor is not None:
                self.executor.shutdown()
            raise

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            if self.executor is not None:
                self.executor.shutdown()

    def cache_inputs(self) -> list[Artifact] | None:
        """The artifacts this node may read in the executing run (keyed by content). ``None``: the default (see the
        module docstring). Override when the node reads more, e.g. every batch so far."""
        return None

    @property
    def forced(self) -> bool:
        """Whether this node executes whatever the cache says (``force`` on the node or on the pipeline)."""
        return self.force or (self._coordinator is not None and self._coordinator.force)

    def run_units(
        self, units: Iterable[WorkUnit], fn: Callable[[WorkUnit], bool | None], *,
        start: Callable[[list[WorkUnit]], None] | None = None,
    ) -> UnitReport:
        """Process ``units`` inside ``execute()``: each is reused when an earlier execution had its key, else
        ``fn(unit)`` runs with the unit's own read log; ``start`` sees the units about to execute (see :mod:`.work`)."""
        return run_units(self, units, fn, start=start)

    # --- engine side ---------------------------------------------------------------------------------------------
    def submit(self, run_id: int) -> None:
        """Called by the coordinator: execute for ``run_id`` (all predecessors are done)."""
        self._inbox.put(run_id)

    def request_stop(self) -> None:
        super().request_stop()
        self._inbox.put(_STOP)

    def serve(self) -> None:
        while (run_id := self._inbox.get()) != _STOP:
            key: str | None = None
            try:
                status, error, key = self._perform(run_id)
            except AnacostiaError as exc:  # the metadata store could not record the node result
                self.log(f"run {run_id}: could not record the node result: {exc}", level="ERROR")
                status, error = NodeStatus.ERROR, f"{type(exc).__name__}: {exc}"
            self.coordinator.node_finished(run_id, self.name, status, error, key)

    def execution_spec(self, run_id: int) -> ExecutionSpec:
        """This node's execution in ``run_id``: its declared inputs, params, upstream keys, and cache key."""
        runs = self.coordinator.store.runs
        inputs = self.cache_inputs()
        if inputs is None:
            found: dict[int, Artifact] = {}
            for pred in self.predecessors:
                if isinstance(pred, BaseResourceNode):
                    found.update((a.id, a) for a in runs.list_artifacts(pred.name, ArtifactState.CURRENT))
            actions = [p.name for p in self.predecessors if isinstance(p, BaseActionNode)]
            found.update((a.id, a) for a in runs.run_outputs(run_id, actions))
            inputs = list(found.values())
        upstream = [item.cache_key for item in self.coordinator.upstream(run_id, self) if item.cache_key]
        return ExecutionSpec.build(self.name, self.code, self.cache_params(), inputs, upstream)

    def _skip(self, run_id: int, spec: ExecutionSpec) -> NodeStatus | None:
        """``unchanged`` or ``reused`` when the node need not execute (see the module docstring), else ``None``."""
        runs = self.coordinator.store.runs
        upstream = self.coordinator.upstream(run_id, self)
        if (not spec.inputs and self.coordinator.run_has_inputs(run_id)
                and all(item.status is NodeStatus.UNCHANGED for item in upstream)):
            runs.record_unchanged(run_id, spec)
            self.log(f"run {run_id}: none of its inputs changed; not executed")
            return NodeStatus.UNCHANGED
        source = runs.find_reusable([spec.key]).get(spec.key)
        if source is None:
            return None
        runs.link_reused(run_id, [(spec, source)], copy_logged=True)
        self.log(f"run {run_id}: reused the result of run {source.origin_run_id} ({len(source.outputs)} outputs)")
        return NodeStatus.REUSED

    def _perform(self, run_id: int) -> tuple[NodeStatus, str | None, str]:
        runs = self.coordinator.store.runs
        node_run_id = runs.record_node_start(run_id, self.name, self.code_fingerprint)
        spec = self.execution_spec(run_id)
        skipped = None if self.forced else self._skip(run_id, spec)
        if skipped is not None:
            runs.record_node_end(node_run_id, skipped, attempts=0)
            return skipped, None, spec.key
        execution_id = runs.begin_execution(run_id, spec)
        attempts = 0
        status: NodeStatus = NodeStatus.ABORTED
        error: str | None = "pipeline stopped before the node started"
        trace: str | None = None
        log = ReadLog(fallback=spec.inputs)
        while self.coordinator.admit():
            attempts += 1
            log = ReadLog(fallback=spec.inputs)
            status, error, trace = self._attempt(run_id, log, execution_id)
            if status is NodeStatus.SUCCESS or attempts > self.max_retries:
                break
            delay = self.retry_backoff * 2 ** (attempts - 1)
            self.log(f"run {run_id}: attempt {attempts} ended {status} ({error}); retrying in {delay:.3g}s",
                     level="WARNING")
            if self._halt.wait(delay):
                break
        reusable = is_reusable(status, log, spec.inputs, run_id, self.name)
        runs.end_node_execution(node_run_id, execution_id, status, reads=log.reads(), reusable=reusable, error=error,
                                traceback=trace, attempts=attempts)
        return status, error, spec.key

    def _attempt(self, run_id: int, log: ReadLog, execution_id: int) -> tuple[NodeStatus, str | None, str | None]:
        outcome: tuple[NodeStatus, str | None, str | None]
        with executing(run_id, self.name, reads=log, execution_id=execution_id):
            try:
                self.before_execution()
                result = self.execute()
                if result is True:
                    self.on_success()
                    outcome = (NodeStatus.SUCCESS, None, None)
                elif result is False:
                    self.on_failure()
                    outcome = (NodeStatus.FAILURE, "execute() returned False", None)
                else:
                    raise TypeError(f"execute() must return True or False, got {result!r}")
            except WorkCancelledError as exc:  # the pipeline is stopping: the node is aborted, not failed
                outcome = (NodeStatus.ABORTED, f"{type(exc).__name__}: {exc}", None)
            except Exception as exc:
                outcome = (NodeStatus.ERROR, f"{type(exc).__name__}: {exc}", traceback.format_exc())
                self.log(f"run {run_id}: {outcome[1]}", level="ERROR")
                try:
                    self.on_error(exc)
                except Exception as hook_exc:
                    self.log(f"run {run_id}: on_error hook raised {hook_exc!r}", level="ERROR")
            try:
                self.after_execution()
            except Exception as exc:
                if outcome[0] is NodeStatus.SUCCESS or outcome[0] is NodeStatus.FAILURE:
                    outcome = (NodeStatus.ERROR, f"after_execution: {type(exc).__name__}: {exc}",
                               traceback.format_exc())
        return outcome
