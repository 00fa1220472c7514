"""What a worker runs on every round costs the same however many entries were delivered before.

Cost is counted in SQLite virtual-machine steps (a progress handler on every connection): deterministic, and
proportional to the rows a statement visits.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text

from anacostia_blockchain.outbox import Outbox
from anacostia_blockchain.sql import create_store_engine


class _Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _delivered(outbox: Outbox, first: int, count: int) -> None:
    """``count`` entries enqueued, claimed and confirmed for good (final)."""
    for index in range(first, first + count):
        outbox.enqueue("anchor", f"p:{index}", {"n": index})
    for entry in outbox.claim("anchor", limit=count):
        outbox.mark_confirmed(entry.id, {"tx": entry.key})


def test_a_round_does_not_read_the_delivered_history(tmp_path: Path) -> None:
    engine = create_store_engine(f"sqlite:///{tmp_path / 'outbox.db'}")  # WAL, as the stores use it
    steps = [0]

    @event.listens_for(engine, "connect")
    def count_steps(dbapi_connection: object, _record: object) -> None:
        def tick() -> int:
            steps[0] += 1
            return 0

        dbapi_connection.set_progress_handler(tick, 10)  # type: ignore[attr-defined]

    outbox = Outbox(engine, clock=_Clock())

    def round_cost() -> int:
        before = steps[0]
        assert outbox.claim("anchor") == []
        assert outbox.unfinalized("anchor", limit=1) == []
        assert outbox.seconds_until_due("anchor") is None
        return steps[0] - before

    _delivered(outbox, 0, 5)
    round_cost()  # connection set-up is not the round
    few = round_cost()
    _delivered(outbox, 5, 300)
    many = round_cost()
    assert many <= few * 1.5, f"an idle round grew from {few} to {many} VM steps with 300 more delivered entries"
    engine.dispose()


def test_a_table_made_before_the_watched_index_gets_it(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    Outbox(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_anacostia_outbox_due"))
    Outbox(engine)
    assert "ix_anacostia_outbox_due" in {i["name"] for i in inspect(engine).get_indexes("anacostia_outbox")}
    engine.dispose()
