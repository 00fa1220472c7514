"""Row counts of the index kept as numbers (``schema.index_counts``) instead of counted on every request.

``GET /status`` reports how many models, runs and events the index holds, and the unfiltered ``GET /models`` and
``GET /runs`` their totals; a ``COUNT(*)`` walks every row each time, which at 10,000 models was most of the cost of
those requests. The indexer instead adds what each transaction inserted and deleted to these numbers in that same
transaction (:func:`add_counts`), so they are exact at every commit — a rolled-back batch rolls its counts back too.
:func:`initialize_counts` (run by ``create_or_upgrade``) counts once the tables of a database that has no numbers yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.engine import Connection

from . import schema as s

#: The counted tables, by the name their count is kept under.
COUNTED: dict[str, Table] = {"models": s.models, "runs": s.runs, "events": s.index_events}


def initialize_counts(conn: Connection) -> None:
    """Count each table of :data:`COUNTED` that has no number yet (a new or upgraded database)."""
    known = set(conn.execute(select(s.index_counts.c.name)).scalars())
    for name, table in COUNTED.items():
        if name not in known:
            total = int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            conn.execute(insert(s.index_counts).values(name=name, value=total))


def add_counts(conn: Connection, deltas: Mapping[str, int]) -> None:
    """Add ``deltas`` (rows inserted minus rows deleted, by count name) in the caller's transaction."""
    for name, delta in deltas.items():
        if delta:
            c = s.index_counts.c
            conn.execute(update(s.index_counts).where(c.name == name).values(value=c.value + delta))


def read_counts(conn: Connection) -> Counter[str]:
    """The kept counts (0 for a name with none)."""
    return Counter({name: int(value) for name, value in conn.execute(select(s.index_counts))})
