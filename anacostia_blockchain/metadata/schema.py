"""The metadata database schema (SQLAlchemy Core; identical on SQLite and PostgreSQL).

Design choices:

- Times are epoch seconds (double precision), statuses and states plain strings: any SQL client can read the
  database without this library.
- ``runs.id`` never repeats (``AUTOINCREMENT`` on SQLite, a sequence on PostgreSQL): run ids increase across
  restarts even when the newest run row was deleted.
- Artifacts are versions: one row per content seen at a location. ``deleted_at`` marks a version whose content is
  gone; ``state`` follows :class:`~anacostia_blockchain.engine.ArtifactState`.
- ``lineage`` holds one row per edge: a run ``consumed`` an artifact, or a run+node ``produced`` it. A failed run's
  ``consumed`` edges stay even though its inputs return to ``new``.
- ``executions`` holds one row per execution: a node's in a run (``unit`` NULL) or one work unit's inside it, with
  its cache key, code fingerprint (details once per digest in ``code_fingerprints``), params digest, declared inputs,
  status and, when it was reused, the execution and run it was reused from. ``execution_outputs`` lists what each
  execution saved (or had linked), ``reads`` what it read through the resources, ``artifact_edges`` the per-output
  lineage (``output_id`` was ``derived_from`` ``input_id``; ``basis``: ``reads``, ``declared`` or ``reused``).
- Many pipelines share one database: ``runs``, ``artifacts`` and ``nodes`` carry the ``pipeline`` that wrote them
  (``NULL``/empty: written without one — by a version before pipelines were scoped, or by an unscoped
  ``RunStore``; the next pipeline that opens the database adopts them), ``runs.owner`` the lease owner (process)
  that began the run. ``pipeline_leases`` holds one row per running pipeline: its owner and heartbeat
  (see ``metadata/_lease.py``).
- ``metrics``, ``params`` and ``tags`` carry the execution that logged them (``execution_id``: a node's or a work
  unit's); a value copied into a run because its execution was reused carries the execution that logged it in the
  first place (``reused_from``). ``NULL`` for values logged outside an execution or before version 4.
- ``anacostia_schema`` stores the schema version; ``open_store`` refuses a database written by a newer version and
  migrates older ones in place (see ``metadata/_migrations.py``): version 1 lacked the execution tables above,
  version 2 the pipeline columns and the leases, version 3 the logged-by columns.
- Other packages add their own tables to the same database with their own ``MetaData`` (never this one).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = 4

metadata = MetaData()

schema_info = Table(
    "anacostia_schema",
    metadata,
    Column("version", Integer, primary_key=True),
)

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("trigger", Text),
    Column("error", Text),
    Column("hash", String(130)),
    Column("pipeline", String(200)),
    Column("owner", String(64)),
    sqlite_autoincrement=True,
)
Index("ix_runs_status", runs.c.status)
Index("ix_runs_pipeline_status", runs.c.pipeline, runs.c.status)

nodes = Table(
    "nodes",
    metadata,
    Column("pipeline", String(200), primary_key=True, default=""),
    Column("name", String(200), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("class_name", String(300), nullable=False),
    Column("module", String(300), nullable=False),
    Column("code_fingerprint", String(80), nullable=False),
    Column("registered_at", Float, nullable=False),
)

node_runs = Table(
    "node_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("node_name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("traceback", Text),
    Column("code_fingerprint", String(80), nullable=False),
)
Index("ix_node_runs_run", node_runs.c.run_id)

metrics = Table(
    "metrics",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("node_name", String(200)),
    Column("key", String(250), nullable=False),
    Column("value", Float, nullable=False),
    Column("step", BigInteger),
    Column("timestamp", Float, nullable=False),
    Column("execution_id", Integer),
    Column("reused_from", Integer),
)
Index("ix_metrics_run_key", metrics.c.run_id, metrics.c.key)

params = Table(
    "params",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("node_name", String(200)),
    Column("execution_id", Integer),
    Column("reused_from", Integer),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("node_name", String(200)),
    Column("execution_id", Integer),
    Column("reused_from", Integer),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("resource", String(200), nullable=False),
    Column("location", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger),
    Column("state", String(16), nullable=False),
    Column("detected_at", Float, nullable=False),
    Column("detected_run_id", Integer),
    Column("consumed_run_id", Integer),
    Column("produced_run_id", Integer),
    Column("produced_by_node", String(200)),
    Column("cid", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("retry_at", Float),
    Column("quarantine_reason", Text),
    Column("deleted_at", Float),
    Column("pipeline", String(200)),
)
Index("ix_artifacts_resource_state", artifacts.c.resource, artifacts.c.state)
Index("ix_artifacts_resource_location", artifacts.c.resource, artifacts.c.location)
Index("ix_artifacts_consumed", artifacts.c.consumed_run_id)
Index("ix_artifacts_produced", artifacts.c.produced_run_id)
Index("ix_artifacts_sha256", artifacts.c.sha256)

lineage = Table(
    "lineage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("relation", String(16), nullable=False),
    Column("node_name", String(200)),
)
Index("ix_lineage_run", lineage.c.run_id)
Index("ix_lineage_artifact", lineage.c.artifact_id)

code_fingerprints = Table(
    "code_fingerprints",
    metadata,
    Column("digest", String(80), primary_key=True),
    Column("details", Text, nullable=False),
)

executions = Table(
    "executions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("node_name", String(200), nullable=False),
    Column("unit", Text),
    Column("status", String(16), nullable=False),
    Column("cache_key", String(80), nullable=False),
    Column("fingerprint", String(80), nullable=False),
    Column("source_revision", String(64)),
    Column("source_dirty", Boolean),
    Column("params_digest", String(80), nullable=False),
    Column("inputs", Text, nullable=False),
    Column("upstream", Text, nullable=False),
    Column("reusable", Boolean, nullable=False, default=False),
    Column("reused_from", Integer),
    Column("reused_from_run", Integer),
    Column("started_at", Float, nullable=False),
    Column("ended_at", Float),
    Column("error", Text),
)
Index("ix_executions_reusable", executions.c.cache_key, executions.c.reusable)
Index("ix_executions_run", executions.c.run_id, executions.c.node_name)

execution_outputs = Table(
    "execution_outputs",
    metadata,
    Column("execution_id", Integer, ForeignKey("executions.id"), primary_key=True),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), primary_key=True),
)
Index("ix_execution_outputs_artifact", execution_outputs.c.artifact_id)

reads = Table(
    "reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("execution_id", Integer, ForeignKey("executions.id"), nullable=False),
    Column("node_name", String(200)),
    Column("artifact_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("via", String(16), nullable=False),
)
Index("ix_reads_execution", reads.c.execution_id)
Index("ix_reads_artifact", reads.c.artifact_id)

artifact_edges = Table(
    "artifact_edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id"), nullable=False),
    Column("execution_id", Integer, ForeignKey("executions.id")),
    Column("output_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("input_id", Integer, ForeignKey("artifacts.id"), nullable=False),
    Column("relation", String(32), nullable=False),
    Column("basis", String(16), nullable=False),
)
Index("ix_artifact_edges_output", artifact_edges.c.output_id)
Index("ix_artifact_edges_input", artifact_edges.c.input_id)

pipeline_leases = Table(
    "pipeline_leases",
    metadata,
    Column("pipeline", String(200), primary_key=True),
    Column("owner", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("pid_namespace", String(64), nullable=False),
    Column("acquired_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
)

#: Columns schema version 3 added to existing tables: ``(table, column)`` (nullable; their types are the schema's).
SCOPE_COLUMNS = (("runs", "pipeline"), ("runs", "owner"), ("artifacts", "pipeline"))
#: The columns a run record shows (``get_run``, ``export_run``, hence anchored manifests) and an artifact is read
#: from: the scope columns are left out, so records and manifests read the same before and after the migration, and
#: a read-only tool can read a database written by an older version without migrating it.
RUN_FIELDS = tuple(column for column in runs.c if (runs.name, column.name) not in SCOPE_COLUMNS)
ARTIFACT_FIELDS = tuple(column for column in artifacts.c if (artifacts.name, column.name) not in SCOPE_COLUMNS)

#: The columns schema version 4 added: which execution logged a metric, param or tag, and for a value copied from
#: a reused execution, the execution it was logged by (queries that must read older databases never select them).
LOGGED_BY_COLUMNS = tuple((table, column) for table in ("metrics", "params", "tags")
                          for column in ("execution_id", "reused_from"))
#: The tables schema version 2 added (a database opened read-only may lack them).
PROVENANCE_TABLES = ("code_fingerprints", "executions", "execution_outputs", "reads", "artifact_edges")
