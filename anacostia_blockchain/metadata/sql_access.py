"""Connection handling shared by the SQL store's parts: one writer connection, pooled readers.

Writes are serialized in-process by a lock around one long-lived connection. SQLite allows a single writer anyway,
and serializing in Python avoids ``database is locked`` upgrades between threads and the cost of a pool checkout per
``log_metrics`` call. Readers take pooled connections and run concurrently (WAL lets them read while the writer
writes). An in-memory SQLite database has a single connection, so reads take the writer lock too.

If the writer connection breaks (PostgreSQL restarted), the failing call raises
:class:`~anacostia_blockchain.errors.MetadataStoreError` and the next write opens a fresh connection.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from .sql_connection import create_store_engine, is_memory_sqlite, parse_store_url, translate_errors


class SqlAccess:
    """The engine, the writer connection and the locks (initialized by :meth:`_init_sql`)."""

    name: str
    _url: URL
    _engine: Engine
    _writer: Connection | None
    _write_lock: threading.RLock
    _shared_connection: bool

    def _init_sql(self, uri: str | URL) -> None:
        self._url = parse_store_url(uri)
        self._engine = create_store_engine(self._url)
        self._writer = None
        self._write_lock = threading.RLock()
        self._shared_connection = is_memory_sqlite(self._url)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy ``Engine`` (other packages may create their own tables in the same database)."""
        return self._engine

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            if self._writer is not None:
                self._writer.close()
            self._writer = self._engine.connect()
        return self._writer

    @contextmanager
    def _write(self, what: str) -> Iterator[Connection]:
        """A transaction on the writer connection; committed on exit, rolled back on error."""
        with self._write_lock, translate_errors(f"{self.name}: {what}"):
            conn = self._writer_connection()
            try:
                with conn.begin():
                    yield conn
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    conn.close()
                    self._writer = None
                raise

    @contextmanager
    def _read(self, what: str) -> Iterator[Connection]:
        """A connection for queries (the shared one for in-memory SQLite)."""
        if self._shared_connection:
            with self._write_lock, translate_errors(f"{self.name}: {what}"):
                conn = self._writer_connection()
                try:
                    yield conn
                finally:
                    if conn.in_transaction():
                        conn.rollback()
            return
        with translate_errors(f"{self.name}: {what}"), self._engine.connect() as conn:
            yield conn

    def _close_sql(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self._engine.dispose()
