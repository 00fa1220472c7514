"""Opening the marketplace index database: the shared engine factory, tuned for the listing, and the schema.

The engine comes from :func:`anacostia_blockchain.sql.create_store_engine` (SQLite in WAL mode, so API reads never
wait for the indexer's writes; PostgreSQL by URL ``postgresql+psycopg://...``) with a pool large enough for the API's
threads. SQLite connections additionally map the file into memory (``mmap_size``): listing reads then copy no pages
through ``read()``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from ...errors import ConfigurationError
from ...sql import create_store_engine
from .migrations import create_or_upgrade

#: Connections the API's threads, the indexer and the metadata fetcher may hold at once.
POOL_SIZE = 20
MMAP_BYTES = 256 * 1024 * 1024


def _map_sqlite_file(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA mmap_size={MMAP_BYTES}")
    finally:
        cursor.close()


def create_index_engine(url: str) -> Engine:
    """An engine for the index database at ``url``; :class:`ConfigurationError` for a bad URL or missing driver."""
    try:
        engine = create_store_engine(url, pool_size=POOL_SIZE, max_overflow=POOL_SIZE)
    except ConfigurationError as exc:
        raise ConfigurationError(f"bad index database URL: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _map_sqlite_file)
    return engine


def open_index(url: str) -> Engine:
    """:func:`create_index_engine` with the schema created or upgraded (:func:`create_or_upgrade`)."""
    engine = create_index_engine(url)
    try:
        create_or_upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
