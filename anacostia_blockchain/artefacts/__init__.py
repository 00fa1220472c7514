"""Datasets and models as artefacts: batches with their formulas, the data catalog, checkpoints, serializers,
typed relationships, and the provenance graph of any recorded object.

- :class:`ContentRef` — content by reference (CID, sha256, size, where it was recorded);
- :class:`DatasetBatch` and :class:`Formula` — the exact content a consumer used, and how it was made;
- :class:`DataSchema` — column/record/tensor schemas; the data catalog is :class:`Catalog` (by name);
- :class:`ModelCheckpoint`, :class:`ModelCard` and :mod:`.serializers` (``linear-json``, ``skops``,
  ``safetensors``, ``pickle`` behind ``allow_pickle=True``);
- :class:`Relationship` — ``trained_on``, ``evaluated_on``, ``derived_from``, ``card_of``;
- :class:`ArtefactStore` — saves documents through a resource and records them in the run (anchored with it);
- :func:`lineage_graph` (one target) and :func:`lineage_graph_of` (several, one graph) — runs, nodes, code, inputs,
  batches, reuse and anchors behind an artifact or CID, and
  :func:`verify_graph` — each step checked against the chain and each content against its CID.

See docs/provenance.md.
"""

from ._checks import verify_graph
from .batch import DatasetBatch, Formula
from .catalog import Catalog, CatalogEntry, RecordedRelationship
from .checkpoint import ArtefactDocument, ModelCard, ModelCheckpoint, load_document
from .provenance import LineageGraph, lineage_graph, lineage_graph_of
from .refs import ContentRef
from .relationships import RELATIONSHIP_TYPES, Relationship
from .schema import Column, DataSchema
from .serializers import (
    LinearModel,
    Serializer,
    register_serializer,
    serializer,
    serializer_names,
)
from .store import ArtefactStore, SavedArtefact

__all__ = [
    "RELATIONSHIP_TYPES",
    "ArtefactDocument",
    "ArtefactStore",
    "Catalog",
    "CatalogEntry",
    "Column",
    "ContentRef",
    "DataSchema",
    "DatasetBatch",
    "Formula",
    "LineageGraph",
    "LinearModel",
    "ModelCard",
    "ModelCheckpoint",
    "RecordedRelationship",
    "Relationship",
    "SavedArtefact",
    "Serializer",
    "lineage_graph",
    "lineage_graph_of",
    "load_document",
    "register_serializer",
    "serializer",
    "serializer_names",
    "verify_graph",
]
