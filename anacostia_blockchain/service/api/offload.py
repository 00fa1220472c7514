"""Where an index read runs: on the event loop when it is cheap and bounded, else on the app's few listing threads.

The list endpoints (``GET /models``, ``GET /runs``) and ``GET /status`` are ``async``. On SQLite their statements
are a fraction of a millisecond of CPU, and running them inline spares a thread hand-off whose GIL contention with
the event loop made the tail latency several times the median (``index.runs_on_event_loop``). On PostgreSQL they run
on the event loop too, but asynchronously: :func:`async_reads` gives each loop :data:`ASYNC_READ_CONNECTIONS` psycopg
connections of its own (``index.driver_reads.AsyncReads``), and a read waits on its socket without holding the loop
— handing it to a thread cost the API process more CPU than the read. What cannot be read that way (a deep SQLite
page, whose ``OFFSET`` walk grows with the page number; a listing row an older indexer left without its JSON
fragments) runs on :data:`LISTING_THREADS` threads of the app's own, with a queue in front of them that keeps the
order fair — on the shared 40-thread pool the threads fought each other and the loop for the GIL.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request

from ..index import runs_on_event_loop
from ..index.driver_reads import AsyncReads

#: Threads computing index reads that do not run on the event loop. A few suffice — the database does the work on
#: its own cores.
LISTING_THREADS = 4
#: Connections of the event loop's own PostgreSQL reads (``index.driver_reads.AsyncReads``).
ASYNC_READ_CONNECTIONS = 4
_T = TypeVar("_T")


async def read_index(request: Request, engine: Engine, offset: int, read: Callable[[], _T],
                     read_async: Callable[[AsyncReads], Awaitable[_T | None]] | None = None) -> _T:
    """``read()``, inline or on the listing threads (see the module docstring); ``offset`` is the rows it skips.
    On PostgreSQL, ``read_async`` (when given) on the event loop's own connections instead, unless it returns
    ``None`` (it cannot answer this one: ``read()`` then does)."""
    if read_async is not None:
        reads = async_reads(request, engine)
        if reads is not None:
            result = await read_async(reads)
            if result is not None:
                return result
    if runs_on_event_loop(engine, offset):
        return read()
    return await anyio.to_thread.run_sync(read, limiter=_listing_threads(request))


def async_reads(request: Request, engine: Engine) -> AsyncReads | None:
    """The running event loop's :class:`AsyncReads` on ``engine``'s database; ``None`` unless it is PostgreSQL."""
    if engine.dialect.name != "postgresql":
        return None
    loop = asyncio.get_running_loop()
    held: tuple[asyncio.AbstractEventLoop, AsyncReads] | None = getattr(request.app.state, "async_reads", None)
    if held is None or held[0] is not loop:  # connections belong to the loop that opened them
        held = request.app.state.async_reads = (loop, AsyncReads(engine, ASYNC_READ_CONNECTIONS))
    return held[1]


async def close_async_reads(app: Any) -> None:
    """Close the connections :func:`async_reads` opened for ``app`` (at shutdown, on the loop that opened them)."""
    held: tuple[asyncio.AbstractEventLoop, AsyncReads] | None = getattr(app.state, "async_reads", None)
    app.state.async_reads = None
    if held is not None and held[0] is asyncio.get_running_loop():
        await held[1].close()


def _listing_threads(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "listing_threads", None)
    if limiter is None:
        limiter = request.app.state.listing_threads = anyio.CapacityLimiter(LISTING_THREADS)
    return limiter
