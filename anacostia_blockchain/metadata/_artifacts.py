"""Artifact records: what resources detect and produce, their states, and pruning.

``new`` means *ready*: an input waiting for its retry after a failed run (``retry_at`` in the future) is stored as
``new`` but neither counted nor listed as ``new`` until its time comes, and no run consumes it before then.

Every query is kept to the store's pipeline (``_scoped``), and every version records it: two pipelines may both
have a resource named ``data`` in one database.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, bindparam, case, func, literal, or_, select

from ..engine import Artifact, ArtifactState, ExecutionContext
from ..errors import ArtifactNotFoundError
from ._database import Database, inserted_id
from .schema import ARTIFACT_FIELDS, artifacts, lineage

_CHUNK = 500
#: States a version leaves for ``deleted`` when its content disappears; a ``current`` one stays current until its
#: run ends (the run is using it), then becomes ``old`` like any input.
_DELETABLE = (ArtifactState.NEW, ArtifactState.OLD, ArtifactState.QUARANTINED)


def row_to_artifact(row: Any) -> Artifact:
    return Artifact(
        id=row.id, resource=row.resource, location=row.location, sha256=row.sha256, size=row.size,
        state=ArtifactState(row.state), detected_at=row.detected_at, detected_run_id=row.detected_run_id,
        consumed_run_id=row.consumed_run_id, produced_run_id=row.produced_run_id,
        produced_by_node=row.produced_by_node, cid=row.cid, attempts=row.attempts, retry_at=row.retry_at,
        quarantine_reason=row.quarantine_reason, mtime_ns=row.mtime_ns,
    )


def _state_filter(state: ArtifactState) -> ColumnElement[bool]:
    """Versions in ``state``; a ``new`` one only once its retry time (bound as ``w_now``) has come."""
    condition = artifacts.c.state == state.value
    if state is ArtifactState.NEW:
        condition = and_(condition, or_(artifacts.c.retry_at.is_(None), artifacts.c.retry_at <= bindparam("w_now")))
    return condition


def deleted_state() -> Any:
    return case((artifacts.c.state.in_([s.value for s in _DELETABLE]), literal(ArtifactState.DELETED.value)),
                else_=artifacts.c.state)


class ArtifactRecords:
    """The artifact half of :class:`~anacostia_blockchain.metadata.RunStore` (see ``engine.RunRecords``)."""

    name: str
    pipeline: str | None
    _db: Database
    _active_run_id: int | None
    _scoped: Callable[[Any], ColumnElement[bool]]
    #: Count and list queries by ``(kind, state)``, built on first use (see ``_artifact_query``).
    _artifact_queries: dict[tuple[str, ArtifactState | None], Select[Any]]
    #: ``(conn, execution_id, run_id, output_id, derived_from, basis)``: from ``_executions.ExecutionRecords``.
    record_outputs: Callable[[Connection, int, int, int, Sequence[Artifact], str], None]

    def record_artifact(
        self, resource: str, location: str, sha256: str, size: int, *, state: ArtifactState = ArtifactState.NEW,
        mtime_ns: int | None = None, cid: str | None = None, produced: ExecutionContext | None = None,
        derived_from: Sequence[Artifact] = (), basis: str = "reads",
    ) -> Artifact:
        now = time.time()
        artifact = Artifact(
            id=0, resource=resource, location=location, sha256=sha256, size=int(size), mtime_ns=mtime_ns,
            state=ArtifactState(state), detected_at=now, detected_run_id=self._active_run_id, consumed_run_id=None,
            produced_run_id=produced.run_id if produced else None,
            produced_by_node=produced.node_name if produced else None, cid=cid, attempts=0, retry_at=None,
            quarantine_reason=None,
        )
        values = {**artifact.to_dict(), "state": artifact.state.value, "pipeline": self.pipeline}
        del values["id"]
        with self._db.write("record artifact") as conn:
            conn.execute(
                artifacts.update()
                .where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                       artifacts.c.location == location,
                       artifacts.c.deleted_at.is_(None))
                .values(state=deleted_state(), deleted_at=now)
            )
            artifact_id = inserted_id(conn.execute(artifacts.insert().values(**values)))
            if produced is not None:
                conn.execute(lineage.insert().values(run_id=produced.run_id, artifact_id=artifact_id,
                                                     relation="produced", node_name=produced.node_name))
                if produced.execution_id is not None:
                    self.record_outputs(conn, produced.execution_id, produced.run_id, artifact_id, derived_from,
                                        basis)
        return dataclasses.replace(artifact, id=artifact_id)

    def record_artifacts(
        self, resource: str, versions: Sequence[tuple[str, str, int, int | None]], *,
        state: ArtifactState = ArtifactState.NEW,
    ) -> int:
        now = time.time()
        state_value = ArtifactState(state).value
        rows = [{"resource": resource, "location": location, "sha256": sha256, "size": int(size),
                 "mtime_ns": mtime_ns, "state": state_value, "detected_at": now,
                 "detected_run_id": self._active_run_id, "attempts": 0, "pipeline": self.pipeline}
                for location, sha256, size, mtime_ns in versions]
        if not rows:
            return 0
        locations = [row["location"] for row in rows]
        with self._db.write("record artifacts") as conn:
            for start in range(0, len(locations), _CHUNK):
                conn.execute(
                    artifacts.update()
                    .where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                           artifacts.c.location.in_(locations[start:start + _CHUNK]),
                           artifacts.c.deleted_at.is_(None))
                    .values(state=deleted_state(), deleted_at=now)
                )
            conn.execute(artifacts.insert(), rows)
        return len(rows)

    def mark_artifacts_deleted(self, resource: str, locations: Iterable[str]) -> int:
        """Mark the present versions at ``locations`` deleted; returns how many rows changed."""
        wanted = list(locations)
        changed = 0
        now = time.time()
        with self._db.write("mark artifacts deleted") as conn:
            for start in range(0, len(wanted), _CHUNK):
                result = conn.execute(
                    artifacts.update()
                    .where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                           artifacts.c.location.in_(wanted[start:start + _CHUNK]),
                           artifacts.c.deleted_at.is_(None))
                    .values(state=deleted_state(), deleted_at=now)
                )
                changed += result.rowcount
        return changed

    def count_artifacts(self, resource: str, state: ArtifactState) -> int:
        query = self._artifact_query("count", ArtifactState(state))
        with self._db.read("count artifacts") as conn:
            return int(conn.execute(query, {"w_resource": resource, "w_now": time.time()}).scalar_one())

    def list_artifacts(self, resource: str, state: ArtifactState | None = None) -> list[Artifact]:
        query = self._artifact_query("list", None if state is None else ArtifactState(state))
        with self._db.read("list artifacts") as conn:
            return [row_to_artifact(row) for row in conn.execute(query, {"w_resource": resource, "w_now": time.time()})]

    def _artifact_query(self, kind: str, state: ArtifactState | None) -> Select[Any]:
        """The count or list query of a resource's versions (bound as ``w_resource``) in ``state``, built once per
        store (building a statement costs more than running it on these hot paths)."""
        query = self._artifact_queries.get((kind, state))
        if query is None:
            scope = (self._scoped(artifacts.c.pipeline), artifacts.c.resource == bindparam("w_resource"))
            if kind == "count":
                query = select(func.count()).select_from(artifacts).where(*scope)
            else:
                query = select(*ARTIFACT_FIELDS).where(*scope).order_by(artifacts.c.id)
            if state is not None:
                query = query.where(_state_filter(state))
            self._artifact_queries[(kind, state)] = query
        return query

    def present_artifacts(self, resource: str) -> dict[str, Artifact]:
        query = (select(*ARTIFACT_FIELDS).where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                                                artifacts.c.deleted_at.is_(None))
                 .order_by(artifacts.c.id))
        with self._db.read("load artifacts") as conn:
            return {row.location: row_to_artifact(row) for row in conn.execute(query)}

    def set_artifact_cid(self, artifact_id: int, cid: str) -> None:
        with self._db.write("set artifact cid") as conn:
            result = conn.execute(artifacts.update().where(artifacts.c.id == artifact_id).values(cid=cid))
        if result.rowcount == 0:
            raise ArtifactNotFoundError(f"{self.name}: no artifact with id {artifact_id}")

    def prune_old(self, resource: str, keep: int) -> list[Artifact]:
        """Mark all but the newest ``keep`` present ``old`` versions deleted and return them (to remove)."""
        query = (select(*ARTIFACT_FIELDS)
                 .where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                        artifacts.c.state == ArtifactState.OLD.value,
                        artifacts.c.deleted_at.is_(None))
                 .order_by(artifacts.c.id.desc()).offset(keep))
        now = time.time()
        with self._db.write("prune old artifacts") as conn:
            rows = [row_to_artifact(row) for row in conn.execute(query)]
            ids = [artifact.id for artifact in rows]
            for start in range(0, len(ids), _CHUNK):
                conn.execute(artifacts.update().where(artifacts.c.id.in_(ids[start:start + _CHUNK]))
                             .values(state=ArtifactState.DELETED.value, deleted_at=now))
        return rows

    def next_input_retry_at(self, resources: Sequence[str]) -> float | None:
        if not resources:
            return None
        query = select(func.min(artifacts.c.retry_at)).where(
            self._scoped(artifacts.c.pipeline), artifacts.c.resource.in_(list(resources)),
            artifacts.c.state == ArtifactState.NEW.value,
            artifacts.c.retry_at > time.time(),
        )
        with self._db.read("next input retry") as conn:
            value = conn.execute(query).scalar_one_or_none()
        return float(value) if value is not None else None
