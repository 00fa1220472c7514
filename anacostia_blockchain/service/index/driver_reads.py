"""Running the hot reads' statements on the database driver directly, on PostgreSQL.

The list endpoints and ``/status`` run one or two fixed statements per request (``listing.py``, ``queries.py``),
whose columns are plain integers and strings. Through SQLAlchemy's ``Connection.execute`` each execution also builds
an execution context, processes its parameters, wraps the cursor in a ``Result`` and each row in a ``Row``: on
PostgreSQL that cost the API process about twice the CPU of psycopg running the same statement, the largest part
of what a page cost it. :func:`fetch_rows` instead compiles each statement once per dialect (the SQL text and its
bind names) and hands it to psycopg on the connection SQLAlchemy checked out, which returns plain tuples. psycopg
prepares a statement on the server after a few executions on a connection (``prepare_threshold``), so PostgreSQL
parses each of these statements once per connection, not per request; :class:`AsyncReads`, the event loop's own
connections that serve the list endpoints and ``/status``, also have it planned once (:data:`GENERIC_PLANS`).

Errors are raised as SQLAlchemy's (``sqlalchemy.exc.DBAPIError`` subclasses); a connection the database dropped
fails the one read that finds out and is then replaced. SQLite keeps ``Connection.execute`` (in-process, its rows
already cheap; its compiled statements are cached by SQLAlchemy). Only statements whose parameters and result
columns need no type processing go through here: strings, integers, booleans, bytes — what psycopg adapts natively.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

#: ``(statement id, dialect name) -> (statement, compiled)``; the statement is kept so its id stays unique.
_COMPILED: dict[tuple[int, str], tuple[ClauseElement, Compiled]] = {}


def _compiled_for(dialect: Dialect, statement: ClauseElement) -> Compiled:
    key = (id(statement), dialect.name)
    cached = _COMPILED.get(key)
    if cached is None or cached[0] is not statement:
        cached = _COMPILED[key] = (statement, statement.compile(dialect=dialect))
    return cached[1]


def fetch_rows(conn: Connection, statement: ClauseElement, params: Mapping[str, Any] | None = None
               ) -> Sequence[Sequence[Any]]:
    """Every row of ``statement`` with ``params`` (named bound parameters), as tuples in column order.

    ``statement`` must be long-lived (built once per process, as the hot reads' statements are): its compiled text
    is cached by identity."""
    if conn.dialect.name != "postgresql":
        return conn.execute(statement, dict(params or {})).all()  # type: ignore[call-overload]
    driver = conn.connection.driver_connection
    assert driver is not None
    compiled = _compiled_for(conn.dialect, statement)
    # the request's values plus the statement's own bound literals (e.g. a kept count's name)
    values = compiled.construct_params(params)
    try:
        return driver.execute(compiled.string, values).fetchall()
    except psycopg.Error as exc:  # as SQLAlchemy would raise it; a lost connection is not returned to the pool
        lost = driver.closed or driver.broken
        if lost:
            conn.invalidate(exc)
        raise DBAPIError.instance(compiled.string, values, exc, psycopg.Error, connection_invalidated=lost,
                                  dialect=conn.dialect) from exc


def fetch_scalar(conn: Connection, statement: ClauseElement, params: Mapping[str, Any] | None = None) -> Any:
    """The first column of ``statement``'s one row."""
    rows = fetch_rows(conn, statement, params)
    if len(rows) != 1:
        raise LookupError(f"expected one row, got {len(rows)}")
    return rows[0][0]


#: Session option of the hot reads' connections: PostgreSQL plans each prepared statement once, for any values. By
#: default it re-planned the list statements on every execution (their custom plans looked cheaper than a generic
#: one): a third of what such a page cost the database. Every statement here walks the index its sort names
#: whatever the values, so the generic plan is the plan.
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


class AsyncReads:
    """A few psycopg ``AsyncConnection``\\ s (autocommit) to the PostgreSQL database of ``engine``, for the hot reads
    of one event loop: a read waits on its socket in the loop instead of on a thread.

    Each statement is prepared on the server at its first execution on a connection, with a generic plan
    (:data:`GENERIC_PLANS`). Handing each read to a thread cost the API process more CPU than the read itself: under
    50 concurrent clients the loop and the worker threads passed the GIL back and forth several times per request.
    Connections are opened on first use, up to ``size`` at once (further reads wait for one); a connection whose read
    failed is closed, not reused."""

    def __init__(self, engine: Engine, size: int) -> None:
        self._dialect = engine.dialect
        self._conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._idle: list[psycopg.AsyncConnection[Any]] = []
        self._slots = asyncio.Semaphore(size)
        self._closed = False

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        async with self._slots:
            conn = self._idle.pop() if self._idle else await psycopg.AsyncConnection.connect(
                self._conninfo, autocommit=True, prepare_threshold=0, options=GENERIC_PLANS)
            try:
                yield conn
            except BaseException:
                await conn.close()
                raise
            if self._closed or conn.closed:
                await conn.close()
            else:
                self._idle.append(conn)

    async def fetch_rows(self, conn: psycopg.AsyncConnection[Any], statement: ClauseElement,
                         params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """:func:`fetch_rows` on ``conn``."""
        compiled = _compiled_for(self._dialect, statement)
        cursor = await conn.execute(compiled.string, compiled.construct_params(params))
        return await cursor.fetchall()

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()
