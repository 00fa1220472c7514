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
#: Connections of the hot reads' own pool (PostgreSQL), enough for the few threads that run them.
READ_POOL_SIZE = 8
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


def create_read_engine(engine: Engine) -> Engine:
    """The engine of the API's hot reads (the list endpoints and ``/status``) on ``engine``'s database.

    SQLite: ``engine`` itself (in-process: nothing to save). PostgreSQL: a small pool of its own whose connections
    run in autocommit mode and are not pinged at checkout. Each of those reads is one statement, so a transaction
    only added a ``BEGIN`` and a ``ROLLBACK`` round trip, and the ping a third: with them a read cost the server and
    the database about 0.3 ms more CPU. A connection the database dropped fails the one read that finds out, and is
    then replaced. (The list endpoints and ``/status`` read PostgreSQL on the event loop's own connections,
    ``driver_reads.AsyncReads``; this pool serves what they hand back.)
    """
    if engine.dialect.name == "sqlite":
        return engine
    return create_store_engine(engine.url, pool_size=READ_POOL_SIZE, max_overflow=READ_POOL_SIZE, pre_ping=False,
                               autocommit=True)


def open_index(url: str) -> Engine:
    """:func:`create_index_engine` with the schema created or upgraded (:func:`create_or_upgrade`)."""
    engine = create_index_engine(url)
    try:
        create_or_upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
