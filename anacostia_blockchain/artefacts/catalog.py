"""``Catalog``: artefacts, schemas and relationships recorded in a run store, queryable by name and by content.

Reads the run tags :class:`~.store.ArtefactStore` writes (``artefact:``, ``schema:``, ``relationship:``), from any
object with ``get_runs()`` and ``get_tag_rows(run_id)`` (a :class:`~anacostia_blockchain.metadata.RunStore`, e.g. one
a tool opened on a pipeline's database). By default only runs that succeeded count (``statuses=None``: every run);
entries come oldest run first, so the last one of a name is its newest version.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..engine import current_execution
from ..errors import ArtefactNotFoundError, ValidationError
from .refs import ContentRef
from .relationships import TAG_PREFIX as RELATIONSHIP_PREFIX
from .relationships import Relationship
from .schema import DataSchema
from .store import ARTEFACT_TAG_PREFIX, SCHEMA_TAG_PREFIX


class TaggedRuns(Protocol):
    """What the catalog reads: runs and their tag rows."""

    @property
    def active_run_id(self) -> int | None: ...

    def get_runs(self, status: str | None = None) -> list[dict[str, Any]]: ...

    def get_tag_rows(self, run_id: int | None = None, *, node_name: str | None = None) -> list[dict[str, Any]]: ...


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One artefact recorded by a run: its kind, name and content reference."""

    run_id: int
    node: str | None
    kind: str
    name: str
    ref: ContentRef

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "node": self.node, "kind": self.kind, "name": self.name,
                "ref": self.ref.to_json()}


@dataclass(frozen=True, slots=True)
class RecordedRelationship:
    """A relationship and the run (and node) that recorded it."""

    run_id: int
    node: str | None
    relationship: Relationship

    def to_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "node": self.node, **self.relationship.to_json()}


class Catalog:
    """Artefacts, schemas and relationships of ``runs`` (see the module docstring)."""

    def __init__(self, runs: TaggedRuns, *, statuses: Sequence[str] | None = ("success",)) -> None:
        self.runs = runs
        self.statuses = None if statuses is None else tuple(statuses)

    def __repr__(self) -> str:
        return f"Catalog({self.runs!r})"

    def _rows(self, prefix: str) -> list[dict[str, Any]]:
        wanted = [run["id"] for run in self.runs.get_runs()
                  if self.statuses is None or run["status"] in self.statuses]
        if not wanted:
            return []
        if current_execution() is None and self.runs.active_run_id is None:
            allowed = set(wanted)  # outside a run the tag rows of every run come in one query
            rows = [row for row in self.runs.get_tag_rows() if row["run_id"] in allowed]
        else:  # inside a run the store answers for the current run only: ask run by run
            rows = [row for run_id in wanted for row in self.runs.get_tag_rows(run_id)]
        return sorted((row for row in rows if str(row["key"]).startswith(prefix)), key=lambda r: r["run_id"])

    # --- artefacts -------------------------------------------------------------------------------------------------
    def artefacts(self, kind: str | None = None, name: str | None = None) -> list[CatalogEntry]:
        """Recorded artefacts, oldest run first, optionally of one ``kind`` and ``name``."""
        entries = []
        for row in self._rows(ARTEFACT_TAG_PREFIX):
            value = row["value"]
            entry = CatalogEntry(int(row["run_id"]), row.get("node_name"), str(value["kind"]), str(value["name"]),
                                 ContentRef.from_json(value["ref"]))
            if (kind is None or entry.kind == kind) and (name is None or entry.name == name):
                entries.append(entry)
        return entries

    def latest(self, kind: str, name: str) -> CatalogEntry:
        """The newest ``kind`` artefact called ``name`` (:class:`ArtefactNotFoundError` naming the known ones)."""
        found = self.artefacts(kind, name)
        if found:
            return found[-1]
        known = sorted({entry.name for entry in self.artefacts(kind)})
        raise ArtefactNotFoundError(
            f"no {kind} named {name!r} in the catalog" + (f"; known: {', '.join(known)}" if known else "")
        )

    def find(self, content_id: str) -> CatalogEntry | None:
        """The newest entry whose content is ``content_id`` (a CID or ``sha256:<hex>``), or ``None``."""
        matches = [e for e in self.artefacts() if content_id in (e.ref.id, e.ref.cid, f"sha256:{e.ref.sha256}")]
        return matches[-1] if matches else None

    # --- schemas ---------------------------------------------------------------------------------------------------
    def schemas(self) -> dict[str, DataSchema]:
        """Every schema by name (its newest version)."""
        return {str(row["key"])[len(SCHEMA_TAG_PREFIX):]: DataSchema.from_json(row["value"])
                for row in self._rows(SCHEMA_TAG_PREFIX)}

    def schema(self, name: str) -> DataSchema:
        """The newest schema called ``name``."""
        known = self.schemas()
        if name not in known:
            raise ArtefactNotFoundError(
                f"no schema named {name!r}" + (f"; known: {', '.join(sorted(known))}" if known else "")
            )
        return known[name]

    # --- relationships ---------------------------------------------------------------------------------------------
    def relationships(self, *, type: str | None = None, source: str | None = None,
                      target: str | None = None) -> list[RecordedRelationship]:
        """Recorded relationships, optionally of one ``type`` and from/to one content id (CID or sha256:...)."""
        found = []
        for row in self._rows(RELATIONSHIP_PREFIX):
            try:
                relationship = Relationship.from_json(row["value"])
            except ValidationError:
                continue  # a hand-made tag with this prefix: not ours
            if type is not None and relationship.type != type:
                continue
            if source is not None and not _names(relationship.source, source):
                continue
            if target is not None and not _names(relationship.target, target):
                continue
            found.append(RecordedRelationship(int(row["run_id"]), row.get("node_name"), relationship))
        return found

    def related(self, content_id: str, types: Iterable[str] | None = None) -> list[RecordedRelationship]:
        """Relationships whose source is ``content_id``."""
        allowed = None if types is None else set(types)
        return [r for r in self.relationships(source=content_id)
                if allowed is None or r.relationship.type in allowed]


def _names(ref: ContentRef, content_id: str) -> bool:
    return content_id in (ref.id, ref.cid, f"sha256:{ref.sha256}", ref.sha256)
