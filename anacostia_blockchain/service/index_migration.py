"""Create the marketplace index, or bring one written by an older version up to the current schema.

``metadata.create_all`` only creates missing *tables*; an index database from before the pre-rendered listing
(``listing_json.py``) has the tables but not the fragment columns nor the composite indexes. :func:`create_or_upgrade`
adds what is missing — idempotently, in one transaction, safe to call from every component that opens the database
(app, indexer, metadata fetcher) and from several processes:

1. tables (``create_all``), then any missing fragment column (``ALTER TABLE … ADD COLUMN``);
2. every declared index with ``CREATE INDEX IF NOT EXISTS``, and the superseded single-column ones dropped;
3. fragments rendered for rows that have none (rows written by an older version), from the rows themselves.
"""

from __future__ import annotations

from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.engine import Connection
from sqlalchemy.schema import CreateIndex

from . import index_schema as s
from .listing_json import metadata_metrics_json, metadata_name_json, model_fragment

#: Columns added after the first release of the schema: (table, column, SQL type).
ADDED_COLUMNS = (
    ("models", "listing_json", "TEXT"),
    ("nft_metadata", "name_json", "TEXT"),
    ("nft_metadata", "metrics_json", "TEXT"),
)
#: Indexes of earlier versions that the composite ones now cover.
SUPERSEDED_INDEXES = ("ix_models_owner", "ix_models_price", "ix_models_listed_price", "ix_models_metadata")
_BACKFILL_BATCH = 500


def create_or_upgrade(engine: Engine) -> None:
    """Create or upgrade the index schema of ``engine`` (see the module docstring)."""
    s.metadata.create_all(engine)
    with engine.begin() as conn:
        inspector = inspect(conn)
        if_missing = " IF NOT EXISTS" if conn.dialect.name == "postgresql" else ""  # another process may race us
        for table, column, sql_type in ADDED_COLUMNS:
            if column not in {c["name"] for c in inspector.get_columns(table)}:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN{if_missing} {column} {sql_type}"))
        for name in SUPERSEDED_INDEXES:
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        for table in s.metadata.sorted_tables:
            for index in table.indexes:
                conn.execute(CreateIndex(index, if_not_exists=True))
        _render_missing_fragments(conn)


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


def stored_metadata_fragments(conn: Connection, cid: str, name: str | None, status: str) -> tuple[str, str]:
    """``(name_json, metrics_json)`` of a stored metadata row, rendered from its columns and ``nft_metrics``."""
    mt = s.nft_metrics
    metrics = {metric: value for metric, value in conn.execute(select(mt.c.name, mt.c.value).where(mt.c.cid == cid))}
    return metadata_name_json(name), metadata_metrics_json(metrics if status == "verified" else None)
