"""Bringing a metadata database to this library's schema version, in place, when a store opens it.

:func:`migrate` runs inside the caller's write transaction, which it first makes exclusive for the whole database
(``BEGIN IMMEDIATE`` on SQLite, a transaction-scoped advisory lock on PostgreSQL), so pipelines of several processes
opening one database at the same moment migrate it exactly once and never see it half-migrated:

- an empty database gets every table and the current version;
- version 1 -> 2: the execution tables are created;
- version 2 -> 3: ``runs.pipeline``, ``runs.owner`` and ``artifacts.pipeline`` are added (``NULL``: written without a
  pipeline), with their index; ``pipeline_leases`` is created; ``nodes`` is rebuilt with ``pipeline`` in its primary
  key (it is a registry every launch rewrites; its rows are copied with an empty pipeline);
- version 3 -> 4: ``execution_id`` and ``reused_from`` are added to ``metrics``, ``params`` and ``tags`` (``NULL``:
  logged before);
- an index this library defines and the database lacks (added to an existing table) is created;
- a newer version is refused with :class:`~anacostia_blockchain.errors.MetadataStoreError` (upgrade the library).

Tables are only ever added and columns only added as nullable, so a read-only tool reads an older database without
migrating it (queries select :data:`~.schema.RUN_FIELDS` / :data:`~.schema.ARTIFACT_FIELDS`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, inspect, select, text, update
from sqlalchemy.schema import CreateIndex

from ..errors import MetadataStoreError
from . import schema

#: The key of PostgreSQL's advisory lock around a migration (any constant shared by every version of the library).
_PG_LOCK_KEY = 0x616E61636F7374


def migrate(conn: Connection, name: str) -> int | None:
    """Create or upgrade the schema in ``conn``'s transaction; returns the version found (``None``: empty)."""
    _lock_database(conn)
    version = _schema_version(conn)
    if version is not None and version > schema.SCHEMA_VERSION:
        raise MetadataStoreError(
            f"{name}: the database has schema version {version}, newer than this library's "
            f"{schema.SCHEMA_VERSION}: upgrade anacostia-blockchain"
        )
    if version is not None and version < 3:
        _rebuild_nodes(conn)
    schema.metadata.create_all(conn)
    if version is not None and version < 3:
        _add_scope_columns(conn)
    if version is not None and version < 4:
        _add_columns(conn, schema.LOGGED_BY_COLUMNS)
    if version is not None:
        _add_missing_indexes(conn)
    if version is None:
        conn.execute(insert(schema.schema_info).values(version=schema.SCHEMA_VERSION))
    elif version < schema.SCHEMA_VERSION:
        conn.execute(update(schema.schema_info).values(version=schema.SCHEMA_VERSION))
    return version


def _lock_database(conn: Connection) -> None:
    """Make the transaction exclusive: other processes' migrations (and SQLite writers) wait for its end."""
    if conn.dialect.name == "sqlite":
        if not conn.connection.dbapi_connection.in_transaction:  # type: ignore[union-attr]
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    elif conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})


def _schema_version(conn: Connection) -> int | None:
    """The recorded schema version, or ``None`` for an empty database."""
    if not inspect(conn).has_table(schema.schema_info.name):
        return None
    return conn.execute(select(schema.schema_info.c.version)).scalar()


def _rebuild_nodes(conn: Connection) -> None:
    """``nodes`` without a ``pipeline`` column: copy its rows, drop it (``create_all`` makes the new one), restore."""
    inspector = inspect(conn)
    if not inspector.has_table(schema.nodes.name):
        return
    if "pipeline" in {column["name"] for column in inspector.get_columns(schema.nodes.name)}:
        return
    rows: list[dict[str, Any]] = [dict(row._mapping) for row in conn.execute(text("SELECT * FROM nodes"))]
    conn.execute(text("DROP TABLE nodes"))
    schema.nodes.create(conn)
    if rows:
        conn.execute(insert(schema.nodes), [{**row, "pipeline": ""} for row in rows])


def _add_scope_columns(conn: Connection) -> None:
    _add_columns(conn, schema.SCOPE_COLUMNS)


def _add_columns(conn: Connection, columns: tuple[tuple[str, str], ...]) -> None:
    """Add the nullable ``(table, column)`` pairs a table lacks."""
    inspector = inspect(conn)
    for table, column in columns:
        if column in {c["name"] for c in inspector.get_columns(table)}:
            continue
        sql_type = schema.metadata.tables[table].c[column].type.compile(dialect=conn.dialect)
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}"))


def _add_missing_indexes(conn: Connection) -> None:
    """Indexes of tables that already existed (``create_all`` creates only the indexes of the tables it creates);
    only the missing ones are created, so opening an up-to-date database runs no DDL."""
    inspector = inspect(conn)
    for table in schema.metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in present:
                conn.execute(CreateIndex(index, if_not_exists=True))
