"""The persistent outbox on real SQLite files and the real PostgreSQL server."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from anacostia_blockchain.errors import OutboxError
from anacostia_blockchain.outbox import Backoff, Outbox, OutboxEntry, OutboxWorker

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


class Clock:
    """A hand-driven clock so backoff is tested without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, str]]:
    table = f"outbox_test_{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'outbox.db'}")
    else:
        engine = create_engine(POSTGRES_URL)
        try:
            with engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:  # the server is part of the machine; skip loudly if it is not up
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield engine, table
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    engine.dispose()


def _outbox(db: tuple[Engine, str], clock: Clock, **kw: object) -> Outbox:
    engine, table = db
    return Outbox(engine, table_name=table, clock=clock, backoff=Backoff(base=1.0, factor=2.0, cap=8.0), **kw)


def test_enqueue_is_idempotent_by_kind_and_key(db: tuple[Engine, str]) -> None:
    outbox = _outbox(db, Clock())
    first = outbox.enqueue("anchor", "p:1", {"root": "0xab", "n": 1})
    again = outbox.enqueue("anchor", "p:1", {"n": 1, "root": "0xab"})
    assert again.id == first.id and again.status == "pending"
    other_kind = outbox.enqueue("upload", "p:1", {"x": 1})
    assert other_kind.id != first.id
    assert outbox.counts("anchor")["pending"] == 1


def test_same_key_with_a_different_payload_is_refused_and_changes_nothing(db: tuple[Engine, str]) -> None:
    outbox = _outbox(db, Clock())
    outbox.enqueue("anchor", "p:1", {"root": "0xab"})
    with pytest.raises(OutboxError, match="different payload"):
        outbox.enqueue("anchor", "p:1", {"root": "0xcd"})
    entry = outbox.get("anchor", "p:1")
    assert entry is not None and entry.payload == {"root": "0xab"}


def test_claim_send_confirm_lifecycle(db: tuple[Engine, str]) -> None:
    clock = Clock()
    outbox = _outbox(db, clock)
    for i in range(5):
        outbox.enqueue("anchor", f"p:{i}", {"i": i})
    batch = outbox.claim("anchor", limit=3)
    assert [e.payload["i"] for e in batch] == [0, 1, 2]
    assert [e.payload["i"] for e in outbox.claim("anchor", limit=10)] == [3, 4]
    assert outbox.claim("anchor") == []  # everything is held
    outbox.mark_sent(batch[0].id, {"txHash": "0x01"}, confirm_within=30)
    outbox.mark_confirmed(batch[0].id, {"txHash": "0x01", "block": 7})
    done = outbox.get("anchor", "p:0")
    assert done is not None and done.status == "confirmed" and done.result == {"txHash": "0x01", "block": 7}
    with pytest.raises(OutboxError, match="already confirmed"):
        outbox.mark_failed(batch[0].id, "late failure")
    clock.now += 10_000
    assert "p:0" not in {e.key for e in outbox.claim("anchor", limit=10)}  # confirmed is final


def test_finality_keeps_the_confirmation_time(db: tuple[Engine, str]) -> None:
    """``updated_at`` of a confirmed entry is when it was confirmed: becoming final later only sets ``final_at``
    (delivery latency is read from ``updated_at``; a watched entry is finalized up to a recheck interval later)."""
    clock = Clock()
    outbox = _outbox(db, clock)
    entry = outbox.enqueue("anchor", "p:1", {"i": 1})
    (claimed,) = outbox.claim("anchor")
    clock.now += 0.25
    outbox.mark_confirmed(claimed.id, {"block": 7}, final=False)
    confirmed_at = clock.now
    clock.now += 0.75
    assert outbox.mark_final([entry.id]) == 1
    final = outbox.get("anchor", "p:1")
    assert final is not None and final.final
    assert (final.updated_at, final.final_at) == (confirmed_at, confirmed_at + 0.75)


def test_failures_back_off_exponentially_and_can_be_parked(db: tuple[Engine, str]) -> None:
    clock = Clock()
    outbox = _outbox(db, clock)
    outbox.enqueue("anchor", "k", {})
    delays = []
    for _ in range(5):
        (entry,) = outbox.claim("anchor")
        outbox.mark_failed(entry.id, "RPC down")
        delays.append(outbox.seconds_until_due("anchor"))
        assert outbox.claim("anchor") == []  # not due yet
        clock.now += delays[-1]
    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0]  # capped
    (entry,) = outbox.claim("anchor")
    assert entry.attempts == 5 and entry.last_error == "RPC down"
    outbox.mark_failed(entry.id, "bad input", retry=False)
    clock.now += 1_000
    assert outbox.claim("anchor") == [] and outbox.counts("anchor")["failed"] == 1
    outbox.requeue(entry.id)
    assert [e.key for e in outbox.claim("anchor")] == ["k"]


