"""``BaseMetadataStoreNode``: the persistence contract the engine runs on, and the run loop's thread.

The engine never imports a database library. A concrete store (``SqliteMetadataStore`` in
:mod:`anacostia_blockchain.metadata`) implements the abstract methods below; the engine calls them from the
coordinator (run start/end), action threads (node results) and resources (artifact records), concurrently, so an
implementation must be thread-safe.

Subclass hooks for extensions (the blockchain store uses them):

- ``on_start()`` / ``on_stop()``: start/stop background workers (outboxes). ``on_start`` runs during
  ``Pipeline.launch()`` after the database is open; ``on_stop`` after every node thread has stopped.
- ``on_run_start(run_id)``: the run row exists and its inputs are ``current``; no action has started yet.
- ``on_run_end(run_id, status)``: called after the run's final status and artifact states are persisted.
- ``run_trigger(resources)``: when a run starts (default: every monitoring resource's ``trigger_condition()``).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import NoActiveRunError
from .artifact import Artifact
from .context import ExecutionContext, current_execution
from .node import BaseNode
from .states import ArtifactState, NodeStatus, RunStatus

if TYPE_CHECKING:
    from .resource import BaseResourceNode

#: A metric for ``log_batch``: ``(key, value)`` or ``(key, value, step)``.
MetricRow = tuple[str, float] | tuple[str, float, int | None]


class BaseMetadataStoreNode(BaseNode):
    """The pipeline's single metadata store (see the module docstring for the contract and hooks)."""

    node_kind: ClassVar[str] = "metadata_store"

    def __init__(self, name: str, loggers: logging.Logger | Iterable[logging.Logger] | None = None) -> None:
        super().__init__(name, predecessors=None, loggers=loggers)
        self._active_run_id: int | None = None

    # --- run context ---------------------------------------------------------------------------------------------
    @property
    def current_run_id(self) -> int | None:
        """The run of the ``execute()`` on this thread, else the run in progress, else ``None``."""
        context = current_execution()
        return context.run_id if context is not None else self._active_run_id

    def require_run(self) -> ExecutionContext:
        """The context to attribute a record to; :class:`NoActiveRunError` outside a run."""
        context = current_execution()
        if context is not None:
            return context
        run_id = self._active_run_id
        if run_id is None:
            raise NoActiveRunError(
                f"{self.name}: nothing to attribute this to; log metrics, params, tags and artifacts from an "
                "action's execute() while a run is in progress"
            )
        return ExecutionContext(run_id, None)

    # --- thread --------------------------------------------------------------------------------------------------
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

    # --- persistence contract used by the engine -------------------------------------------------------------------
    @abstractmethod
    def open_store(self) -> None:
        """Create/upgrade the schema, mark interrupted runs ``aborted`` (inputs back to ``new``)."""

    @abstractmethod
    def close_store(self) -> None:
        """Release connections (the pipeline calls it after ``on_stop()``)."""

    @abstractmethod
    def register_nodes(self, nodes: Sequence[BaseNode]) -> None:
        """Record the pipeline's nodes (name, kind, class, code fingerprint)."""

    @abstractmethod
    def begin_run(self, trigger: str, resources: Sequence[str]) -> int:
        """Create a run (new, increasing id) and move the eligible ``new`` artifacts of ``resources`` to
        ``current`` as its inputs. Sets the active run."""

    @abstractmethod
    def end_run(self, run_id: int, status: RunStatus, error: str | None = None) -> None:
        """Persist the run's end; success: its artifacts become ``old``; failed: inputs back to ``new`` with a
        backoff or ``quarantined`` after the retry limit; aborted: inputs back to ``new``. Clears the active run."""

    @abstractmethod
    def next_input_retry_at(self, resources: Sequence[str]) -> float | None:
        """Earliest wall-clock time at which a ``new`` input waiting for its retry becomes eligible."""

    @abstractmethod
    def record_node_start(self, run_id: int, node_name: str, code_fingerprint: str) -> int:
        """A node began executing in a run; returns the id of its result row."""

    @abstractmethod
    def record_node_end(
        self, node_run_id: int, status: NodeStatus, *, error: str | None = None, traceback: str | None = None,
        attempts: int = 1,
    ) -> None:
        """The node's final status for the run, after ``attempts`` attempts."""

    @abstractmethod
    def record_node_result(
        self, run_id: int, node_name: str, status: NodeStatus, code_fingerprint: str, error: str | None = None
    ) -> None:
        """A node that did not execute in the run (skipped or aborted)."""

    # --- artifacts (resources call these) ------------------------------------------------------------------------
    @abstractmethod
    def record_artifact(
        self, resource: str, location: str, sha256: str, size: int, *, state: ArtifactState = ArtifactState.NEW,
        mtime_ns: int | None = None, cid: str | None = None, produced: ExecutionContext | None = None,
    ) -> Artifact:
        """Record a new version at ``location``; earlier versions there are marked deleted (their content is gone).
        ``produced``: the run and node that wrote it (lineage)."""

    @abstractmethod
    def record_artifacts(
        self, resource: str, versions: Sequence[tuple[str, str, int, int | None]], *,
        state: ArtifactState = ArtifactState.NEW,
    ) -> int:
        """Bulk form of :meth:`record_artifact` for detected content, one transaction: ``versions`` are
        ``(location, sha256, size, mtime_ns)``. Returns how many were recorded."""

    @abstractmethod
    def mark_artifacts_deleted(self, resource: str, locations: Iterable[str]) -> int:
        """The content at ``locations`` is gone: mark their present versions deleted; returns rows changed."""

    @abstractmethod
    def count_artifacts(self, resource: str, state: ArtifactState) -> int:
        """How many versions of ``resource`` are in ``state`` (``new``: only those ready now)."""

    @abstractmethod
    def list_artifacts(self, resource: str, state: ArtifactState | None = None) -> list[Artifact]:
        """Versions of ``resource`` (in ``state``, all when ``None``), oldest first."""

    @abstractmethod
    def present_artifacts(self, resource: str) -> dict[str, Artifact]:
        """The latest not-deleted version at each location of ``resource``."""

    @abstractmethod
    def set_artifact_cid(self, artifact_id: int, cid: str) -> None:
        """Attach a content identifier (IPFS CID) to a recorded version."""

    @abstractmethod
    def prune_old(self, resource: str, keep: int) -> list[Artifact]:
        """Mark all but the newest ``keep`` present ``old`` versions deleted and return them."""

    # --- the user's logging API ----------------------------------------------------------------------------------
    @abstractmethod
    def log_metrics(self, step: int | None = None, **metrics: float) -> None:
        """Record numeric metrics for the executing run and node."""

    @abstractmethod
    def log_params(self, **params: Any) -> None:
        """Record parameters of the executing run."""

    @abstractmethod
    def set_tags(self, **tags: Any) -> None:
        """Tag the executing run."""

    @abstractmethod
    def log_batch(
        self,
        metrics: Mapping[str, float] | Sequence[MetricRow] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Record many metrics (mapping or ``MetricRow`` rows), params and tags in one transaction."""

    @abstractmethod
    def export_run(self, run_id: int) -> dict[str, Any]:
        """Everything the run recorded, as plain JSON-able data."""
