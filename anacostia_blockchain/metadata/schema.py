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
- ``anacostia_schema`` stores the schema version; ``open_store`` refuses a database written by a newer version and
  is the place future migrations run (tables are only ever added to, columns only added as nullable).
- Other packages add their own tables to the same database with their own ``MetaData`` (never this one).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
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

SCHEMA_VERSION = 1

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
    sqlite_autoincrement=True,
)
Index("ix_runs_status", runs.c.status)

nodes = Table(
    "nodes",
    metadata,
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
)
Index("ix_metrics_run_key", metrics.c.run_id, metrics.c.key)

params = Table(
    "params",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("node_name", String(200)),
)

tags = Table(
    "tags",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id"), primary_key=True),
    Column("key", String(250), primary_key=True),
    Column("value", Text, nullable=False),
    Column("node_name", String(200)),
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
