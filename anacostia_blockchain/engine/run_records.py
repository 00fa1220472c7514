"""``RunRecords``: the persistence contract the engine runs on (runs, node results, artifacts, what users log).

The engine never imports a database library. A metadata store node holds one object with these methods (its
``runs`` attribute; :class:`~anacostia_blockchain.metadata.RunStore` is the SQL one) and the engine calls it from
the coordinator (run start/end), action threads (node results) and resources (artifact records), concurrently, so an
implementation must be thread-safe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .artifact import Artifact
from .cache import ExecutionSpec, ReusableExecution
from .context import ExecutionContext
from .reads import Read
from .states import ArtifactState, NodeStatus, RunStatus

if TYPE_CHECKING:
    from .node import BaseNode

#: A metric for ``log_batch``: ``(key, value)`` or ``(key, value, step)``.
MetricRow = tuple[str, float] | tuple[str, float, int | None]


class RunRecords(Protocol):
    """What the engine needs from a metadata store's storage (see the module docstring)."""

    @property
    def active_run_id(self) -> int | None:
        """The run in progress (begun and not yet ended), or ``None``."""

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def open(self) -> list[int]:
        """Create/upgrade the schema and mark interrupted runs ``aborted`` (inputs back to ``new``); returns
        their ids."""

    def close(self) -> None:
        """Release connections."""

    def register_nodes(self, pipeline_nodes: Sequence[BaseNode]) -> None:
        """Record the pipeline's nodes (name, kind, class, code fingerprint)."""

    # --- runs and node results -----------------------------------------------------------------------------------
    def begin_run(self, trigger: str, resources: Sequence[str]) -> int:
        """Create a run (new, increasing id) and move the eligible ``new`` artifacts of ``resources`` to
        ``current`` as its inputs. Sets the active run."""

    def end_run(self, run_id: int, status: RunStatus, error: str | None = None) -> None:
        """Persist the run's end; success: its artifacts become ``old``; failed: inputs back to ``new`` with a
        backoff or ``quarantined`` after the retry limit; aborted: inputs back to ``new``. Clears the active run."""

    def next_input_retry_at(self, resources: Sequence[str]) -> float | None:
        """Earliest wall-clock time at which a ``new`` input waiting for its retry becomes eligible."""

    def record_node_start(self, run_id: int, node_name: str, code_fingerprint: str) -> int:
        """A node began executing in a run; returns the id of its result row."""

    def record_node_end(
        self, node_run_id: int, status: NodeStatus, *, error: str | None = None, traceback: str | None = None,
        attempts: int = 1,
    ) -> None:
        """The node's final status for the run, after ``attempts`` attempts."""

    def record_node_result(
        self, run_id: int, node_name: str, status: NodeStatus, code_fingerprint: str, error: str | None = None
    ) -> None:
        """A node that did not execute in the run (skipped or aborted)."""

    # --- artifacts (resources call these) ------------------------------------------------------------------------
    def record_artifact(
        self, resource: str, location: str, sha256: str, size: int, *, state: ArtifactState = ArtifactState.NEW,
        mtime_ns: int | None = None, cid: str | None = None, produced: ExecutionContext | None = None,
        derived_from: Sequence[Artifact] = (), basis: str = "reads",
    ) -> Artifact:
        """Record a new version at ``location``; earlier versions there are marked deleted (their content is gone).
        ``produced``: the run and node (and execution) that wrote it; ``derived_from``: the artifacts it was made
        from (per-output lineage; ``basis``: ``declared`` by the node, what it had ``reads``, or its ``inputs``)."""

    def record_artifacts(
        self, resource: str, versions: Sequence[tuple[str, str, int, int | None]], *,
        state: ArtifactState = ArtifactState.NEW,
    ) -> int:
        """Bulk form of :meth:`record_artifact` for detected content, one transaction: ``versions`` are
        ``(location, sha256, size, mtime_ns)``. Returns how many were recorded."""

    def mark_artifacts_deleted(self, resource: str, locations: Iterable[str]) -> int:
        """The content at ``locations`` is gone: mark their present versions deleted; returns rows changed."""

    def count_artifacts(self, resource: str, state: ArtifactState) -> int:
        """How many versions of ``resource`` are in ``state`` (``new``: only those ready now)."""

    def list_artifacts(self, resource: str, state: ArtifactState | None = None) -> list[Artifact]:
        """Versions of ``resource`` (in ``state``, all when ``None``), oldest first."""

    def present_artifacts(self, resource: str) -> dict[str, Artifact]:
        """The latest not-deleted version at each location of ``resource``."""

    def set_artifact_cid(self, artifact_id: int, cid: str) -> None:
        """Attach a content identifier (IPFS CID) to a recorded version."""

    def prune_old(self, resource: str, keep: int) -> list[Artifact]:
        """Mark all but the newest ``keep`` present ``old`` versions deleted and return them."""

    # --- what users log (the node resolves the context) ----------------------------------------------------------
    def log_metrics(self, context: ExecutionContext, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Record numeric metrics for ``context``'s run and node."""

    def log_params(self, context: ExecutionContext, params: Mapping[str, Any]) -> None:
        """Record parameters of ``context``'s run."""

    def set_tags(self, context: ExecutionContext, tags: Mapping[str, Any]) -> None:
        """Tag ``context``'s run."""

    def log_batch(
        self,
        context: ExecutionContext,
        metrics: Mapping[str, float] | Sequence[MetricRow] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Record many metrics (mapping or ``MetricRow`` rows), params and tags in one transaction."""

    def export_run(self, run_id: int) -> dict[str, Any]:
        """Everything the run recorded, as plain JSON-able data."""

    # --- executions, reads and the cache (engine/cache.py) --------------------------------------------------------
    def begin_execution(self, run_id: int, spec: ExecutionSpec) -> int:
        """An execution (a node's, or a work unit's) starts now; returns its id (outputs are saved under it)."""

    def end_execution(
        self, execution_id: int, status: NodeStatus, *, reads: Sequence[Read] = (), reusable: bool = False,
        error: str | None = None,
    ) -> None:
        """The execution's outcome, what it read, and whether a later execution with its key may reuse it."""

    def end_node_execution(
        self, node_run_id: int, execution_id: int, status: NodeStatus, *, reads: Sequence[Read] = (),
        reusable: bool = False, error: str | None = None, traceback: str | None = None, attempts: int = 1,
    ) -> None:
        """``end_execution`` and ``record_node_end`` of a node that executed, together (one write per node)."""

    def record_unchanged(self, run_id: int, spec: ExecutionSpec) -> None:
        """The node did not execute in the run because none of its inputs changed."""

    def find_reusable(self, keys: Sequence[str]) -> dict[str, ReusableExecution]:
        """Per key, the newest reusable execution whose outputs are all still present (keys without one are
        absent)."""

    def link_reused(
        self, run_id: int, links: Sequence[tuple[ExecutionSpec, ReusableExecution]], *, copy_logged: bool = False
    ) -> list[int]:
        """Record each spec as reused from its execution in one transaction: the outputs become new versions
        produced in ``run_id`` (same content, same place), with their lineage mapped onto the spec's inputs;
        ``copy_logged``: the metrics, params and tags the original execution logged (a node's: everything the node
        logged in that run; a work unit's: what its execution logged) are copied into this one, attributed to the new
        execution and marked as reused from the execution that logged them. Returns the new execution ids."""

    def run_outputs(self, run_id: int, node_names: Sequence[str]) -> list[Artifact]:
        """What ``node_names`` produced (or had linked) in the run so far."""
