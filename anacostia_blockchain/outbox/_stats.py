"""Read-only figures about an outbox table for monitoring: its backlog and how long deliveries took.

Both are single aggregate queries over the table (every kind at once for the backlog), cheap enough to run on each
metrics scrape. Delivery time is ``updated_at - created_at`` of confirmed entries: the outbox keeps ``updated_at``
at the moment of confirmation (``mark_final`` does not touch it), and an anchor is enqueued when its run ends, so for
run anchors it is the time from run end to the anchor mined.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, select

from ..errors import OutboxError
from ..sql import translate_errors
from ._outbox import CONFIRMED, Outbox


@dataclass(frozen=True)
class Backlog:
    """``entries`` of ``kind`` in ``status``; ``oldest_created_at``: UNIX time the oldest of them was enqueued."""

    kind: str
    status: str
    entries: int
    oldest_created_at: float | None


@dataclass(frozen=True)
class DeliveryTimes:
    """Confirmed deliveries of one kind as a histogram: ``count``, ``total_seconds`` and, for each upper bound of
    ``bounds``, how many took at most that long (cumulative, as Prometheus histograms count)."""

    count: int
    total_seconds: float
    bounds: tuple[float, ...]
    at_most: tuple[int, ...]


def backlog(outbox: Outbox) -> list[Backlog]:
    """Entries per kind and status in ``outbox``'s table, with the enqueue time of the oldest."""
    c = outbox.table.c
    query = select(c.kind, c.status, func.count(), func.min(c.created_at)).group_by(c.kind, c.status)
    with translate_errors("outbox: could not read the backlog", error=OutboxError), outbox.engine.connect() as conn:
        rows = conn.execute(query).all()
    return [Backlog(str(kind), str(status), int(n), None if oldest is None else float(oldest))
            for kind, status, n, oldest in rows]


def delivery_times(outbox: Outbox, kind: str, bounds: Sequence[float]) -> DeliveryTimes:
    """How long the confirmed entries of ``kind`` took from enqueue to confirmation (see the module docstring)."""
    c = outbox.table.c
    took = c.updated_at - c.created_at
    columns = [func.count(), func.coalesce(func.sum(took), 0.0)]
    columns += [func.coalesce(func.sum(case((took <= bound, 1), else_=0)), 0) for bound in bounds]
    query = select(*columns).where(c.kind == kind, c.status == CONFIRMED)
    with translate_errors("outbox: could not read delivery times", error=OutboxError), outbox.engine.connect() as conn:
        row = conn.execute(query).one()
    return DeliveryTimes(int(row[0]), float(row[1]), tuple(bounds), tuple(int(n) for n in row[2:]))
