"""``DatumAction``: an action whose work is one task per datum, on the node's executor.

::

    def featurize(task: TaskContext) -> None:              # module level: it is sent to the workers
        rows = task.read_bytes().decode().splitlines()
        task.write(task.input().location + ".features", encode(rows))
        task.log_metrics(rows=len(rows))

    features = DatumAction("features", [raw], work=featurize, output=feature_store,
                           executor=RayExecutor("ray://head:10001"))

Each run, :meth:`DatumAction.units` lists the units (default: one per ``current`` artifact of the predecessor
resources; pass ``datums=`` a function of the node returning :class:`~anacostia_blockchain.resources.datums.Datum`
or :class:`~anacostia_blockchain.engine.WorkUnit` objects for joins and globs), and :func:`.run_tasks` runs ``work``
for those the cache cannot answer. A failed datum fails the node with a
:class:`~anacostia_blockchain.errors.TaskFailedError` naming it (after the other datums finished and were recorded).

The node's code fingerprint covers its class and the module of ``work`` (and what that imports), so editing the work
function changes the cache key, wherever the work runs. ``params`` (plain data) join every datum's key and reach the
work as ``task.params``; ``data_keys`` opens encrypted inputs (:class:`.EnvelopeKeys`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from ..engine import ArtifactState, BaseActionNode, BaseNode, BaseResourceNode, CodeFingerprint, WorkUnit
from ..engine import fingerprint_of as engine_fingerprint_of
from ..errors import ConfigurationError, TaskFailedError, WorkCancelledError
from ._base import BaseExecutor
from ._dispatch import CidOutput, run_tasks
from ._keys import DataKeys
from ._task import WorkFunction

#: ``datums(node)``: the units of the executing run (datums are turned into units with ``.unit()``).
DatumSource = Callable[["DatumAction"], Iterable[Any]]


class DatumAction(BaseActionNode):
    """See the module docstring."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        work: WorkFunction,
        output: CidOutput,
        datums: DatumSource | None = None,
        params: Mapping[str, Any] | None = None,
        data_keys: DataKeys | None = None,
        store: str | None = None,
        executor: BaseExecutor | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, executor=executor, **options)
        if not callable(work) or getattr(work, "__qualname__", "<").startswith("<") or "<locals>" in getattr(
                work, "__qualname__", ""):
            raise ConfigurationError(f"action {name!r}: work must be a module-level function (it is sent to workers)")
        self.work = work
        self.output = output
        self.datums = datums
        self.params = dict(params or {})
        self.data_keys = data_keys
        self.store = store

    @property
    def code(self) -> CodeFingerprint:
        """The fingerprint of the node's class and of the module of its work function."""
        return engine_fingerprint_of(_carrier(type(self), self.work.__module__))

    def units(self) -> list[WorkUnit]:
        """The work units of the executing run (see the module docstring)."""
        if self.datums is not None:
            found = [item if isinstance(item, WorkUnit) else item.unit() for item in self.datums(self)]
        else:
            found = [WorkUnit.of(artifact) for pred in self.predecessors if isinstance(pred, BaseResourceNode)
                     for artifact in pred.list_artifacts(ArtifactState.CURRENT)]
        if self.params:
            found = [WorkUnit(unit.name, unit.inputs, {**unit.params, "params": self.params}) for unit in found]
        return found

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        report = run_tasks(self, self.units(), self.work, output=self.output,
                           executor=self.executor if isinstance(self.executor, BaseExecutor) else None,
                           store=self.store, data_keys=self.data_keys)
        if report.failed and self.coordinator.stopping:
            raise WorkCancelledError(f"the pipeline is stopping: {len(report.failed)} datum(s) not done")
        if report.failed:
            details = "; ".join(error for _, error in sorted(report.failed.items()))
            raise TaskFailedError(f"{len(report.failed)} of {len(report.failed) + len(report.executed)} datum(s) "
                                  f"failed: {details}", unit=min(report.failed))
        self.log(f"run {self.coordinator.store.current_run_id}: {len(report.executed)} datum(s) executed, "
                 f"{len(report.reused)} reused")
        return True


@cache
def _carrier(cls: type, module: str) -> type:
    """``cls`` itself, or a subclass of it named in ``module`` (whose fingerprint then covers that module too)."""
    if module == cls.__module__:
        return cls
    return type(cls.__name__, (cls,), {"__module__": module, "__qualname__": f"{cls.__qualname__}@{module}"})
