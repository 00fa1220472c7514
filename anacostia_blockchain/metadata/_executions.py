"""Executions, reads and the cache in SQL: the provenance half of :class:`~anacostia_blockchain.metadata.RunStore`.

An execution row is written when a node (or one of its work units) starts executing, is reused, or is found
unchanged (see ``engine.cache`` for the key). Only executed rows are ever *reusable*: a reuse points at the execution
that really ran (``reused_from``, ``reused_from_run``), whose outputs stay the source of every later reuse for as long
as their content is present where it was written (the same sha256 at the same location, not deleted).

Linking a reused result into a run writes, in one transaction, a new version of each output (same resource, location
and content; ``produced`` by this run and node, so downstream nodes see it as ``current``), its ``produced`` lineage
edge, and its per-output lineage mapped onto the new execution's inputs by content.

The cache is kept to the store's pipeline: only executions of its runs are reused, and only outputs present in its
own resources count as present.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, bindparam, insert, inspect, select, update

from ..engine import Artifact, ArtifactState, ExecutionSpec, NodeStatus, Read, ReusableExecution
from ..engine.fingerprint import CodeFingerprint
from ._artifacts import deleted_state, row_to_artifact
from ._database import Database, inserted_id
from .schema import (
    ARTIFACT_FIELDS,
    PROVENANCE_TABLES,
    artifact_edges,
    artifacts,
    code_fingerprints,
    execution_outputs,
    executions,
    lineage,
    metrics,
    params,
    tags,
)
from .schema import reads as reads_table

_CHUNK = 500


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start:start + _CHUNK]


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def execution_row(run_id: int, spec: ExecutionSpec, status: NodeStatus, now: float, **extra: Any) -> dict[str, Any]:
    source = spec.code.source
    row = {
        "run_id": run_id, "node_name": spec.node_name, "unit": spec.unit, "status": NodeStatus(status).value,
        "cache_key": spec.key, "fingerprint": spec.code.digest,
        "source_revision": source.revision if source else None, "source_dirty": source.dirty if source else None,
        "params_digest": spec.params_digest,
        "inputs": _json([{"id": a.id, "sha256": a.sha256} for a in spec.inputs]),
        "upstream": _json(list(spec.upstream)), "reusable": False, "reused_from": None, "reused_from_run": None,
        "started_at": now, "ended_at": None, "error": None,
    }
    row.update(extra)
    return row


class ExecutionRecords:
    """Executions, reads, per-output lineage edges and cache lookups (see the module docstring)."""

    name: str
    pipeline: str | None
    _db: Database
    _known_fingerprints: set[str]
    _scoped: Callable[[Any], ColumnElement[bool]]
    _in_runs: Callable[[Any], ColumnElement[bool]]

    # --- fingerprints ----------------------------------------------------------------------------------------------
    def store_fingerprint(self, conn: Connection, code: CodeFingerprint) -> None:
        """Keep the facts behind a fingerprint digest (once per digest)."""
        if code.digest in self._known_fingerprints:
            return
        known = conn.execute(select(code_fingerprints.c.digest).where(code_fingerprints.c.digest == code.digest))
        if known.first() is None:
            conn.execute(insert(code_fingerprints).values(digest=code.digest, details=_json(code.hashed_facts())))
        self._known_fingerprints.add(code.digest)

    # --- executions ------------------------------------------------------------------------------------------------
    def begin_execution(self, run_id: int, spec: ExecutionSpec) -> int:
        with self._db.write("begin execution") as conn:
            self.store_fingerprint(conn, spec.code)
            return inserted_id(conn.execute(
                insert(executions).values(**execution_row(run_id, spec, NodeStatus.RUNNING, time.time()))))

    def end_execution(
        self, execution_id: int, status: NodeStatus, *, reads: Sequence[Read] = (), reusable: bool = False,
        error: str | None = None,
    ) -> None:
        with self._db.write("end execution") as conn:
            row = conn.execute(select(executions.c.run_id, executions.c.node_name)
                               .where(executions.c.id == execution_id)).first()
            if row is None:
                return
            conn.execute(update(executions).where(executions.c.id == execution_id).values(
                status=NodeStatus(status).value, ended_at=time.time(), reusable=bool(reusable), error=error))
            if reads:
                conn.execute(insert(reads_table), [
                    {"run_id": row.run_id, "execution_id": execution_id, "node_name": row.node_name,
                     "artifact_id": read.artifact.id, "via": read.via} for read in reads])

    def record_unchanged(self, run_id: int, spec: ExecutionSpec) -> None:
        now = time.time()
        with self._db.write("record unchanged") as conn:
            self.store_fingerprint(conn, spec.code)
            conn.execute(insert(executions).values(**execution_row(run_id, spec, NodeStatus.UNCHANGED, now,
                                                                   ended_at=now)))

    def record_outputs(
        self, conn: Connection, execution_id: int, run_id: int, output_id: int, derived_from: Sequence[Artifact],
        basis: str,
    ) -> None:
        """An execution saved ``output_id``, made from ``derived_from`` (in the caller's transaction)."""
        conn.execute(insert(execution_outputs).values(execution_id=execution_id, artifact_id=output_id))
        if derived_from:
            conn.execute(insert(artifact_edges), [
                {"run_id": run_id, "execution_id": execution_id, "output_id": output_id, "input_id": source.id,
                 "relation": "derived_from", "basis": basis} for source in derived_from])

    # --- the cache ---------------------------------------------------------------------------------------------------
    def find_reusable(self, keys: Sequence[str]) -> dict[str, ReusableExecution]:
        wanted = list(dict.fromkeys(keys))
        found: dict[str, ReusableExecution] = {}
        if not wanted:
            return found
        with self._db.read("find reusable") as conn:
            for chunk in _chunks(wanted):
                found.update(_newest_present(conn.execute(self._reusable_statement, {"keys": list(chunk)})))
        return found

    @cached_property
    def _reusable_statement(self) -> Any:
        """The lookup statement (built once per store: building it costs more than running it)."""
        return _reusable_query(self._in_runs(executions), self._scoped)

    def link_reused(
        self, run_id: int, links: Sequence[tuple[ExecutionSpec, ReusableExecution]], *, copy_logged: bool = False
    ) -> list[int]:
        if not links:
            return []
        now = time.time()
        with self._db.write("link reused results") as conn:
            for code in {spec.code.digest: spec.code for spec, _ in links}.values():
                self.store_fingerprint(conn, code)
            ids = _insert_returning(conn, executions, [
                execution_row(run_id, spec, NodeStatus.REUSED, now, ended_at=now, reused_from=source.execution_id,
                              reused_from_run=source.origin_run_id) for spec, source in links], ("cache_key", "unit"))
            edges = self._source_edges(conn, [a.id for _, source in links for a in source.outputs])
            self._supersede(conn, [a for _, source in links for a in source.outputs], now,
                            self._scoped(artifacts.c.pipeline))
            versions = [(execution_id, spec, output) for execution_id, (spec, source) in zip(ids, links, strict=True)
                        for output in source.outputs]
            new_ids = _insert_returning(conn, artifacts, [
                {**_version_values(output, run_id, spec.node_name, now), "pipeline": self.pipeline}
                for _, spec, output in versions],
                ("resource", "location", "sha256"))
            conn.execute(insert(lineage), [
                {"run_id": run_id, "artifact_id": new_id, "relation": "produced", "node_name": spec.node_name}
                for new_id, (_, spec, _) in zip(new_ids, versions, strict=True)])
            conn.execute(insert(execution_outputs), [
                {"execution_id": execution_id, "artifact_id": new_id}
                for new_id, (execution_id, _, _) in zip(new_ids, versions, strict=True)])
            mapped = _mapped_edges(run_id, versions, new_ids, edges)
            if mapped:
                conn.execute(insert(artifact_edges), mapped)
            if copy_logged:
                for spec, source in links:
                    _copy_logged(conn, source.origin_run_id, run_id, spec.node_name, now)
        return ids

    @staticmethod
    def _source_edges(conn: Connection, output_ids: Sequence[int]) -> dict[int, list[Any]]:
        """``{output id: [(input id, input sha256), ...]}`` of the original outputs' lineage."""
        edges: dict[int, list[Any]] = {}
        for chunk in _chunks(list(output_ids)):
            query = (select(artifact_edges.c.output_id, artifact_edges.c.input_id, artifacts.c.sha256)
                     .join(artifacts, artifacts.c.id == artifact_edges.c.input_id)
                     .where(artifact_edges.c.output_id.in_(list(chunk)),
                            artifact_edges.c.relation == "derived_from"))
            for row in conn.execute(query):
                edges.setdefault(row.output_id, []).append((row.input_id, row.sha256))
        return edges

    @staticmethod
    def _supersede(conn: Connection, outputs: Sequence[Artifact], now: float, scope: ColumnElement[bool]) -> None:
        """The present versions at the outputs' locations are superseded by the new versions written next."""
        by_resource: dict[str, list[str]] = {}
        for artifact in outputs:
            by_resource.setdefault(artifact.resource, []).append(artifact.location)
        for resource, locations in by_resource.items():
            for chunk in _chunks(sorted(set(locations))):
                conn.execute(update(artifacts).where(
                    scope, artifacts.c.resource == resource, artifacts.c.location.in_(list(chunk)),
                    artifacts.c.deleted_at.is_(None)).values(state=deleted_state(), deleted_at=now))

    def run_outputs(self, run_id: int, node_names: Sequence[str]) -> list[Artifact]:
        if not node_names:
            return []
        query = (select(*ARTIFACT_FIELDS).join(lineage, lineage.c.artifact_id == artifacts.c.id)
                 .where(lineage.c.run_id == run_id, lineage.c.relation == "produced",
                        lineage.c.node_name.in_(list(node_names))).order_by(artifacts.c.id))
        with self._db.read("run outputs") as conn:
            return [row_to_artifact(row) for row in conn.execute(query)]


def _reusable_query(in_runs: ColumnElement[bool], scoped: Callable[[Any], ColumnElement[bool]]) -> Any:
    """Reusable executions with the keys bound as ``keys`` (of runs ``in_runs``), newest first, one row per output,
    with whether the output's content is still present where it was written (one statement: presence is a
    correlated ``EXISTS`` on the ``(resource, location)`` index)."""
    present = artifacts.alias("present")
    still_there = (select(present.c.id).where(
        scoped(present.c.pipeline), present.c.resource == artifacts.c.resource,
        present.c.location == artifacts.c.location, present.c.sha256 == artifacts.c.sha256,
        present.c.deleted_at.is_(None)).exists())
    return (select(executions.c.id.label("execution_id"), executions.c.run_id.label("execution_run"),
                   executions.c.cache_key, still_there.label("present"), *ARTIFACT_FIELDS)
            .join(execution_outputs, execution_outputs.c.execution_id == executions.c.id)
            .join(artifacts, artifacts.c.id == execution_outputs.c.artifact_id)
            .where(executions.c.cache_key.in_(bindparam("keys", expanding=True)), executions.c.reusable.is_(True),
                   in_runs)
            .order_by(executions.c.id.desc(), artifacts.c.id))


def _newest_present(rows: Iterable[Any]) -> dict[str, ReusableExecution]:
    """Per key, the newest execution whose outputs are all present."""
    grouped: dict[int, list[Any]] = {}
    for row in rows:
        grouped.setdefault(row.execution_id, []).append(row)
    found: dict[str, ReusableExecution] = {}
    for execution_id, outputs in grouped.items():  # newest first
        first = outputs[0]
        if first.cache_key in found or not all(row.present for row in outputs):
            continue
        found[first.cache_key] = ReusableExecution(execution_id, first.execution_run, first.execution_run,
                                                   first.cache_key, tuple(row_to_artifact(row) for row in outputs))
    return found


def _insert_returning(conn: Connection, table: Any, rows: list[dict[str, Any]], match: tuple[str, ...]) -> list[int]:
    """Insert ``rows`` in multi-row statements and return their ids in ``rows`` order, matching the returned rows on
    the ``match`` columns (rows equal on them are interchangeable). Asking the driver to keep the order instead makes
    SQLAlchemy insert SQLite rows one at a time."""
    returned: dict[tuple[Any, ...], list[int]] = {}
    statement = insert(table).returning(table.c.id, *(table.c[name] for name in match))
    for chunk in _chunks(rows):
        for row in conn.execute(statement, list(chunk)):
            returned.setdefault(tuple(row[1:]), []).append(int(row[0]))
    for ids in returned.values():
        ids.sort(reverse=True)
    return [returned[tuple(row[name] for name in match)].pop() for row in rows]


def _version_values(output: Artifact, run_id: int, node_name: str, now: float) -> dict[str, Any]:
    return {
        "resource": output.resource, "location": output.location, "sha256": output.sha256, "size": output.size,
        "mtime_ns": output.mtime_ns, "state": ArtifactState.CURRENT.value, "detected_at": now,
        "detected_run_id": run_id, "consumed_run_id": None, "produced_run_id": run_id, "produced_by_node": node_name,
        "cid": output.cid, "attempts": 0, "retry_at": None, "quarantine_reason": None,
    }


def _mapped_edges(
    run_id: int, versions: Sequence[tuple[int, ExecutionSpec, Artifact]], new_ids: Sequence[int],
    edges: dict[int, list[Any]],
) -> list[dict[str, Any]]:
    """The original outputs' lineage, pointing at this execution's inputs with the same content when there is one."""
    rows: list[dict[str, Any]] = []
    for new_id, (execution_id, spec, output) in zip(new_ids, versions, strict=True):
        by_sha = {artifact.sha256: artifact.id for artifact in spec.inputs}
        for input_id, sha in edges.get(output.id, []):
            rows.append({"run_id": run_id, "execution_id": execution_id, "output_id": new_id,
                         "input_id": by_sha.get(sha, input_id), "relation": "derived_from", "basis": "reused"})
    return rows


def _copy_logged(conn: Connection, source_run: int, run_id: int, node_name: str, now: float) -> None:
    """Copy what ``node_name`` logged in ``source_run`` (metrics, params, tags) into ``run_id``."""
    rows = conn.execute(select(metrics.c.key, metrics.c.value, metrics.c.step).where(
        metrics.c.run_id == source_run, metrics.c.node_name == node_name).order_by(metrics.c.id)).all()
    if rows:
        conn.execute(insert(metrics), [{"run_id": run_id, "node_name": node_name, "key": r.key, "value": r.value,
                                        "step": r.step, "timestamp": now} for r in rows])
    for table in (params, tags):
        keyed = conn.execute(select(table.c.key, table.c.value).where(
            table.c.run_id == source_run, table.c.node_name == node_name)).all()
        if not keyed:
            continue
        conn.execute(table.delete().where(and_(table.c.run_id == run_id, table.c.key.in_([r.key for r in keyed]))))
        conn.execute(insert(table), [{"run_id": run_id, "key": r.key, "value": r.value, "node_name": node_name}
                                     for r in keyed])


class ProvenanceExport:
    """The run's executions and per-output lineage as plain data: the ``executions`` and ``outputs`` sections of
    ``export_run`` (both empty for runs recorded before these tables existed, so their manifests do not change)."""

    _db: Database
    _provenance_ready: bool | None

    def _has_provenance(self, conn: Connection) -> bool:
        if self._provenance_ready is None:
            self._provenance_ready = all(inspect(conn).has_table(name) for name in PROVENANCE_TABLES)
        return self._provenance_ready

    def provenance_export(self, run_id: int) -> dict[str, list[dict[str, Any]]]:
        with self._db.read("export provenance") as conn:
            if not self._has_provenance(conn):
                return {"executions": [], "outputs": []}
            rows = conn.execute(select(executions).where(executions.c.run_id == run_id)
                                .order_by(executions.c.id)).all()
            details = _fingerprint_details(conn, {row.fingerprint for row in rows if row.unit is None})
            outputs = _run_outputs(conn, run_id)
            edges = _edges_of(conn, [row.artifact_id for row in outputs])
        units: dict[str, dict[str, int]] = {}
        for row in rows:
            if row.unit is not None:
                counts = units.setdefault(row.node_name, {})
                counts[row.status] = counts.get(row.status, 0) + 1
        return {
            "executions": [_execution_record(row, details, units.get(row.node_name, {}))
                           for row in rows if row.unit is None],
            "outputs": [_output_record(row, edges.get(row.artifact_id, [])) for row in outputs],
        }

    def output_lineage(self, artifact_id: int) -> dict[str, Any] | None:
        """How an output was made: its execution (node, unit, key, reuse) and the artifacts it derived from;
        ``None`` when no execution recorded it."""
        with self._db.read("output lineage") as conn:
            if not self._has_provenance(conn):
                return None
            row = conn.execute(select(executions).join(
                execution_outputs, execution_outputs.c.execution_id == executions.c.id)
                .where(execution_outputs.c.artifact_id == artifact_id)).first()
            if row is None:
                return None
            inputs = conn.execute(select(*ARTIFACT_FIELDS, artifact_edges.c.basis)
                                  .join(artifact_edges, artifact_edges.c.input_id == artifacts.c.id)
                                  .where(artifact_edges.c.output_id == artifact_id,
                                         artifact_edges.c.relation == "derived_from")
                                  .order_by(artifacts.c.id)).all()
        return {
            "execution_id": row.id, "unit": row.unit, "cache_key": row.cache_key, "status": row.status,
            "reused_from_run": row.reused_from_run, "basis": inputs[0].basis if inputs else None,
            "inputs": [row_to_artifact(item) for item in inputs],
        }


def _fingerprint_details(conn: Connection, digests: set[str]) -> dict[str, Any]:
    if not digests:
        return {}
    query = select(code_fingerprints).where(code_fingerprints.c.digest.in_(sorted(digests)))
    return {row.digest: json.loads(row.details) for row in conn.execute(query)}


def _run_outputs(conn: Connection, run_id: int) -> list[Any]:
    query = (select(execution_outputs.c.artifact_id, executions.c.node_name, executions.c.unit,
                    executions.c.cache_key, executions.c.reused_from_run, artifacts.c.resource,
                    artifacts.c.location, artifacts.c.sha256)
             .join(executions, executions.c.id == execution_outputs.c.execution_id)
             .join(artifacts, artifacts.c.id == execution_outputs.c.artifact_id)
             .where(executions.c.run_id == run_id).order_by(execution_outputs.c.artifact_id))
    return list(conn.execute(query))


def _edges_of(conn: Connection, output_ids: Sequence[int]) -> dict[int, list[Any]]:
    edges: dict[int, list[Any]] = {}
    for chunk in _chunks(list(output_ids)):
        query = (select(artifact_edges.c.output_id, artifact_edges.c.basis, artifacts.c.resource,
                        artifacts.c.location, artifacts.c.sha256)
                 .join(artifacts, artifacts.c.id == artifact_edges.c.input_id)
                 .where(artifact_edges.c.output_id.in_(list(chunk)), artifact_edges.c.relation == "derived_from"))
        for row in conn.execute(query):
            edges.setdefault(row.output_id, []).append(row)
    return edges


def _execution_record(row: Any, details: dict[str, Any], units: dict[str, int]) -> dict[str, Any]:
    source = None if row.source_revision is None else {"revision": row.source_revision,
                                                        "dirty": bool(row.source_dirty)}
    return {
        "node": row.node_name, "status": row.status, "cache_key": row.cache_key,
        "code": {"digest": row.fingerprint, **details.get(row.fingerprint, {}), "source": source},
        "params_digest": row.params_digest, "inputs": len(json.loads(row.inputs)),
        "upstream": json.loads(row.upstream), "reused_from_run": row.reused_from_run,
        "units": dict(sorted(units.items())),
    }


def _output_record(row: Any, edges: list[Any]) -> dict[str, Any]:
    derived = sorted({(e.resource, e.location, e.sha256) for e in edges})
    return {
        "resource": row.resource, "location": row.location, "sha256": row.sha256, "node": row.node_name,
        "unit": row.unit, "cache_key": row.cache_key, "reused_from_run": row.reused_from_run,
        "basis": edges[0].basis if edges else None,
        "derived_from": [{"resource": r, "location": loc, "sha256": sha} for r, loc, sha in derived],
    }
