"""``ArtefactStore``: save artefacts through a resource and record them in the run.

Inside an action's ``execute()``::

    artefacts = ArtefactStore(self.model_resource, self.metadata_store)
    weights = artefacts.save_content("model.skops", serializer("skops").dumps(model))
    batch = artefacts.save(DatasetBatch("train", items, Formula.of_node(self), schema), "batch.json")
    artefacts.save(ModelCheckpoint.describe("clf", model, "skops", weights, trained_on=batch.ref), "ckpt.json")

:meth:`ArtefactStore.save` writes the document's canonical bytes with the resource's ``save_artifact`` (so it is an
output of the execution, with per-output lineage, anchored with the run like any artifact) and records, as run tags
(anchored too, one manifest leaf each):

- ``artefact:<kind>:<name>`` — the catalog entry: the document's content reference;
- ``schema:<name>`` — each schema the document carries (the data catalog);
- ``relationship:<type>:<source>-><target>`` — each relationship the document states (:mod:`.relationships`).

:meth:`ArtefactStore.relate` records a relationship stated after the fact (an evaluation of an existing checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..engine import Artifact, BaseMetadataStoreNode, BaseResourceNode
from ..ipfs import compute_cid
from .checkpoint import ArtefactDocument
from .refs import ContentRef
from .relationships import Relationship

#: Prefix of the run tags that hold catalog entries and schemas.
ARTEFACT_TAG_PREFIX = "artefact:"
SCHEMA_TAG_PREFIX = "schema:"


def catalog_key(kind: str, name: str) -> str:
    return f"{ARTEFACT_TAG_PREFIX}{kind}:{name}"


@dataclass(frozen=True, slots=True)
class SavedArtefact:
    """A document saved by :class:`ArtefactStore`: the document, the artifact version recorded, its reference."""

    document: ArtefactDocument
    artifact: Artifact
    ref: ContentRef


class ArtefactStore:
    """Saves artefact documents and content through ``resource``, recording them in ``metadata_store``'s run."""

    def __init__(self, resource: BaseResourceNode, metadata_store: BaseMetadataStoreNode) -> None:
        self.resource = resource
        self.metadata_store = metadata_store

    def __repr__(self) -> str:
        return f"ArtefactStore({self.resource.name!r})"

    def save_content(self, location: str, data: bytes, *,
                     derived_from: Iterable[Artifact | int] | None = None) -> ContentRef:
        """Save raw content (weights, an evaluation set) and return its reference."""
        artifact = self.resource.save_artifact(location, data, derived_from=derived_from)
        return self._ref(artifact, data)

    def save(self, document: ArtefactDocument, location: str, *,
             derived_from: Iterable[Artifact | int] | None = None) -> SavedArtefact:
        """Save ``document`` at ``location`` and record its catalog entry, schemas and relationships."""
        data = document.to_bytes()
        artifact = self.resource.save_artifact(location, data, derived_from=derived_from)
        ref = self._ref(artifact, data)
        tags: dict[str, Any] = {catalog_key(document.kind, document.name): {
            "kind": document.kind, "name": document.name, "ref": ref.to_json(),
            "schemas": [schema.name for schema in document.schemas()]}}
        for schema in document.schemas():
            tags[SCHEMA_TAG_PREFIX + schema.name] = schema.to_json()
        for relationship in document.relationships(ref):
            tags[relationship.tag_key] = relationship.to_json()
        self.metadata_store.set_tags(tags)
        return SavedArtefact(document, artifact, ref)

    def relate(self, type: str, source: ContentRef, target: ContentRef) -> Relationship:
        """Record ``source`` ``type`` ``target`` in the executing run."""
        relationship = Relationship(type, source, target)
        self.metadata_store.set_tags({relationship.tag_key: relationship.to_json()})
        return relationship

    def _ref(self, artifact: Artifact, data: bytes) -> ContentRef:
        return ContentRef(artifact.sha256, artifact.size, artifact.cid or compute_cid(data), artifact.resource,
                          artifact.location)
