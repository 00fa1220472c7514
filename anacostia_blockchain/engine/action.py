"""``BaseActionNode``: a job that runs once per run, after its predecessors.

Subclasses implement ``execute(*args, **kwargs) -> bool`` (``True`` success, ``False`` failure; raising is an
error) and may override the hooks, which run on every attempt in this order::

    before_execution() -> execute() -> on_success() | on_failure() | on_error(exc) -> after_execution()

An exception from a hook makes the attempt an error. A non-bool return value from ``execute()`` is an error too
(forgetting ``return True`` is the most common bug in an action).

Retries: ``max_retries`` extra attempts, waiting ``retry_backoff * 2**(attempt-1)`` seconds between them (class
attributes; the constructor's keyword arguments override them per instance). The wait is interruptible: stopping the
pipeline ends it at once. Every attempt waits while the pipeline is paused, so ``pause()`` really stops new work.
Each node result (status, timings, attempts, error message and traceback, code fingerprint) goes to the metadata
store's ``node_runs`` table.
"""

from __future__ import annotations

import logging
import queue
import traceback
from abc import abstractmethod
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from ..errors import AnacostiaError, ConfigurationError
from .context import executing
from .node import BaseNode
from .states import NodeStatus

_STOP = -1


class BaseActionNode(BaseNode):
    """A job in the pipeline (see the module docstring for the hook order and retries)."""

    node_kind: ClassVar[str] = "action"
    #: Extra attempts after a failed or erroring one.
    max_retries: int = 0
    #: Seconds before the first retry; doubled for each further retry.
    retry_backoff: float = 0.5

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        max_retries: int | None = None,
        retry_backoff: float | None = None,
    ) -> None:
        super().__init__(name, predecessors, loggers)
        if max_retries is not None:
            self.max_retries = max_retries
        if retry_backoff is not None:
            self.retry_backoff = retry_backoff
        if not isinstance(self.max_retries, int) or self.max_retries < 0:
            raise ConfigurationError(f"action {name!r}: max_retries must be an int >= 0, got {self.max_retries!r}")
        if self.retry_backoff < 0:
            raise ConfigurationError(f"action {name!r}: retry_backoff must be >= 0, got {self.retry_backoff!r}")
        self._inbox: queue.SimpleQueue[int] = queue.SimpleQueue()

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

    # --- engine side ---------------------------------------------------------------------------------------------
    def submit(self, run_id: int) -> None:
        """Called by the coordinator: execute for ``run_id`` (all predecessors are done)."""
        self._inbox.put(run_id)

    def request_stop(self) -> None:
        super().request_stop()
        self._inbox.put(_STOP)

    def serve(self) -> None:
        while (run_id := self._inbox.get()) != _STOP:
            try:
                status, error = self._perform(run_id)
            except AnacostiaError as exc:  # the metadata store could not record the node result
                self.log(f"run {run_id}: could not record the node result: {exc}", level="ERROR")
                status, error = NodeStatus.ERROR, f"{type(exc).__name__}: {exc}"
            self.coordinator.node_finished(run_id, self.name, status, error)

    def _perform(self, run_id: int) -> tuple[NodeStatus, str | None]:
        store = self.coordinator.store
        node_run_id = store.runs.record_node_start(run_id, self.name, self.code_fingerprint)
        attempts = 0
        status: NodeStatus = NodeStatus.ABORTED
        error: str | None = "pipeline stopped before the node started"
        trace: str | None = None
        while self.coordinator.admit():
            attempts += 1
            status, error, trace = self._attempt(run_id)
            if status is NodeStatus.SUCCESS or attempts > self.max_retries:
                break
            delay = self.retry_backoff * 2 ** (attempts - 1)
            self.log(f"run {run_id}: attempt {attempts} ended {status} ({error}); retrying in {delay:.3g}s",
                     level="WARNING")
            if self._halt.wait(delay):
                break
        store.runs.record_node_end(node_run_id, status, error=error, traceback=trace, attempts=attempts)
        return status, error

    def _attempt(self, run_id: int) -> tuple[NodeStatus, str | None, str | None]:
        outcome: tuple[NodeStatus, str | None, str | None]
        with executing(run_id, self.name):
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
