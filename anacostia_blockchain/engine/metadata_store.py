"""``BaseMetadataStoreNode``: the pipeline's metadata store as a node: the run loop's thread over a ``RunRecords``.

The node owns no storage. It holds ``runs``, a :class:`~anacostia_blockchain.engine.run_records.RunRecords` (the
SQL one is :class:`~anacostia_blockchain.metadata.RunStore`), opens it in ``prepare()``, closes it in
``teardown()``, runs the :class:`~anacostia_blockchain.engine.coordinator.RunCoordinator` loop on its thread, and
offers the user's logging API (``log_metrics``, ``log_params``, ``set_tags``, ``log_batch``), which attributes each
record to the run and node executing on the calling thread. Queries go to ``store.runs`` (the SQL node also answers
Anacostia's ``get_metrics`` / ``get_params`` / ``get_tags``).

The MLflow tracking names are accepted next to the Anacostia ones, for code written against ``mlflow``:
``log_metric(key, value, step=None)``, ``log_param(key, value)``, ``set_tag(key, value)``, and the dict forms
``log_metrics({"loss": 0.1}, step=3)``, ``log_params({...})``, ``set_tags({...})``. Both spellings write the same
rows.

Subclass hooks for extensions (the blockchain store uses them):

- ``on_start()`` / ``on_stop()``: start/stop background workers (outboxes). ``on_start`` runs during
  ``Pipeline.launch()`` after the database is open; ``on_stop`` after every node thread has stopped.
- ``on_run_start(run_id)``: the run row exists and its inputs are ``current``; no action has started yet.
- ``on_run_end(run_id, status)``: called after the run's final status and artifact states are persisted.
- ``run_trigger(resources)``: when a run starts (default: every monitoring resource's ``trigger_condition()``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import MetadataValueError
from .context import ExecutionContext, attributed_context, current_execution
from .node import BaseNode
from .run_records import MetricRow, RunRecords
from .states import RunStatus

if TYPE_CHECKING:
    from .resource import BaseResourceNode


class BaseMetadataStoreNode(BaseNode):
    """The pipeline's single metadata store (see the module docstring for the contract and hooks)."""

    node_kind: ClassVar[str] = "metadata_store"

    def __init__(
        self, name: str, runs: RunRecords, loggers: logging.Logger | Iterable[logging.Logger] | None = None
    ) -> None:
        super().__init__(name, predecessors=None, loggers=loggers)
        #: Where runs, node results, artifacts and logged values are stored (and queried).
        self.runs = runs

    # --- run context ---------------------------------------------------------------------------------------------
    @property
    def current_run_id(self) -> int | None:
        """The run of the ``execute()`` on this thread, else the run in progress, else ``None``."""
        context = current_execution()
        return context.run_id if context is not None else self.runs.active_run_id

    def require_run(self) -> ExecutionContext:
        """The context to attribute a record to; :class:`NoActiveRunError` outside a run."""
        return attributed_context(self.runs.active_run_id, self.name)

    # --- the user's logging API (Anacostia keyword form, MLflow dict form) -----------------------------------------
    def log_metrics(self, metrics: Mapping[str, float] | None = None, /, step: int | None = None,
                    **named: float) -> None:
        """Log numeric metrics for the executing run and node: ``log_metrics(loss=0.1, step=3)`` or, as MLflow
        does, ``log_metrics({"loss": 0.1}, step=3)``."""
        self.runs.log_metrics(self.require_run(), _merged("metric", metrics, named), step)

    def log_metric(self, key: str, value: float, step: int | None = None) -> None:
        """MLflow's ``log_metric(key, value, step=None)``: one metric."""
        self.runs.log_metrics(self.require_run(), {key: value}, step)

    def log_params(self, params: Mapping[str, Any] | None = None, /, **named: Any) -> None:
        """Log JSON-encodable params for the executing run (a repeated key replaces the value): ``log_params(lr=0.1)``
        or ``log_params({"lr": 0.1})``."""
        self.runs.log_params(self.require_run(), _merged("param", params, named))

    def log_param(self, key: str, value: Any) -> None:
        """MLflow's ``log_param(key, value)``: one param."""
        self.runs.log_params(self.require_run(), {key: value})

    def set_tags(self, tags: Mapping[str, Any] | None = None, /, **named: Any) -> None:
        """Set JSON-encodable tags on the executing run (a repeated key replaces the value): ``set_tags(stage="dev")``
        or ``set_tags({"stage": "dev"})``."""
        self.runs.set_tags(self.require_run(), _merged("tag", tags, named))

    def set_tag(self, key: str, value: Any) -> None:
        """MLflow's ``set_tag(key, value)``: one tag."""
        self.runs.set_tags(self.require_run(), {key: value})

    def log_batch(
        self,
        metrics: Mapping[str, float] | Sequence[MetricRow] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Log many records in one transaction: ``metrics`` as a mapping (all at ``step``) or as rows
        ``(key, value)`` / ``(key, value, step)``; all-or-nothing."""
        self.runs.log_batch(self.require_run(), metrics, params, tags, step)

    # --- thread --------------------------------------------------------------------------------------------------
    def open_store(self) -> None:
        """Open ``runs`` (create the schema, recover runs a crash left ``running``)."""
        recovered = self.runs.open()
        if recovered:
            self.log(f"marked interrupted runs {recovered} aborted; their inputs are new again", level="WARNING")

    def close_store(self) -> None:
        """Release ``runs``' connections (the pipeline calls it after ``on_stop()``)."""
        self.runs.close()

    def prepare(self) -> None:
        self.open_store()
        self.setup()
        self.on_start()

    def teardown(self) -> None:
        try:
            self.on_stop()
        finally:
            self.close_store()

    def serve(self) -> None:
        self.coordinator.serve()

    def request_stop(self) -> None:
        super().request_stop()
        if self._coordinator is not None:
            self._coordinator.stop()

    # --- hooks ---------------------------------------------------------------------------------------------------
    def on_start(self) -> None:
        """Hook: start background workers. Default: nothing."""

    def on_stop(self) -> None:
        """Hook: stop background workers. Default: nothing."""

    def on_run_start(self, run_id: int) -> None:
        """Hook: a run began. Raising makes the run fail before any action executes."""

    def on_run_end(self, run_id: int, status: RunStatus) -> None:
        """Hook: the run's final status is persisted. Exceptions are logged, not raised."""

    def run_trigger(self, resources: Sequence[BaseResourceNode]) -> str | None:
        """Whether a run starts now: a description of the trigger, or ``None``.

        Default: every monitoring resource's ``trigger_condition()`` holds (there must be at least one).
        """
        if not resources or not all(resource.trigger_condition() for resource in resources):
            return None
        return ",".join(resource.name for resource in resources)


def _merged(what: str, given: Mapping[str, Any] | None, named: dict[str, Any]) -> dict[str, Any]:
    """The records of a ``log_*`` call: the dict (MLflow form; also as the keyword MLflow names it, e.g.
    ``metrics=``) plus the keyword arguments (Anacostia form). A key given both ways is an error."""
    plural = f"{what}s"
    if given is None and isinstance(named.get(plural), Mapping):
        given = named.pop(plural)
    if given is None:
        return named
    if not isinstance(given, Mapping):
        raise MetadataValueError(
            f"log {plural}: the positional argument must be a dict of {plural}, got {type(given).__name__}; "
            f"pass single values as keywords, e.g. key=value"
        )
    twice = sorted(set(given) & set(named))
    if twice:
        raise MetadataValueError(f"log {plural}: {', '.join(map(repr, twice))} given both in the dict and as keywords")
    return {**given, **named}
