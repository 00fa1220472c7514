"""The pipelines a dashboard serves, each with the name it is shown (and linked) under.

``create_app(..., pipeline=...)`` takes one engine ``Pipeline``, a sequence of them, or a mapping ``{name: pipeline}``.
A pipeline's name is, in order: its key in the mapping, the name its anchoring store hashes into the ``pipelineId``
(``BlockchainMetadataStore(pipeline="digits-training")``), its ``name`` attribute, its metadata store's node name.
Anchored pipelines also carry their ``pipelineId`` (hex), which links a model's lineage and the index's anchored runs
to the pipeline's own run pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ...errors import ConfigurationError


@dataclass(frozen=True)
class ServedPipeline:
    """One pipeline on the dashboard: its display ``name``, the engine ``pipeline`` and its metadata ``store``."""

    name: str
    pipeline: Any
    store: Any

    @property
    def anchoring(self) -> Any | None:
        """The store's anchorer (``BlockchainMetadataStore.anchoring``), ``None`` for a store that does not anchor."""
        return getattr(self.store, "anchoring", None)

    @property
    def pipeline_id(self) -> str | None:
        """``0x…`` keccak of the anchored pipeline name, ``None`` when the pipeline is not anchored."""
        anchoring = self.anchoring
        return None if anchoring is None else "0x" + bytes(anchoring.pipeline_id).hex()

    def run_key(self, run_id: int) -> str | None:
        """The index's key of one of this pipeline's runs (``<pipelineId>-<runId>``), ``None`` if not anchored."""
        pid = self.pipeline_id
        return None if pid is None else f"{pid}-{int(run_id)}"


def _default_name(pipeline: Any) -> str:
    store = pipeline.metadata_store
    anchoring = getattr(store, "anchoring", None)
    if anchoring is not None:
        return str(anchoring.pipeline)
    return str(getattr(pipeline, "name", None) or store.name)


def served_pipelines(value: Any) -> list[ServedPipeline]:
    """The :class:`ServedPipeline` list of ``create_app``'s ``pipeline`` argument (see the module docstring)."""
    if value is None:
        return []
    named: Iterable[tuple[str, Any]]
    if isinstance(value, Mapping):
        named = [(str(name), pipeline) for name, pipeline in value.items()]
    elif isinstance(value, list | tuple):
        named = [(_default_name(pipeline), pipeline) for pipeline in value]
    else:
        named = [(_default_name(value), value)]
    served: list[ServedPipeline] = []
    for name, pipeline in named:
        if not name or "/" in name:
            raise ConfigurationError(f"dashboard pipeline name {name!r} must be non-empty and without '/'")
        if any(s.name == name for s in served):
            raise ConfigurationError(f"two dashboard pipelines are named {name!r}: pass {{name: pipeline}} to rename")
        served.append(ServedPipeline(name, pipeline, pipeline.metadata_store))
    return served


def describe_graph(pipeline: Any) -> dict[str, Any]:
    """Nodes and edges of a pipeline's DAG, JSON-able."""
    nodes = [
        {
            "name": node.name,
            "kind": getattr(node, "node_kind", "node"),
            "class": type(node).__name__,
            "predecessors": [p.name for p in getattr(node, "predecessors", [])],
        }
        for node in pipeline.nodes
    ]
    return {"nodes": nodes, "state": str(getattr(pipeline, "state", "unknown"))}
