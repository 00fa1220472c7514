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

from sqlalchemy import ColumnElement, Connection, bindparam, insert, inspect, select, update

from ..engine import Artifact, ArtifactState, ExecutionSpec, NodeStatus, Read, ReusableExecution
from ..engine.fingerprint import CodeFingerprint
from ._artifacts import deleted_state, row_to_artifact
from ._database import Database, inserted_id
from .schema import (
    ARTIFACT_FIELDS,
    LOGGED_BY_COLUMNS,
    PROVENANCE_TABLES,
    artifact_edges,
    artifacts,
    code_fingerprints,
    execution_outputs,
    executions,
    lineage,
    metrics,
    params,
    runs,
    tags,
)
from .schema import reads as reads_table

_CHUNK = 500
# Statements of every execution, built once (building a Core statement costs more than executing it); ``w_*``
# parameters bind the WHERE clause, an UPDATE sets the columns named by the others.
_INSERT_EXECUTION = insert(executions)
_UPDATE_EXECUTION = update(executions).where(executions.c.id == bindparam("w_execution"))
_EXECUTION_OWNER = (select(executions.c.run_id, executions.c.node_name)
                    .where(executions.c.id == bindparam("w_execution")))
_RUN_OUTPUTS = (select(*ARTIFACT_FIELDS).join(lineage, lineage.c.artifact_id == artifacts.c.id)
                .where(lineage.c.run_id == bindparam("w_run"), lineage.c.relation == "produced",
                       lineage.c.node_name.in_(bindparam("w_nodes", expanding=True))).order_by(artifacts.c.id))


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
            return inserted_id(conn.execute(_INSERT_EXECUTION,
                                            execution_row(run_id, spec, NodeStatus.RUNNING, time.time())))

    def end_execution(
        self, execution_id: int, status: NodeStatus, *, reads: Sequence[Read] = (), reusable: bool = False,
        error: str | None = None,
    ) -> None:
        with self._db.write("end execution") as conn:
            self._end_execution(conn, execution_id, status, reads, reusable, error)

    @staticmethod
    def _end_execution(
        conn: Connection, execution_id: int, status: NodeStatus, reads: Sequence[Read], reusable: bool,
        error: str | None,
    ) -> None:
        """:meth:`end_execution` in the caller's transaction."""
        ended = conn.execute(_UPDATE_EXECUTION, {
            "w_execution": execution_id, "status": NodeStatus(status).value, "ended_at": time.time(),
            "reusable": bool(reusable), "error": error})
        if ended.rowcount == 0 or not reads:
            return
        row = conn.execute(_EXECUTION_OWNER, {"w_execution": execution_id}).one()
        conn.execute(insert(reads_table), [
            {"run_id": row.run_id, "execution_id": execution_id, "node_name": row.node_name,
             "artifact_id": read.artifact.id, "via": read.via} for read in reads])

    def record_unchanged(self, run_id: int, spec: ExecutionSpec) -> None:
        now = time.time()
        with self._db.write("record unchanged") as conn:
            self.store_fingerprint(conn, spec.code)
            conn.execute(_INSERT_EXECUTION, execution_row(run_id, spec, NodeStatus.UNCHANGED, now, ended_at=now))

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
            if len(wanted) == 1:  # a node's own lookup: one key
                return _newest_present(conn.execute(self._reusable_statements[0], {"key": wanted[0]}))
            for chunk in _chunks(wanted):
                found.update(_newest_present(conn.execute(self._reusable_statements[1], {"keys": list(chunk)})))
        return found

    @cached_property
    def _reusable_statements(self) -> tuple[Any, Any]:
        """The lookup statements for one key (bound as ``key``) and for many (``keys``), built once per store:
        building them costs more than running them. The pipeline check looks each candidate's run up by its key,
        so a lookup costs the same however many runs the pipeline has."""
        in_runs = select(runs.c.id).where(runs.c.id == executions.c.run_id, self._scoped(runs.c.pipeline)).exists()
        return (_reusable_query(executions.c.cache_key == bindparam("key"), in_runs, self._scoped),
                _reusable_query(executions.c.cache_key.in_(bindparam("keys", expanding=True)), in_runs, self._scoped))

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
                _copy_logged(conn, run_id, [(execution_id, spec, source) for execution_id, (spec, source)
                                            in zip(ids, links, strict=True)], now)
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
        with self._db.read("run outputs") as conn:
            return [row_to_artifact(row) for row in conn.execute(_RUN_OUTPUTS, {"w_run": run_id,
                                                                                "w_nodes": list(node_names)})]


