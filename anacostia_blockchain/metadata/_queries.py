"""Read side of the store: runs, node results, metrics/params/tags, lineage and ``export_run``.

Every result is plain data (dicts, lists, :class:`~anacostia_blockchain.engine.Artifact`), JSON-able through
``Artifact.to_dict()``, so ``export_run`` can feed a manifest directly.

``run_id=None`` means "the current run" when there is one: the run of the ``execute()`` on the calling thread, else
the run in progress. Outside a run (a script after the pipeline ran, a dashboard) the row queries
(``get_metrics``, ``get_param_rows``, ``get_tag_rows``) return the rows of every run, filtered by whatever else was
given; ``get_params``/``get_tags`` describe one run and need a ``run_id`` there
(:class:`~anacostia_blockchain.errors.NoActiveRunError` without one). "Every run" is every run of the store's
pipeline (of every pipeline for a reader without one); a run asked for by its id is found whatever its pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, true

from ..engine import Artifact, attributed_context
from ..errors import ArtifactNotFoundError, MetadataValueError, NoActiveRunError, RunNotFoundError
from ._artifacts import row_to_artifact
from ._database import Database
from ._values import decode_value
from .schema import ARTIFACT_FIELDS, RUN_FIELDS, artifacts, lineage, metrics, node_runs, params, runs, tags

# The queries of one run (``w_run``), built once: every ended run of an anchored pipeline is exported, and building a
# Core statement costs more than running it.
_RUN = select(*RUN_FIELDS).where(runs.c.id == bindparam("w_run"))
_NODE_RUNS = select(node_runs).where(node_runs.c.run_id == bindparam("w_run")).order_by(node_runs.c.id)
_LINEAGE = (select(lineage.c.artifact_id, lineage.c.relation, lineage.c.node_name)
            .where(lineage.c.run_id == bindparam("w_run")).order_by(lineage.c.id))
_RUN_ARTIFACTS = (select(lineage.c.relation, *ARTIFACT_FIELDS).join(artifacts, artifacts.c.id == lineage.c.artifact_id)
                  .where(lineage.c.run_id == bindparam("w_run")).order_by(lineage.c.id))
_KEYED = {table.name: select(table.c.key, table.c.value).where(table.c.run_id == bindparam("w_run"))
          .order_by(table.c.key) for table in (params, tags)}


class RunQueries:
    """The read half of :class:`~anacostia_blockchain.metadata.RunStore`."""

    name: str
    pipeline: str | None
    _db: Database
    _active_run_id: int | None
    _scoped: Callable[[Any], ColumnElement[bool]]
    #: Row queries by shape (table and which filters are set), built on first use (see ``_row_query``).
    _row_queries: dict[tuple[str, bool, bool, bool], Select[Any]]
    #: From ``_executions.ProvenanceExport``.
    provenance_export: Callable[[int], dict[str, list[dict[str, Any]]]]
    output_lineage: Callable[[int], dict[str, Any] | None]

    def _resolve_run_id(self, run_id: int | None) -> int:
        """``run_id``, else the current run; :class:`NoActiveRunError` outside a run."""
        scoped = self._scope(run_id)
        if scoped is None:
            raise NoActiveRunError(
                f"{self.name}: no run in progress to query: pass run_id=..., or ask get_metrics(), "
                "get_param_rows() or get_tag_rows() for the rows of every run"
            )
        return scoped

    def _scope(self, run_id: int | None) -> int | None:
        """``run_id``, else the current run, else ``None`` (every run)."""
        if run_id is not None:
            return _checked_run_id(run_id)
        try:
            return attributed_context(self._active_run_id, self.name).run_id
        except NoActiveRunError:
            return None

    def get_runs(self, status: str | None = None) -> list[dict[str, Any]]:
        """Every run, oldest first (optionally only those with ``status``)."""
        query = select(*RUN_FIELDS).where(self._scoped(runs.c.pipeline)).order_by(runs.c.id)
        if status is not None:
            query = query.where(runs.c.status == str(status))
        with self._db.read("get runs") as conn:
            return [dict(row._mapping) for row in conn.execute(query)]

    def run_counts(self) -> dict[str, int]:
        """How many runs have each status (statuses with no run are absent); one aggregate query, for monitoring."""
        query = select(runs.c.status, func.count()).where(self._scoped(runs.c.pipeline)).group_by(runs.c.status)
        with self._db.read("count runs") as conn:
            return {str(status): int(n) for status, n in conn.execute(query)}

    def get_run(self, run_id: int) -> dict[str, Any]:
        with self._db.read("get run") as conn:
            row = conn.execute(_RUN, {"w_run": run_id}).first()
        if row is None:
            raise RunNotFoundError(f"{self.name}: no run {run_id}")
        return dict(row._mapping)

    def get_node_runs(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The node results of a run, in the order they started."""
        values = {"w_run": self._resolve_run_id(run_id)}
        with self._db.read("get node runs") as conn:
            return [dict(row._mapping) for row in conn.execute(_NODE_RUNS, values)]

    def get_metrics(
        self, run_id: int | None = None, key: str | None = None, *, node_name: str | None = None
    ) -> list[dict[str, Any]]:
        """Metric rows (``run_id, node_name, key, value, step, timestamp``) in logging order: of ``run_id``, else of
        the current run, else of every run; only ``key`` / ``node_name`` when given."""
        query, values = self._row_query(metrics, self._scope(run_id), node_name, key)
        with self._db.read("get metrics") as conn:
            return [dict(row._mapping) for row in conn.execute(query, values)]

    def get_param_rows(self, run_id: int | None = None, *, node_name: str | None = None) -> list[dict[str, Any]]:
        """Param rows (``run_id, node_name, key, value``) ordered by run and key, with the same scope as
        :meth:`get_metrics`; ``node_name`` is the node that logged the param."""
        return self._keyed_query(params, run_id, node_name)

    def get_tag_rows(self, run_id: int | None = None, *, node_name: str | None = None) -> list[dict[str, Any]]:
        """Tag rows (``run_id, node_name, key, value``), like :meth:`get_param_rows`."""
        return self._keyed_query(tags, run_id, node_name)

    def get_params(self, run_id: int | None = None) -> dict[str, Any]:
        """``{key: value}`` of one run's params (``run_id``, else the current run)."""
        return self._get_keyed(params, run_id)

    def get_tags(self, run_id: int | None = None) -> dict[str, Any]:
        """``{key: value}`` of one run's tags (``run_id``, else the current run)."""
        return self._get_keyed(tags, run_id)

    def _get_keyed(self, table: Any, run_id: int | None) -> dict[str, Any]:
        values = {"w_run": self._resolve_run_id(run_id)}
        with self._db.read("get params/tags") as conn:
            return {row.key: decode_value(row.value) for row in conn.execute(_KEYED[table.name], values)}

    def _keyed_query(self, table: Any, run_id: int | None, node_name: str | None) -> list[dict[str, Any]]:
        query, values = self._row_query(table, self._scope(run_id), node_name, None)
        with self._db.read(f"get {table.name}") as conn:
            return [{**row._mapping, "value": decode_value(row.value)} for row in conn.execute(query, values)]

    def _row_query(
        self, table: Any, run_id: int | None, node_name: str | None, key: str | None
    ) -> tuple[Select[Any], dict[str, Any]]:
        """The rows of ``table`` (metrics, params or tags) matching the filters that are set, and the values to bind;
        the statement is built once per shape."""
        _check_node_name(node_name)
        shape = (table.name, run_id is not None, node_name is not None, key is not None)
        query = self._row_queries.get(shape)
        if query is None:
            if table is metrics:
                query = select(metrics.c.run_id, metrics.c.node_name, metrics.c.key, metrics.c.value, metrics.c.step,
                               metrics.c.timestamp).order_by(metrics.c.id)
            else:
                query = select(table.c.run_id, table.c.node_name, table.c.key, table.c.value).order_by(
                    table.c.run_id, table.c.key)
            query = _filtered(query, table, *shape[1:]).where(self._in_runs(table))
            self._row_queries[shape] = query
        return query, {"w_run": run_id, "w_node": node_name, "w_key": key}

    def _in_runs(self, table: Any) -> ColumnElement[bool]:
        """Rows of ``table`` that belong to runs of this store's pipeline (each row's run looked up by its key, so
        the cost does not grow with the number of runs)."""
        if self.pipeline is None:
            return true()
        return select(runs.c.id).where(runs.c.id == table.c.run_id, self._scoped(runs.c.pipeline)).exists()

    def run_artifacts(self, run_id: int) -> dict[str, list[Artifact]]:
        """``{"consumed": [...], "produced": [...]}`` for a run, from the lineage edges."""
        result: dict[str, list[Artifact]] = {"consumed": [], "produced": []}
        with self._db.read("run artifacts") as conn:
            for row in conn.execute(_RUN_ARTIFACTS, {"w_run": run_id}):
                result[row.relation].append(row_to_artifact(row))
        return result

    def get_artifact(self, artifact_id: int) -> Artifact:
        """The recorded version with this id (:class:`ArtifactNotFoundError` if there is none)."""
        with self._db.read("get artifact") as conn:
            row = conn.execute(select(*ARTIFACT_FIELDS).where(artifacts.c.id == artifact_id)).first()
        if row is None:
            raise ArtifactNotFoundError(f"{self.name}: no artifact with id {artifact_id}")
        return row_to_artifact(row)

    def lineage(self, artifact: Artifact | int) -> dict[str, Any] | None:
        """Which run and node (and code) produced ``artifact`` from which inputs; ``None`` if it was not produced
        by a run (it was detected in a resource).

        ``inputs`` is the output's own lineage (what its execution had read when it was saved, or what
        ``save_artifact(..., derived_from=...)`` named); ``execution`` says which execution saved it (work unit,
        cache key, ``reused_from_run``). Outputs recorded without an execution fall back to the run's inputs."""
        artifact_id = artifact.id if isinstance(artifact, Artifact) else int(artifact)
        with self._db.read("lineage") as conn:
            edge = conn.execute(select(lineage).where(lineage.c.artifact_id == artifact_id,
                                                      lineage.c.relation == "produced")).first()
            if edge is None:
                return None
            node_run = conn.execute(select(node_runs).where(node_runs.c.run_id == edge.run_id,
                                                            node_runs.c.node_name == edge.node_name)
                                    .order_by(node_runs.c.id.desc())).first()
        made = self.output_lineage(artifact_id)
        inputs = made["inputs"] if made is not None else self.run_artifacts(edge.run_id)["consumed"]
        return {
            "artifact": self.get_artifact(artifact_id),
            "run": self.get_run(edge.run_id),
            "node": edge.node_name,
            "code_fingerprint": node_run.code_fingerprint if node_run is not None else None,
            "inputs": inputs,
            "execution": made,
        }

    def derived_artifacts(self, artifact: Artifact | int) -> list[Artifact]:
        """The inverse of :meth:`lineage`: artifacts produced by runs that consumed ``artifact``."""
        artifact_id = artifact.id if isinstance(artifact, Artifact) else int(artifact)
        consuming_runs = select(lineage.c.run_id).where(lineage.c.artifact_id == artifact_id,
                                                        lineage.c.relation == "consumed")
        query = (select(*ARTIFACT_FIELDS).join(lineage, lineage.c.artifact_id == artifacts.c.id)
                 .where(lineage.c.relation == "produced", lineage.c.run_id.in_(consuming_runs))
                 .order_by(artifacts.c.id))
        with self._db.read("derived artifacts") as conn:
            return [row_to_artifact(row) for row in conn.execute(query)]

    def export_run(self, run_id: int) -> dict[str, Any]:
        """Everything run ``run_id`` recorded, as plain JSON-able data (the input of a run manifest)::

            {"run": {...}, "nodes": [node results with code fingerprints], "metrics": [...],
             "params": {...}, "tags": {...}, "artifacts": {"consumed": [...], "produced": [...]},
             "lineage": [{"artifact_id", "relation", "node_name"}, ...],
             "executions": [per node: status, cache key, code fingerprint facts, reuse, unit counts],
             "outputs": [per output: its execution and what it was derived from]}
        """
        run = self.get_run(run_id)
        with self._db.read("export run") as conn:
            edges = [dict(row._mapping) for row in conn.execute(_LINEAGE, {"w_run": run_id})]
        run_artifacts = self.run_artifacts(run_id)
        return {
            "run": run,
            "nodes": self.get_node_runs(run_id),
            "metrics": self.get_metrics(run_id),
            "params": self.get_params(run_id),
            "tags": self.get_tags(run_id),
            "artifacts": {kind: [a.to_dict() for a in items] for kind, items in run_artifacts.items()},
            "lineage": edges,
            **self.provenance_export(run_id),
        }


def _checked_run_id(run_id: object) -> int:
    if isinstance(run_id, bool) or not isinstance(run_id, int):
        raise MetadataValueError(f"run_id must be an int (a run's id), got {type(run_id).__name__} {run_id!r}")
    return run_id


def _check_node_name(node_name: object) -> None:
    if node_name is not None and not isinstance(node_name, str):
        raise MetadataValueError(
            f"node_name must be a node's name (a str), got {type(node_name).__name__} {node_name!r}; "
            "pass a run's id as run_id=..."
        )


def _filtered(query: Any, table: Any, by_run: bool, by_node: bool, by_key: bool) -> Any:
    """``query`` restricted to the filters that are set, bound as ``w_run``, ``w_node`` and ``w_key``."""
    if by_run:
        query = query.where(table.c.run_id == bindparam("w_run"))
    if by_node:
        query = query.where(table.c.node_name == bindparam("w_node"))
    if by_key:
        query = query.where(table.c.key == bindparam("w_key"))
    return query
