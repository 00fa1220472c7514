"""Creating the SQLAlchemy ``Engine`` for a database URL.

- ``postgresql://`` without a driver means psycopg 3 (``postgresql+psycopg://``), the driver this project ships.
- SQLite files get WAL journaling, ``synchronous=NORMAL`` (durable across process crashes; a power loss may drop
  the last transactions, never corrupt the file), foreign keys on and a 30 s busy timeout. The parent folder is
  created. ``sqlite://`` (in memory) uses one shared connection, so every thread sees the same database.
- Error messages show the URL with its password masked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from ..errors import ConfigurationError


def parse_store_url(uri: str | URL) -> URL:
    """The parsed ``uri``; a bare ``postgresql`` driver name becomes ``postgresql+psycopg``."""
    try:
        url = make_url(uri)
    except (ArgumentError, ValueError, TypeError) as exc:
        raise ConfigurationError(f"not a database URL: {uri!r} (expected e.g. sqlite:///path/metadata.db)") from exc
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url


def is_memory_sqlite(url: URL) -> bool:
    """True for ``sqlite://`` and ``sqlite:///:memory:``: a database that lives as long as its connection."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
    finally:
        cursor.close()


def create_store_engine(uri: str | URL, *, pool_size: int = 8, max_overflow: int = 16, pre_ping: bool = True,
                        autocommit: bool = False) -> Engine:
    """An ``Engine`` for ``uri`` configured as described in the module docstring.

    ``pool_size`` and ``max_overflow`` size the connection pool of file and server databases. ``pre_ping`` tests a
    server database's connection at each checkout (one round trip); without it, a connection the server dropped
    fails the one statement that finds out, and SQLAlchemy then replaces the pool's connections. ``autocommit``
    runs each statement of a server database on its own (no ``BEGIN``/``ROLLBACK``): for readers of one statement.
    Raises :class:`ConfigurationError` for an unparsable URL or a missing database driver.
    """
    url = parse_store_url(uri)
    try:
        if url.get_backend_name() == "sqlite":
            engine = _sqlite_engine(url, pool_size, max_overflow)
        else:
            options: dict[str, Any] = {"isolation_level": "AUTOCOMMIT"} if autocommit else {}
            engine = create_engine(url, pool_pre_ping=pre_ping, pool_size=pool_size, max_overflow=max_overflow,
                                   **options)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(
            f"cannot use database URL {url.render_as_string(hide_password=True)}: {exc}"
        ) from exc
    return engine


def _sqlite_engine(url: URL, pool_size: int, max_overflow: int) -> Engine:
    if is_memory_sqlite(url):
        engine = create_engine(url, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=pool_size, max_overflow=max_overflow)
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine
