"""Create the marketplace index, or bring one written by an older version up to the current schema.

``metadata.create_all`` only creates missing *tables*; an index database of an older version has the tables but not
the columns and indexes added since (the pre-rendered listing of ``listing_json.py``, the exact metric values of
``metric_values.py``). :func:`create_or_upgrade` adds what is missing — idempotently, in one transaction, safe to call
from every component that opens the database (app, indexer, metadata fetcher) and from several processes:

1. a database that holds something else — an Anacostia metadata store, or any table under one of the index's names
   without the index's columns (the metadata store's ``runs``) — is refused with a :class:`ConfigurationError`
   naming the conflict, before anything is created;
2. tables (``create_all``), then every column of :data:`ADDED_COLUMNS` that is missing (``ALTER TABLE … ADD COLUMN``);
3. every declared index with ``CREATE INDEX IF NOT EXISTS``, and the superseded ones dropped;
4. metrics extracted again from the stored documents whose ``metrics_version`` is older than
   :data:`METRICS_VERSION` (earlier versions indexed JSON numbers only, so metadata with decimal-string metrics had
   none), ``model_metrics`` filled when it is new, then fragments rendered for rows that have none (rows written by
   an older version), from the rows themselves, and the row counts of ``counts.py`` counted where there are none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import Engine, delete, insert, inspect, or_, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from ...errors import ConfigurationError
from ...metadata.schema import metadata as metadata_store_schema
from ...sql import translate_errors
from ..config import display_url
from . import model_metrics
from . import schema as s
from .counts import initialize_counts
from .listing_json import metadata_name_json, model_fragment
from .metric_values import document_metrics, metric_decimal, metrics_json, sort_key

#: Columns added after the first release of the schema: (table, column); their types are the schema's.
ADDED_COLUMNS = (
    ("models", "listing_json"),
    ("nft_metadata", "name_json"),
    ("nft_metadata", "metrics_json"),
    ("nft_metadata", "metrics_version"),
    ("nft_metrics", "exact"),
    ("nft_metrics", "sort_key"),
)
#: Indexes of earlier versions that the composite ones now cover.
SUPERSEDED_INDEXES = (
    "ix_models_owner",
    "ix_models_price",
    "ix_models_listed_price",
    "ix_models_metadata",
    "ix_nft_metrics_name_value",
    "ix_runs_block",
)
#: The version of metric extraction (``metric_values.document_metrics``) whose results ``nft_metrics`` holds.
METRICS_VERSION = 1
_BACKFILL_BATCH = 500
#: The tables of an Anacostia metadata store (``metadata/schema.py``).
METADATA_STORE_TABLES = frozenset(metadata_store_schema.tables)


def create_or_upgrade(engine: Engine) -> None:
    """Create or upgrade the index schema of ``engine`` (see the module docstring); :class:`ConfigurationError`,
    before anything is created, when the database holds tables of something else (a metadata store)."""
    with translate_errors("cannot open the index database", detail=False):
        with engine.connect() as conn:
            _refuse_foreign_tables(conn)
        _create_or_upgrade(engine)


def _refuse_foreign_tables(conn: Connection) -> None:
    """The index shares no database with an Anacostia metadata store (whose ``runs`` table has the index's name and
    other columns), nor with any table named like one of the index's that lacks the index's columns."""
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    added = {(table, column) for table, column in ADDED_COLUMNS}
    conflicts = []
    for table in s.metadata.sorted_tables:
        if table.name in existing:
            have = {column["name"] for column in inspector.get_columns(table.name)}
            missing = sorted(c.name for c in table.columns if c.name not in have and (table.name, c.name) not in added)
            if missing:
                conflicts.append(f"its table {table.name!r} is not the index's (no {', '.join(missing)})")
    store_tables = sorted(existing & METADATA_STORE_TABLES)
    if store_tables and {"anacostia_schema", "node_runs"} & existing:
        conflicts.insert(0, f"it holds an Anacostia metadata store (tables {', '.join(store_tables)})")
    if conflicts:
        where = display_url(conn.engine.url.render_as_string(hide_password=True))
        raise ConfigurationError(
            f"the marketplace index cannot use the database {where}: {'; '.join(conflicts)}. "
            "Give the index a database of its own (anacostia-chain serve --db URL / ANACOSTIA_DATABASE_URL)"
        )


def _create_or_upgrade(engine: Engine) -> None:
    with engine.connect() as conn:
        new_model_metrics = not inspect(conn).has_table(s.model_metrics.name)
    s.metadata.create_all(engine)
    with engine.begin() as conn:
        inspector = inspect(conn)
        if_missing = " IF NOT EXISTS" if conn.dialect.name == "postgresql" else ""  # another process may race us
        for table, column in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspector.get_columns(table)}:
                sql_type = s.metadata.tables[table].c[column].type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN{if_missing} {column} {sql_type}"))
        for name in SUPERSEDED_INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        for declared in s.metadata.sorted_tables:
            for index in declared.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))
        _extract_outdated_metrics(conn)
        if new_model_metrics:
            model_metrics.rebuild(conn)
        _render_missing_fragments(conn)
        initialize_counts(conn)


def _render_missing_fragments(conn: Connection) -> None:
    m, md = s.models, s.nft_metadata
    while rows := conn.execute(select(m).where(m.c.listing_json.is_(None)).limit(_BACKFILL_BATCH)).mappings().all():
        for row in rows:
            conn.execute(update(m).where(m.c.token_id == row["token_id"]).values(listing_json=model_fragment(row)))
    while docs := conn.execute(
        select(md.c.cid, md.c.name, md.c.status).where(md.c.name_json.is_(None)).limit(_BACKFILL_BATCH)
    ).all():
        for cid, name, status in docs:
            name_json, metrics_json = stored_metadata_fragments(conn, cid, name, status)
            conn.execute(update(md).where(md.c.cid == cid).values(name_json=name_json, metrics_json=metrics_json))


def _extract_outdated_metrics(conn: Connection) -> None:
    md = s.nft_metadata
    outdated = or_(md.c.metrics_version.is_(None), md.c.metrics_version < METRICS_VERSION)
    while docs := conn.execute(
        select(md.c.cid, md.c.status, md.c.document).where(outdated).limit(_BACKFILL_BATCH)
    ).all():
        for cid, status, document in docs:
            metrics = document_metrics(json.loads(document)) if status == "verified" and document else {}
            write_metrics(conn, cid, metrics, verified=status == "verified")


def write_metrics(conn: Connection, cid: str, metrics: Mapping[str, Decimal], *, verified: bool) -> None:
    """Replace the indexed metrics of the document ``cid`` (its ``nft_metadata`` row exists) and its listing
    fragment; they count only once the document is ``verified``."""
    conn.execute(delete(s.nft_metrics).where(s.nft_metrics.c.cid == cid))
    if metrics:
        conn.execute(
            insert(s.nft_metrics),
            [
                {"cid": cid, "name": name, "value": float(value), "exact": str(value), "sort_key": sort_key(value)}
                for name, value in metrics.items()
            ],
        )
    exact = {name: str(value) for name, value in metrics.items()} if verified else None
    conn.execute(
        update(s.nft_metadata)
        .where(s.nft_metadata.c.cid == cid)
        .values(metrics_json=metrics_json(exact), metrics_version=METRICS_VERSION)
    )
    model_metrics.refresh_document(conn, cid)


def stored_metadata_fragments(conn: Connection, cid: str, name: str | None, status: str) -> tuple[str, str]:
    """``(name_json, metrics_json)`` of a stored metadata row, rendered from its columns and ``nft_metrics``."""
    mt = s.nft_metrics
    exact: dict[str, str] = {}
    for metric, text_value, value in conn.execute(select(mt.c.name, mt.c.exact, mt.c.value).where(mt.c.cid == cid)):
        number = metric_decimal(text_value) if text_value is not None else metric_decimal(value)
        if number is not None:
            exact[metric] = str(number)
    return metadata_name_json(name), metrics_json(exact if status == "verified" else None)
