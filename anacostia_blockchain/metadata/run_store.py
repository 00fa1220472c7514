"""``RunStore(uri)``: runs, node results, metrics, params, tags, artifacts and lineage in a SQL database.

A plain object: the pipeline's metadata store node holds one as ``store.runs``, and tools that only read
(``anacostia-chain verify``, dashboards, scripts) open their own on the same URL. The URL decides the database
(``sqlite:///path/metadata.db``, ``postgresql://user@host/db``). Hot paths (``log_metrics``, node results, run
start/end, executions and the cache lookup) are Core statements built once and executed with bound values on one
writer connection (see :mod:`._database`), each found through an index so its cost does not grow with the history
the database holds; ``log_batch`` inserts its metric rows with the driver's ``executemany``.

Input retries: when a run fails, each input goes back to ``new`` with ``retry_at = now + input_retry_backoff *
2**(attempts-1)`` (capped at ``max_input_retry_backoff``); after ``input_retry_limit`` failed runs it becomes
``quarantined`` with the run's error as ``quarantine_reason``. An aborted run (the pipeline stopped or crashed)
returns its inputs to ``new`` without counting an attempt.

Params and tags are per run and keyed: logging a key again replaces the value.

Many pipelines, many processes, one database: a store given a ``pipeline`` (the metadata store node gives its
pipeline's name) sees and writes only that pipeline's runs, artifacts and node registrations, and :meth:`open`
takes the pipeline's lease (``metadata/_lease.py``; its heartbeat is the store's one thread): a second live process
of the pipeline is refused with :class:`~anacostia_blockchain.errors.PipelineLeaseError`, or, with ``standby=True``,
waits in :meth:`open` until the active one stops or dies, then takes over. Crash recovery touches only this
pipeline's runs left ``running`` by an owner whose lease ended. Rows written without a pipeline (by a version before
pipelines were scoped) are adopted by the next pipeline that opens the database. A store without a ``pipeline`` is
a reader over every pipeline: it takes no lease and recovers nothing.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    Update,
    bindparam,
    cast,
    delete,
    insert,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.engine import URL

from ..engine import ArtifactState, BaseNode, ExecutionContext, MetricRow, NodeStatus, Read, RunStatus
from ..errors import (
    ConfigurationError,
    LeaseLostError,
    MetadataStoreError,
    MetadataValueError,
    PipelineStateError,
    RunNotFoundError,
)
from . import schema
from ._artifacts import ArtifactRecords
from ._database import Database, inserted_id
from ._executions import ExecutionRecords, ProvenanceExport
from ._lease import Heartbeat, PipelineLease
from ._migrations import migrate
from ._queries import RunQueries
from ._values import check_key, encode_value, metric_rows, metric_step, metric_value, plain_metric_triples
from .schema import artifacts, lineage, node_runs, nodes, runs

_METRIC_COLUMNS = ("run_id", "node_name", "key", "value", "step", "timestamp")
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_.:-]+")
logger = logging.getLogger(__name__)

# The statements of every run and node result, built once: building a Core statement costs several times more than
# executing it. Parameters named ``w_*`` bind the WHERE clause; an UPDATE sets the columns named by the others.
_INSERT_RUN = insert(runs)
_UPDATE_RUN = update(runs).where(runs.c.id == bindparam("w_run"))
_RETIRE_RUN_ARTIFACTS = (
    update(artifacts)
    .where(artifacts.c.state == ArtifactState.CURRENT.value,
           (artifacts.c.consumed_run_id == bindparam("w_run")) | (artifacts.c.produced_run_id == bindparam("w_run")))
    .values(state=ArtifactState.OLD.value)
)
_RECORD_CONSUMED = insert(lineage).from_select(
    ["run_id", "artifact_id", "relation"],
    select(cast(bindparam("w_run"), Integer), artifacts.c.id, literal("consumed"))
    .where(artifacts.c.consumed_run_id == bindparam("w_run")),
)
_INSERT_NODE_RUN = insert(node_runs)
_UPDATE_NODE_RUN = update(node_runs).where(node_runs.c.id == bindparam("w_node_run"))


class RunStore(ArtifactRecords, ExecutionRecords, ProvenanceExport, RunQueries):
    """The SQL run store (see the module docstring); ``name`` prefixes its error messages."""

    def __init__(
        self,
        uri: str | URL,
        *,
        name: str = "metadata",
        input_retry_limit: int = 3,
        input_retry_backoff: float = 1.0,
        max_input_retry_backoff: float = 300.0,
        pipeline: str | None = None,
        lease_ttl: float = 15.0,
        standby: bool = False,
    ) -> None:
        if pipeline is not None and (not isinstance(pipeline, str) or not pipeline.strip() or len(pipeline) > 200):
            raise ConfigurationError(f"pipeline must be a non-empty name of at most 200 characters, got {pipeline!r}")
        if not isinstance(input_retry_limit, int) or input_retry_limit < 1:
            raise ConfigurationError(f"input_retry_limit must be an int >= 1, got {input_retry_limit!r}")
        if input_retry_backoff < 0 or max_input_retry_backoff < 0:
            raise ConfigurationError("input_retry_backoff and max_input_retry_backoff must be >= 0")
        self.input_retry_limit = input_retry_limit
        self.input_retry_backoff = input_retry_backoff
        self.max_input_retry_backoff = max_input_retry_backoff
        self.name = name
        #: The pipeline this store reads and writes (``None``: a reader over every pipeline).
        self.pipeline = pipeline
        #: Whether :meth:`open` waits for a running process of the pipeline to stop instead of refusing.
        self.standby = bool(standby)
        #: The pipeline's lease (``None`` for a reader); held between :meth:`open` and :meth:`close`.
        self.lease = PipelineLease(pipeline, ttl=lease_ttl) if pipeline is not None else None
        self._heartbeat: Heartbeat | None = None
        self._closing = threading.Event()
        self._db = Database(uri, name)
        self._active_run_id: int | None = None
        self._known_fingerprints: set[str] = set()
        self._artifact_queries = {}
        self._row_queries = {}
        self._provenance_ready: bool | None = None  # whether the execution tables exist (checked once)
        paramstyle = self._db.engine.dialect.paramstyle
        marker = "?" if paramstyle == "qmark" else "%s"
        # ``{execution}``: the logging execution's id as an SQL literal (an int or NULL), filled in per call
        self._metric_insert_sql = (
            f"INSERT INTO metrics ({', '.join(_METRIC_COLUMNS)}, execution_id) "
            f"VALUES ({', '.join([marker] * len(_METRIC_COLUMNS))}, {{execution}})"
        )
        self._metric_triple_sql = (
            f"INSERT INTO metrics ({', '.join(_METRIC_COLUMNS)}, execution_id) "
            f"VALUES ({{run_id}}, {{node}}, {marker}, {marker}, {marker}, {{ts}}, {{execution}})"
        )

    def __repr__(self) -> str:
        return f"RunStore({self.url!r}, name={self.name!r}, pipeline={self.pipeline!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy ``Engine`` (other packages may create their own tables in the same database)."""
        return self._db.engine

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._db.url

    @property
    def active_run_id(self) -> int | None:
        """The run begun by :meth:`begin_run` and not yet ended, or ``None``."""
        return self._active_run_id

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def open(self) -> list[int]:
        """Create the schema if needed, check its version (migrating an older one in place), take the pipeline's
        lease (waiting for it as a standby) and recover the runs a crash left ``running`` (returned)."""
        self._closing.clear()
        with self._db.write("create schema") as conn:
            migrate(conn, self.name)
        self._provenance_ready = True
        if self.lease is None:
            return []
        self._take_lease(self.lease)
        return self.recover_interrupted()

    def _take_lease(self, lease: PipelineLease) -> None:
        waiting = False
        while True:
            started = time.monotonic()
            try:
                with self._db.write("take the pipeline lease") as conn:
                    holder = lease.try_acquire(conn)
                    if holder is None:
                        self._adopt_unscoped(conn)
            except MetadataStoreError as exc:
                if lease.is_race(exc):
                    continue
                raise
            if holder is None:
                break
            if not self.standby:
                raise lease.refusal(holder)
            if not waiting:
                logger.warning("%s: pipeline %r is running (%s): waiting as its standby", self.name, self.pipeline,
                               holder.describe(lease.clock()))
                waiting = True
            if self._closing.wait(lease.ttl / 3):
                raise PipelineStateError(f"{self.name}: closed while waiting as the standby of {self.pipeline!r}")
        lease.acquired(started)
        self._db.lease = lease
        self._heartbeat = Heartbeat(self.name, lease.ttl / 3, self._renew_lease)
        self._heartbeat.start()

    def _renew_lease(self) -> bool:
        try:
            with self._db.write("renew the pipeline lease", fenced=True):
                pass
        except LeaseLostError:
            return False
        return True

    def _adopt_unscoped(self, conn: Connection) -> None:
        """Rows written without a pipeline (before pipelines were scoped) become this pipeline's."""
        conn.execute(update(runs).where(runs.c.pipeline.is_(None)).values(pipeline=self.pipeline))
        conn.execute(update(artifacts).where(artifacts.c.pipeline.is_(None)).values(pipeline=self.pipeline))

    def close(self) -> None:
        """Stop the heartbeat, release the lease (a standby takes over at once) and close the connections (a later
        call reconnects; :meth:`open` takes the lease again)."""
        self._closing.set()
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        lease, self._db.lease = self._db.lease, None
        if lease is not None:
            try:
                with self._db.write("release the pipeline lease") as conn:
                    lease.release(conn)
            except MetadataStoreError as exc:  # the database is down: the lease expires by itself
                logger.warning("%s: could not release the pipeline lease: %s", self.name, exc)
        self._db.close()

    def _scoped(self, column: Any) -> ColumnElement[bool]:
        """The condition that keeps a query to this store's pipeline (always true for a reader)."""
        return true() if self.pipeline is None else column == self.pipeline

    def recover_interrupted(self) -> list[int]:
        """This pipeline's runs left ``running`` by a process whose lease ended become ``aborted``; their inputs
        return to ``new``. A reader (no pipeline) recovers nothing: it cannot know whether their process lives."""
        if self.lease is None:
            return []
        now = time.time()
        with self._db.write("recover interrupted runs", fenced=True) as conn:
            run_ids = list(conn.execute(select(runs.c.id).where(
                runs.c.status == RunStatus.RUNNING.value, runs.c.pipeline == self.pipeline,
                or_(runs.c.owner.is_(None), runs.c.owner != self.lease.owner)).order_by(runs.c.id)).scalars())
            for run_id in run_ids:
                self._release_inputs(conn, run_id, now, failed=False, error=None)
                conn.execute(update(node_runs).where(node_runs.c.run_id == run_id,
                                                     node_runs.c.status == NodeStatus.RUNNING.value)
                             .values(status=NodeStatus.ABORTED.value, ended_at=now, error="interrupted"))
                conn.execute(update(runs).where(runs.c.id == run_id).values(
                    status=RunStatus.ABORTED.value, ended_at=now,
                    error="interrupted: the pipeline stopped before the run finished"))
        return run_ids

    def register_nodes(self, pipeline_nodes: Sequence[BaseNode]) -> None:
        now = time.time()
        scope = self.pipeline or ""
        rows = [{"pipeline": scope, "name": node.name, "kind": node.node_kind, "class_name": type(node).__qualname__,
                 "module": type(node).__module__, "code_fingerprint": node.code_fingerprint, "registered_at": now}
                for node in pipeline_nodes]
        if not rows:
            return
        with self._db.write("register nodes") as conn:
            conn.execute(delete(nodes).where(nodes.c.pipeline == scope,
                                             nodes.c.name.in_([row["name"] for row in rows])))
            conn.execute(insert(nodes), rows)
            for node in pipeline_nodes:
                self.store_fingerprint(conn, node.code)

    # --- runs ----------------------------------------------------------------------------------------------------
    def begin_run(self, trigger: str, resources: Sequence[str]) -> int:
        now = time.time()
        owner = self.lease.owner if self.lease is not None else None
        with self._db.write("begin run", fenced=True) as conn:
            run_id = inserted_id(conn.execute(_INSERT_RUN, {
                "status": RunStatus.RUNNING.value, "started_at": now, "trigger": trigger, "pipeline": self.pipeline,
                "owner": owner}))
            if resources:
                conn.execute(self._consume_inputs, {"w_resources": list(resources), "w_now": now, "w_run": run_id})
                conn.execute(_RECORD_CONSUMED, {"w_run": run_id})
        self._active_run_id = int(run_id)
        return int(run_id)

    def end_run(self, run_id: int, status: RunStatus, error: str | None = None) -> None:
        status = RunStatus(status)
        if status is RunStatus.RUNNING:
            raise ConfigurationError("end_run needs a final status (success, failed or aborted)")
        now = time.time()
        with self._db.write("end run", fenced=True) as conn:
            ended = conn.execute(_UPDATE_RUN, {"w_run": run_id, "status": status.value, "ended_at": now,
                                               "error": error})
            if ended.rowcount == 0:  # nothing was written: the transaction ends here
                raise RunNotFoundError(f"{self.name}: no run {run_id}")
            if status is RunStatus.SUCCESS:
                conn.execute(_RETIRE_RUN_ARTIFACTS, {"w_run": run_id})
            else:
                self._release_inputs(conn, run_id, now, failed=status is RunStatus.FAILED, error=error)
        if self._active_run_id == run_id:
            self._active_run_id = None

    @cached_property
    def _consume_inputs(self) -> Update:
        """The ready ``new`` inputs of resources ``w_resources`` become ``current``, consumed by run ``w_run``."""
        return (
            update(artifacts)
            .where(self._scoped(artifacts.c.pipeline),
                   artifacts.c.resource.in_(bindparam("w_resources", expanding=True)),
                   artifacts.c.state == ArtifactState.NEW.value,
                   (artifacts.c.retry_at.is_(None)) | (artifacts.c.retry_at <= bindparam("w_now")))
            .values(state=ArtifactState.CURRENT.value, consumed_run_id=bindparam("w_run"), retry_at=None)
        )

    def _release_inputs(self, conn: Connection, run_id: int, now: float, *, failed: bool, error: str | None) -> None:
        """Inputs of a run that did not succeed go back to ``new`` (after a backoff / into quarantine if failed);
        what it produced is kept as ``old`` history."""
        conn.execute(update(artifacts)
                     .where(artifacts.c.produced_run_id == run_id, artifacts.c.state == ArtifactState.CURRENT.value)
                     .values(state=ArtifactState.OLD.value))
        inputs = conn.execute(select(artifacts.c.id, artifacts.c.attempts, artifacts.c.deleted_at).where(
            artifacts.c.consumed_run_id == run_id, artifacts.c.state == ArtifactState.CURRENT.value)).all()
        for artifact_id, attempts, deleted_at in inputs:
            values: dict[str, Any] = {"consumed_run_id": None, "state": ArtifactState.NEW.value, "retry_at": None}
            if deleted_at is not None:
                values["state"] = ArtifactState.DELETED.value
            elif failed:
                attempts += 1
                values["attempts"] = attempts
                if attempts >= self.input_retry_limit:
                    values["state"] = ArtifactState.QUARANTINED.value
                    values["quarantine_reason"] = (
                        f"run {run_id} failed ({attempts} failed runs, limit {self.input_retry_limit}): {error}"
                    )
                else:
                    delay = min(self.input_retry_backoff * 2 ** (attempts - 1), self.max_input_retry_backoff)
                    values["retry_at"] = now + delay
            conn.execute(update(artifacts).where(artifacts.c.id == artifact_id).values(**values))

    def release_quarantined(self, resource: str, artifact_ids: Iterable[int] | None = None) -> int:
        """Give quarantined inputs another chance (back to ``new`` with the attempt count reset)."""
        query = update(artifacts).where(self._scoped(artifacts.c.pipeline), artifacts.c.resource == resource,
                                        artifacts.c.state == ArtifactState.QUARANTINED.value)
        if artifact_ids is not None:
            query = query.where(artifacts.c.id.in_(list(artifact_ids)))
        with self._db.write("release quarantined", fenced=True) as conn:
            result = conn.execute(query.values(state=ArtifactState.NEW.value, attempts=0, retry_at=None,
                                               quarantine_reason=None))
        return result.rowcount

    def set_run_hash(self, run_id: int, run_hash: str) -> None:
        """Record a digest of the run (the blockchain store stores its manifest's Merkle root here)."""
        with self._db.write("set run hash", fenced=True) as conn:
            result = conn.execute(update(runs).where(runs.c.id == run_id).values(hash=run_hash))
        if result.rowcount == 0:
            raise RunNotFoundError(f"{self.name}: no run {run_id}")

    # --- node results --------------------------------------------------------------------------------------------
    def record_node_start(self, run_id: int, node_name: str, code_fingerprint: str) -> int:
        with self._db.write("record node start") as conn:
            return inserted_id(conn.execute(_INSERT_NODE_RUN, {
                "run_id": run_id, "node_name": node_name, "status": NodeStatus.RUNNING.value, "started_at": time.time(),
                "attempts": 0, "code_fingerprint": code_fingerprint}))

    def record_node_end(
        self, node_run_id: int, status: NodeStatus, *, error: str | None = None, traceback: str | None = None,
        attempts: int = 1,
    ) -> None:
        with self._db.write("record node end") as conn:
            conn.execute(_UPDATE_NODE_RUN, {
                "w_node_run": node_run_id, "status": NodeStatus(status).value, "ended_at": time.time(), "error": error,
                "traceback": traceback, "attempts": attempts})

    def end_node_execution(
        self, node_run_id: int, execution_id: int, status: NodeStatus, *, reads: Sequence[Read] = (),
        reusable: bool = False, error: str | None = None, traceback: str | None = None, attempts: int = 1,
    ) -> None:
        """:meth:`end_execution` and :meth:`record_node_end` of a node that executed, in one transaction."""
        with self._db.write("end node execution") as conn:
            self._end_execution(conn, execution_id, status, reads, reusable, error)
            conn.execute(_UPDATE_NODE_RUN, {
                "w_node_run": node_run_id, "status": NodeStatus(status).value, "ended_at": time.time(), "error": error,
                "traceback": traceback, "attempts": attempts})

    def record_node_result(
        self, run_id: int, node_name: str, status: NodeStatus, code_fingerprint: str, error: str | None = None
    ) -> None:
        now = time.time()
        with self._db.write("record node result") as conn:
            conn.execute(_INSERT_NODE_RUN, {
                "run_id": run_id, "node_name": node_name, "status": NodeStatus(status).value, "started_at": now,
                "ended_at": now, "attempts": 0, "error": error, "code_fingerprint": code_fingerprint})

    # --- logging API ---------------------------------------------------------------------------------------------
    def log_metrics(self, context: ExecutionContext, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log numeric metrics for ``context``'s run and node."""
        step = metric_step(step)
        now = time.time()
        rows = [(context.run_id, context.node_name, check_key(key, "metric"), metric_value(key, value), step, now)
                for key, value in metrics.items()]
        if not rows:
            raise MetadataValueError("log_metrics() needs at least one metric, e.g. log_metrics(loss=0.1)")
        sql = self._metric_insert_sql.format(execution=_sql_int(context.execution_id))
        with self._db.write("log metrics") as conn:
            conn.exec_driver_sql(sql, rows if len(rows) > 1 else rows[0])

    def log_params(self, context: ExecutionContext, params: Mapping[str, Any]) -> None:
        """Log JSON-encodable params for ``context``'s run (a repeated key replaces the value)."""
        self._log_keyed(schema.params, "param", params, context)

    def set_tags(self, context: ExecutionContext, tags: Mapping[str, Any]) -> None:
        """Set JSON-encodable tags on ``context``'s run (a repeated key replaces the value)."""
        self._log_keyed(schema.tags, "tag", tags, context)

    def log_batch(
        self,
        context: ExecutionContext,
        metrics: Mapping[str, float] | Sequence[MetricRow] = (),
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
        step: int | None = None,
    ) -> None:
        """Log many records in one transaction: ``metrics`` as a mapping (all at ``step``) or as rows
        ``(key, value)`` / ``(key, value, step)``; all-or-nothing."""
        default_step = metric_step(step)
        now = time.time()
        run_id, node = context.run_id, context.node_name
        triples = plain_metric_triples(metrics)
        rows: Sequence[tuple[Any, ...]]
        if triples is not None and (node is None or _PLAIN_NAME.fullmatch(node)):
            # Fast path: the caller's (key, value, step) tuples go to the driver unchanged; the per-call constants
            # are SQL literals (an int, a float repr and a name restricted to [A-Za-z0-9_.:-]).
            node_sql = "NULL" if node is None else f"'{node}'"
            sql, rows = self._metric_triple_sql.format(run_id=int(run_id), node=node_sql, ts=repr(now),
                                                       execution=_sql_int(context.execution_id)), triples
        else:
            items = metrics.items() if isinstance(metrics, Mapping) else metrics
            sql = self._metric_insert_sql.format(execution=_sql_int(context.execution_id))
            rows = metric_rows(items, run_id, node, default_step, now)
        param_rows = self._keyed_rows("param", params or {}, context)
        tag_rows = self._keyed_rows("tag", tags or {}, context)
        with self._db.write("log batch") as conn:
            if rows:
                conn.exec_driver_sql(sql, rows)
            self._upsert_keyed(conn, schema.params, param_rows, run_id)
            self._upsert_keyed(conn, schema.tags, tag_rows, run_id)

    def _keyed_rows(self, what: str, values: Mapping[str, Any], context: ExecutionContext) -> list[dict[str, Any]]:
        return [{"run_id": context.run_id, "key": check_key(key, what), "value": encode_value(key, value, what),
                 "node_name": context.node_name, "execution_id": context.execution_id}
                for key, value in values.items()]

    def _log_keyed(self, table: Any, what: str, values: Mapping[str, Any], context: ExecutionContext) -> None:
        rows = self._keyed_rows(what, values, context)
        if not rows:
            raise MetadataValueError(f"nothing to log: pass at least one {what} as a keyword argument")
        with self._db.write(f"log {what}s") as conn:
            self._upsert_keyed(conn, table, rows, context.run_id)

    @staticmethod
    def _upsert_keyed(conn: Connection, table: Any, rows: list[dict[str, Any]], run_id: int) -> None:
        if not rows:
            return
        conn.execute(delete(table).where(table.c.run_id == run_id, table.c.key.in_([r["key"] for r in rows])))
        conn.execute(insert(table), rows)


def _sql_int(value: int | None) -> str:
    """An optional id as an SQL literal."""
    return "NULL" if value is None else str(int(value))
