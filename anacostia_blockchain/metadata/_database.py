"""``Database``: the engine, one writer connection and pooled readers, shared by the run store's parts.

Writes are serialized in-process by a lock around one long-lived connection. SQLite allows a single writer anyway,
and serializing in Python avoids ``database is locked`` upgrades between threads and the cost of a pool checkout per
``log_metrics`` call. Readers take pooled connections and run concurrently (WAL lets them read while the writer
writes). An in-memory SQLite database has a single connection, so reads take the writer lock too.

If the writer connection breaks (PostgreSQL restarted), the failing call raises
:class:`~anacostia_blockchain.errors.MetadataStoreError` and the next write opens a fresh connection.

A pipeline's store sets ``lease`` (:class:`~._lease.PipelineLease`): a ``fenced`` write, and any write once the
lease's local deadline passed, renews the lease as the first statement of its transaction and raises
:class:`~anacostia_blockchain.errors.LeaseLostError` (writing nothing) when another process took the pipeline over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, CursorResult, Engine
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from ..errors import MetadataStoreError
from ..sql import create_store_engine, is_memory_sqlite, parse_store_url, translate_errors
from ._lease import PipelineLease


def inserted_id(result: CursorResult[object]) -> int:
    """The primary key an ``INSERT`` of one row created."""
    key = result.inserted_primary_key
    if key is None:  # pragma: no cover - every table here has an integer primary key
        raise MetadataStoreError("the database returned no primary key for an inserted row")
    return int(key[0])


class Database:
    """Connections to the database at ``uri``; ``name`` prefixes error messages."""

    def __init__(self, uri: str | URL, name: str) -> None:
        self.name = name
        self._url = parse_store_url(uri)
        self.engine: Engine = create_store_engine(self._url)
        self._writer: Connection | None = None
        self._write_lock = threading.RLock()
        self._shared_connection = is_memory_sqlite(self._url)
        #: The pipeline lease that fences writes (``None``: an unscoped store, nothing to fence).
        self.lease: PipelineLease | None = None

    @property
    def url(self) -> str:
        """The database URL with any password masked."""
        return self._url.render_as_string(hide_password=True)

    def _writer_connection(self) -> Connection:
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            if self._writer is not None:
                self._writer.close()
            self._writer = self.engine.connect()
        return self._writer

    @contextmanager
    def write(self, what: str, *, fenced: bool = False) -> Iterator[Connection]:
        """A transaction on the writer connection; committed on exit, rolled back on error. ``fenced``: renew the
        lease inside it first (see the module docstring)."""
        with self._write_lock, translate_errors(f"{self.name}: {what}"):
            conn = self._writer_connection()
            lease = self.lease
            started = time.monotonic()
            renewing = lease is not None and (fenced or lease.due())
            try:
                with conn.begin():
                    if renewing and lease is not None:
                        lease.hold(conn)
                    yield conn
                if renewing and lease is not None:
                    lease.renewed(started)
            except DBAPIError as exc:
                if exc.connection_invalidated:
                    conn.close()
                    self._writer = None
                raise

    @contextmanager
    def read(self, what: str) -> Iterator[Connection]:
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
        with translate_errors(f"{self.name}: {what}"), self.engine.connect() as conn:
            yield conn

    def close(self) -> None:
        """Close the writer connection and the pool (the next call reconnects)."""
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()