def test_sent_entries_are_re_examined_when_confirmation_is_overdue(db: tuple[Engine, str]) -> None:
    clock = Clock()
    outbox = _outbox(db, clock)
    outbox.enqueue("anchor", "k", {})
    (entry,) = outbox.claim("anchor")
    outbox.mark_sent(entry.id, {"txHash": "0xaa"}, confirm_within=60)
    assert outbox.claim("anchor") == []
    clock.now += 61
    (again,) = outbox.claim("anchor")
    assert again.status == "sent" and again.result == {"txHash": "0xaa"}


def test_a_new_outbox_on_the_same_database_resumes_after_a_crash(db: tuple[Engine, str]) -> None:
    clock = Clock()
    crashed = _outbox(db, clock, lease_seconds=30)
    for i in range(3):
        crashed.enqueue("anchor", f"k{i}", {"i": i})
    held = crashed.claim("anchor", limit=2)  # the process dies holding these
    assert len(held) == 2
    restarted = _outbox(db, clock, lease_seconds=30)
    (fresh,) = restarted.claim("anchor")
    assert fresh.key == "k2"
    restarted.mark_confirmed(fresh.id, {})
    clock.now += 31  # the dead worker's lease expires
    assert sorted(e.key for e in restarted.claim("anchor")) == ["k0", "k1"]


def test_concurrent_claims_never_hand_out_an_entry_twice(db: tuple[Engine, str]) -> None:
    outbox = _outbox(db, Clock())
    for i in range(60):
        outbox.enqueue("anchor", f"k{i}", {"i": i})
    got: list[list[str]] = [[] for _ in range(4)]
    errors: list[BaseException] = []

    def worker(slot: int) -> None:
        try:
            while batch := outbox.claim("anchor", limit=5):
                got[slot].extend(e.key for e in batch)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    flat = [k for keys in got for k in keys]
    assert sorted(flat) == sorted(f"k{i}" for i in range(60))


def test_database_errors_are_translated(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    with pytest.raises(OutboxError, match="could not create the outbox table") as info:
        Outbox(engine)
    assert info.value.__cause__ is not None


class RecordingWorker(OutboxWorker):
    def __init__(self, outbox: Outbox, fail_first: int = 0) -> None:
        super().__init__(outbox, "job", batch_size=10)
        self.delivered: list[str] = []
        self.fail_first = fail_first
        self.calls = 0
        self.event = threading.Event()

    def deliver(self, entries: list[OutboxEntry]) -> None:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RuntimeError("remote down")
        for entry in entries:
            self.delivered.append(entry.key)
            self.outbox.mark_confirmed(entry.id, {"ok": True})
        self.event.set()


def test_worker_thread_wakes_on_enqueue_and_retries_after_exceptions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    outbox = Outbox(engine, backoff=Backoff(base=0.05, factor=1.0, cap=0.05))
    worker = RecordingWorker(outbox, fail_first=1)
    worker.start()
    try:
        outbox.enqueue("job", "a", {})
        assert worker.event.wait(10), "the worker never delivered"
        assert worker.delivered == ["a"] and worker.calls == 2  # failed once, retried after backoff
        entry = outbox.get("job", "a")
        assert entry is not None and entry.attempts == 1 and entry.status == "confirmed"
    finally:
        worker.stop()
    assert not worker.running


def test_flush_drains_synchronously(tmp_path: Path) -> None:
    outbox = Outbox(create_engine(f"sqlite:///{tmp_path / 'f.db'}"))
    worker = RecordingWorker(outbox)
    for i in range(25):
        outbox.enqueue("job", f"k{i:02d}", {})
    assert worker.flush(timeout=10)
    assert worker.delivered == [f"k{i:02d}" for i in range(25)]
    assert worker.calls == 3  # batches of 10


class CountingOutbox(Outbox):
    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.claims = 0

    def claim(self, kind: str, limit: int = 50) -> list[OutboxEntry]:
        self.claims += 1
        return super().claim(kind, limit)


def test_an_idle_worker_blocks_instead_of_polling(tmp_path: Path) -> None:
    outbox = CountingOutbox(create_engine(f"sqlite:///{tmp_path / 'idle.db'}"))
    worker = RecordingWorker(outbox)
    worker.start()
    try:
        threading.Event().wait(0.5)  # idle: nothing pending, nothing scheduled
        assert outbox.claims == 1  # one look at start-up, then it sleeps on the event
        outbox.enqueue("job", "wake", {})
        assert worker.event.wait(10)
        assert worker.delivered == ["wake"]
    finally:
        worker.stop()
