"""``BaseResourceNode``: inputs and outputs of the pipeline, and the trigger that starts runs.

A resource keeps its artifact records in the metadata store (its only predecessor), so counts and listings are
indexed SQL queries, never a scan of the underlying storage. Concrete resources (a watched folder, IPFS) detect
content and call :meth:`record_detected`; actions write through :meth:`save_artifact`, which the concrete resource
implements and which must call :meth:`record_produced` so the version is attributed to the run and node executing
now (lineage).

``monitoring=False`` marks an output resource: it never takes part in triggering runs and its contents are never
consumed as run inputs.

Reads are recorded (:mod:`.reads`): inside an execution, ``list_artifacts``/``current_inputs`` log what they
return, and concrete resources call :meth:`record_reads` where code reaches content (a path, a stream, bytes). An
output's lineage is what its execution had read when it was saved, or what ``derived_from=[...]`` names — which must
be among those reads (:class:`~anacostia_blockchain.errors.LineageError` otherwise, checked before anything is
written).

Artifacts an action produces are ``current`` until the run ends, then ``old`` (like the run's inputs), so a pipeline
that writes into its own input folder does not trigger itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, ClassVar

from ..errors import ConfigurationError, GraphValidationError, LineageError, NoActiveRunError
from .artifact import Artifact
from .context import ExecutionContext, current_execution
from .metadata_store import BaseMetadataStoreNode
from .node import BaseNode
from .states import ArtifactState, RunStatus


def parse_state(state: str | ArtifactState) -> ArtifactState:
    try:
        return ArtifactState(state)
    except ValueError:
        valid = ", ".join(s.value for s in ArtifactState)
        raise ConfigurationError(f"unknown artifact state {state!r}; use one of {valid}") from None


class BaseResourceNode(BaseNode):
    """A resource node (see the module docstring). ``metadata_store`` is its predecessor in the DAG."""

    node_kind: ClassVar[str] = "resource"

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        *,
        monitoring: bool = True,
    ) -> None:
        if not isinstance(metadata_store, BaseMetadataStoreNode):
            raise GraphValidationError(
                f"resource {name!r}: metadata_store must be a metadata store node, got {type(metadata_store).__name__}"
            )
        super().__init__(name, predecessors=[metadata_store], loggers=loggers)
        self.metadata_store = metadata_store
        self.monitoring = bool(monitoring)

    # --- the trigger ---------------------------------------------------------------------------------------------
    def trigger_condition(self) -> bool:
        """Whether this resource wants a run now. Default: at least one ``new`` artifact."""
        return self.get_num_artifacts(ArtifactState.NEW) >= 1

    # --- queries -------------------------------------------------------------------------------------------------
    def get_num_artifacts(self, state: str | ArtifactState) -> int:
        """How many artifact versions are in ``state``. ``new`` counts only inputs ready now (not those waiting
        for a retry after a failed run)."""
        return self.metadata_store.runs.count_artifacts(self.name, parse_state(state))

    def list_artifacts(self, state: str | ArtifactState | None = None) -> list[Artifact]:
        """Artifact versions in ``state`` (all states when ``None``), oldest first; same ``new`` rule as above.
        Inside an execution they are recorded as read (``via="list"``)."""
        found = self.metadata_store.runs.list_artifacts(self.name, None if state is None else parse_state(state))
        self.record_reads(found, via="list")
        return found

    def current_inputs(self) -> list[Artifact]:
        """The artifacts of this resource the run executing now consumes."""
        return self.list_artifacts(ArtifactState.CURRENT)

    # --- reads and lineage ---------------------------------------------------------------------------------------
    def record_reads(self, artifacts: Iterable[Artifact], via: str = "open") -> None:
        """Log ``artifacts`` as read by the code executing now (nothing outside an execution)."""
        context = current_execution()
        if context is not None and context.reads is not None:
            context.reads.add(artifacts, via)

    def checked_lineage(self, derived_from: Iterable[Artifact | int] | None) -> list[Artifact] | None:
        """``derived_from`` as artifacts, each one read by the executing code (:class:`LineageError` otherwise);
        ``None`` when not given. Concrete resources call it before writing anything."""
        if derived_from is None:
            return None
        context = current_execution()
        if context is None or context.reads is None:
            raise LineageError(
                f"{self.name}: derived_from=... is checked against what the executing node read; call "
                "save_artifact from the node's execute() (or a work unit)"
            )
        read = {artifact.id: artifact for artifact in context.reads.artifacts()}
        chosen: list[Artifact] = []
        for item in derived_from:
            artifact_id = item.id if isinstance(item, Artifact) else item
            if isinstance(artifact_id, bool) or not isinstance(artifact_id, int) or artifact_id not in read:
                shown = f"{item.resource}:{item.location}" if isinstance(item, Artifact) else repr(item)
                raise LineageError(
                    f"{self.name}: derived_from names {shown}, which {context.node_name or 'this code'} did not read "
                    f"in run {context.run_id} (it read {len(read)} artifact(s) through the resources)"
                )
            chosen.append(read[artifact_id])
        return chosen

    # --- recording -----------------------------------------------------------------------------------------------
    def record_detected(
        self, location: str, sha256: str, size: int, *, state: ArtifactState = ArtifactState.NEW,
        mtime_ns: int | None = None, cid: str | None = None,
    ) -> Artifact:
        """Record content that appeared in the resource and wake the coordinator."""
        artifact = self.metadata_store.runs.record_artifact(
            self.name, location, sha256, size, state=state, mtime_ns=mtime_ns, cid=cid
        )
        self.notify_changed()
        return artifact

    def record_produced(
        self, location: str, sha256: str, size: int, *, mtime_ns: int | None = None, cid: str | None = None,
        derived_from: Iterable[Artifact | int] | None = None,
    ) -> Artifact:
        """Record content written by the executing run and node (``current``, with lineage: ``derived_from``, else
        everything the execution had read so far, else its declared inputs)."""
        declared = self.checked_lineage(derived_from)
        context = current_execution()
        if context is None:
            if self.metadata_store.current_run_id is None:
                raise NoActiveRunError(
                    f"{self.name}: artifacts are saved from an action's execute() while a run is in progress"
                )
            context = self.metadata_store.require_run()  # a helper thread: the run in progress, no node
        sources, basis = _lineage_of(context, declared)
        artifact = self.metadata_store.runs.record_artifact(
            self.name, location, sha256, size, state=ArtifactState.CURRENT, mtime_ns=mtime_ns, cid=cid,
            produced=context, derived_from=sources, basis=basis,
        )
        if context.reads is not None:
            context.reads.add_outputs(1)
        return artifact

    def notify_changed(self) -> None:
        """Tell the coordinator to re-evaluate triggers (no-op before launch)."""
        if self._coordinator is not None and self.monitoring:
            self._coordinator.artifacts_changed()

    # --- hooks for concrete resources ----------------------------------------------------------------------------
    def save_artifact(self, *args: Any, **kwargs: Any) -> Artifact:
        """Store content produced by the executing action; concrete resources define the signature."""
        raise ConfigurationError(f"{type(self).__name__} does not support save_artifact()")

    def record_current(self, *args: Any, **kwargs: Any) -> Artifact:
        """Record content an action already placed in the resource as produced by it."""
        raise ConfigurationError(f"{type(self).__name__} does not support record_current()")

    def after_run(self, run_id: int, status: RunStatus) -> None:
        """Hook: the run ended and its status is persisted (before the store's ``on_run_end``)."""


def _lineage_of(context: ExecutionContext, declared: list[Artifact] | None) -> tuple[list[Artifact], str]:
    """An output's lineage and its basis: ``declared`` by the node, what it had ``reads``, or its ``inputs``."""
    if declared is not None:
        return declared, "declared"
    if context.reads is None:
        return [], "reads"
    read = context.reads.artifacts()
    return (read, "reads") if read else (list(context.reads.fallback), "inputs")