def _reusable_query(
    keyed: ColumnElement[bool], in_runs: ColumnElement[bool], scoped: Callable[[Any], ColumnElement[bool]]
) -> Any:
    """Reusable executions with the keys ``keyed`` selects (of runs ``in_runs``), newest first, one row per output,
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
            .where(keyed, executions.c.reusable.is_(True), in_runs)
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


def _copy_logged(
    conn: Connection, run_id: int, copies: Sequence[tuple[int, ExecutionSpec, ReusableExecution]], now: float
) -> None:
    """Copy what each reused execution logged (metrics, params, tags) into ``run_id``: a work unit's, what its
    execution logged; a node's, everything the node logged in that run (its work units' values included). Each copy
    is attributed to the reusing execution and marked ``reused_from`` the execution that logged it in the first
    place. Values are copied once per original execution (units of one run reusing the same one share them), and
    a result reused within its own run is already there: nothing is copied. ``copies``: (reusing execution id, spec,
    source)."""
    copies = [copy for copy in copies if copy[2].origin_run_id != run_id]
    units = {source.execution_id: (execution_id, spec, source) for execution_id, spec, source in copies if spec.unit}
    nodes = [copy for copy in copies if not copy[1].unit]
    origin_runs = sorted({source.origin_run_id for _, _, source in units.values()})
    for table in (metrics, params, tags):
        columns = [table.c.key, table.c.value, table.c.execution_id, table.c.reused_from]
        order = [table.c.id] if table is metrics else [table.c.key]
        if table is metrics:
            columns.append(table.c.step)
        found: list[tuple[tuple[int, ExecutionSpec, ReusableExecution], Any]] = []  # (the copy, a logged row)
        for chunk in _chunks(list(units)):
            query = (select(*columns).where(table.c.run_id.in_(origin_runs), table.c.execution_id.in_(list(chunk)))
                     .order_by(*order))
            found += [(units[row.execution_id], row) for row in conn.execute(query)]
        for copy in nodes:
            query = (select(*columns).where(table.c.run_id == copy[2].origin_run_id,
                                            table.c.node_name == copy[1].node_name).order_by(*order))
            found += [(copy, row) for row in conn.execute(query)]
        if found:
            _insert_copies(conn, table, run_id, found, now)


def _insert_copies(conn: Connection, table: Any, run_id: int,
                   found: list[tuple[tuple[int, ExecutionSpec, ReusableExecution], Any]], now: float) -> None:
    rows = [{"run_id": run_id, "node_name": spec.node_name, "key": row.key, "value": row.value,
             "execution_id": execution_id,
             "reused_from": int(row.reused_from or row.execution_id or source.execution_id)}
            for (execution_id, spec, source), row in found]
    if table is metrics:
        for copy, (_, row) in zip(rows, found, strict=True):
            copy.update(step=row.step, timestamp=now)
    else:  # keyed: a copied key replaces the run's value
        for chunk in _chunks(sorted({row["key"] for row in rows})):
            conn.execute(table.delete().where(table.c.run_id == run_id, table.c.key.in_(list(chunk))))
        rows = list({row["key"]: row for row in rows}.values())
    for chunk in _chunks(rows):
        conn.execute(insert(table), list(chunk))


class ProvenanceExport:
    """The run's executions and per-output lineage as plain data: the ``executions`` and ``outputs`` sections of
    ``export_run`` (both empty for runs recorded before these tables existed, so their manifests do not change)."""

    _db: Database
    _provenance_ready: bool | None
    _logged_by_ready: bool | None = None  # whether metrics/params/tags have the schema 4 columns (checked once)

    def _has_provenance(self, conn: Connection) -> bool:
        if self._provenance_ready is None:
            self._provenance_ready = all(inspect(conn).has_table(name) for name in PROVENANCE_TABLES)
        return self._provenance_ready

    def _has_logged_by(self, conn: Connection) -> bool:
        if self._logged_by_ready is None:
            inspector = inspect(conn)
            self._logged_by_ready = all(column in {c["name"] for c in inspector.get_columns(table)}
                                        for table, column in LOGGED_BY_COLUMNS)
        return self._logged_by_ready

    def provenance_export(self, run_id: int) -> dict[str, list[dict[str, Any]]]:
        with self._db.read("export provenance") as conn:
            if not self._has_provenance(conn):
                return {"executions": [], "outputs": []}
            rows = conn.execute(_EXECUTIONS_OF_RUN, {"w_run": run_id}).all()
            details = _fingerprint_details(conn, {row.fingerprint for row in rows if row.unit is None})
            outputs = _run_outputs(conn, run_id)
            edges = _edges_of(conn, [row.artifact_id for row in outputs])
            reused = _reused_logged(conn, run_id) if self._has_logged_by(conn) else {}
        units: dict[str, dict[str, int]] = {}
        for row in rows:
            if row.unit is not None:
                counts = units.setdefault(row.node_name, {})
                counts[row.status] = counts.get(row.status, 0) + 1
        return {
            "executions": [_execution_record(row, details, units.get(row.node_name, {}), reused.get(row.node_name))
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


# The provenance queries of a run's export (every ended run of an anchored pipeline), built once.
_EXECUTIONS_OF_RUN = select(executions).where(executions.c.run_id == bindparam("w_run")).order_by(executions.c.id)
_FINGERPRINT_DETAILS = select(code_fingerprints).where(
    code_fingerprints.c.digest.in_(bindparam("w_digests", expanding=True)))
_OUTPUTS_OF_RUN = (select(execution_outputs.c.artifact_id, executions.c.node_name, executions.c.unit,
                          executions.c.cache_key, executions.c.reused_from_run, artifacts.c.resource,
                          artifacts.c.location, artifacts.c.sha256)
                   .join(executions, executions.c.id == execution_outputs.c.execution_id)
                   .join(artifacts, artifacts.c.id == execution_outputs.c.artifact_id)
                   .where(executions.c.run_id == bindparam("w_run")).order_by(execution_outputs.c.artifact_id))
_EDGES_OF_OUTPUTS = (select(artifact_edges.c.output_id, artifact_edges.c.basis, artifacts.c.resource,
                            artifacts.c.location, artifacts.c.sha256)
                     .join(artifacts, artifacts.c.id == artifact_edges.c.input_id)
                     .where(artifact_edges.c.output_id.in_(bindparam("w_outputs", expanding=True)),
                            artifact_edges.c.relation == "derived_from"))


def _fingerprint_details(conn: Connection, digests: set[str]) -> dict[str, Any]:
    if not digests:
        return {}
    return {row.digest: json.loads(row.details)
            for row in conn.execute(_FINGERPRINT_DETAILS, {"w_digests": sorted(digests)})}


def _run_outputs(conn: Connection, run_id: int) -> list[Any]:
    return list(conn.execute(_OUTPUTS_OF_RUN, {"w_run": run_id}))


def _edges_of(conn: Connection, output_ids: Sequence[int]) -> dict[int, list[Any]]:
    edges: dict[int, list[Any]] = {}
    for chunk in _chunks(list(output_ids)):
        for row in conn.execute(_EDGES_OF_OUTPUTS, {"w_outputs": list(chunk)}):
            edges.setdefault(row.output_id, []).append(row)
    return edges


def _execution_record(
    row: Any, details: dict[str, Any], units: dict[str, int], reused: dict[str, Any] | None = None
) -> dict[str, Any]:
    source = None if row.source_revision is None else {"revision": row.source_revision,
                                                        "dirty": bool(row.source_dirty)}
    record = {
        "node": row.node_name, "status": row.status, "cache_key": row.cache_key,
        "code": {"digest": row.fingerprint, **details.get(row.fingerprint, {}), "source": source},
        "params_digest": row.params_digest, "inputs": len(json.loads(row.inputs)),
        "upstream": json.loads(row.upstream), "reused_from_run": row.reused_from_run,
        "units": dict(sorted(units.items())),
    }
    if reused:  # only runs that copied logged values from a reused execution carry it (older manifests unchanged)
        record["reused_logged"] = reused
    return record


def _reused_logged_query(table: Any) -> Any:
    origin = executions.alias("origin")
    return (select(table.c.node_name, table.c.key, table.c.reused_from, origin.c.run_id)
            .join(origin, origin.c.id == table.c.reused_from, isouter=True)
            .where(table.c.run_id == bindparam("w_run"), table.c.reused_from.is_not(None)))


#: Per kind, the values of run ``w_run`` copied from reused executions (built once: every export runs them).
_REUSED_LOGGED = tuple((kind, _reused_logged_query(table))
                       for kind, table in (("metrics", metrics), ("params", params), ("tags", tags)))


def _reused_logged(conn: Connection, run_id: int) -> dict[str, dict[str, Any]]:
    """Per node, the metrics, params and tags of ``run_id`` copied from reused executions: how many metric values
    and which keys, and the runs and executions that logged them."""
    found: dict[str, dict[str, Any]] = {}
    for kind, query in _REUSED_LOGGED:
        for row in conn.execute(query, {"w_run": run_id}):
            entry = found.setdefault(str(row.node_name), {"metrics": {"values": 0, "keys": []}, "params": [],
                                                          "tags": [], "from_runs": [], "from_executions": []})
            if kind == "metrics":
                entry["metrics"]["values"] += 1
                entry["metrics"]["keys"].append(row.key)
            else:
                entry[kind].append(row.key)
            entry["from_executions"].append(int(row.reused_from))
            if row.run_id is not None:
                entry["from_runs"].append(int(row.run_id))
    for entry in found.values():
        entry["metrics"]["keys"] = sorted(set(entry["metrics"]["keys"]))
        for key in ("params", "tags", "from_runs", "from_executions"):
            entry[key] = sorted(set(entry[key]))
    return found


def _output_record(row: Any, edges: list[Any]) -> dict[str, Any]:
    derived = sorted({(e.resource, e.location, e.sha256) for e in edges})
    return {
        "resource": row.resource, "location": row.location, "sha256": row.sha256, "node": row.node_name,
        "unit": row.unit, "cache_key": row.cache_key, "reused_from_run": row.reused_from_run,
        "basis": edges[0].basis if edges else None,
        "derived_from": [{"resource": r, "location": loc, "sha256": sha} for r, loc, sha in derived],
    }
