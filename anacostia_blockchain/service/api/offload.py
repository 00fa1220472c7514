"""Where an index read runs: on the event loop when it is cheap and bounded, else on the app's few listing threads.

The list endpoints (``GET /models``, ``GET /runs``) and ``GET /status`` are ``async``. On SQLite their statements
are a fraction of a millisecond of CPU, and running them inline spares a thread hand-off whose GIL contention with
the event loop made the tail latency several times the median (``index.runs_on_event_loop``). A database across a
socket (PostgreSQL), or a deep page whose ``OFFSET`` walk grows with the page number, must not block the loop: those
reads run on :data:`LISTING_THREADS` threads of the app's own, with a queue in front of them that keeps the order
fair — on the shared 40-thread pool the threads fought each other and the loop for the GIL, and the PostgreSQL p99
was three times as long.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio
import anyio.to_thread
from sqlalchemy import Engine
from starlette.requests import Request

from ..index import runs_on_event_loop

#: Threads computing index reads that do not run on the event loop. A few suffice — the database does the work on
#: its own cores.
LISTING_THREADS = 4
_T = TypeVar("_T")


async def read_index(request: Request, engine: Engine, offset: int, read: Callable[[], _T]) -> _T:
    """``read()``, inline or on the listing threads (see the module docstring); ``offset`` is the rows it skips."""
    if runs_on_event_loop(engine, offset):
        return read()
    return await anyio.to_thread.run_sync(read, limiter=_listing_threads(request))


def _listing_threads(request: Request) -> anyio.CapacityLimiter:
    limiter: anyio.CapacityLimiter | None = getattr(request.app.state, "listing_threads", None)
    if limiter is None:
        limiter = request.app.state.listing_threads = anyio.CapacityLimiter(LISTING_THREADS)
    return limiter
