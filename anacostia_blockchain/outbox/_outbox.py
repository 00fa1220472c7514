"""A persistent SQL outbox: work for the network is written to the database first, then delivered with retries.

Anything that must reach a chain or a remote store (run anchors, uploads) is enqueued here in the same database as
the metadata it belongs to. A worker (:class:`~anacostia_blockchain.outbox.OutboxWorker`) claims due
entries, delivers them and marks the outcome. Because the entry is on disk before any delivery is attempted, an
outage or a crash only *delays* delivery; because entries are unique by ``(kind, key)`` and a delivered entry is
never claimed again, nothing is delivered twice by the outbox itself (a delivery whose outcome was lost — e.g. a
receipt that never arrived — is re-examined by the worker, which must make delivery idempotent on its side).

Life of an entry::

    enqueue ─> pending ──claim──> claimed ──mark_sent──> sent ──mark_confirmed──> confirmed
                 ^  ^                │                    │
                 │  └──mark_failed───┘ (retry: attempts+1, next_attempt_at = now + backoff)
                 │                   └──mark_failed(retry=False)──> failed ──requeue──┘
                 └─ a claim whose lease expired (crashed worker) and a ``sent`` entry whose confirmation is overdue
                    are claimable again, so a restarted process resumes where the old one stopped.

    confirmed ──mark_final──> confirmed + final_at          (never touched again)
        └──reopen──> pending                                  (only while not final: the delivery was undone)

**Finality.** Some deliveries can be undone after they were observed: a transaction's block can be rolled back by
a reorg or by a node restored from older state. ``mark_confirmed(..., final=False)`` records the delivery but
keeps the entry *watched*: :meth:`Outbox.unfinalized` lists such entries (an indexed query, so its cost is bounded
by the entries still watched, never by history), the worker re-checks them and calls :meth:`Outbox.mark_final`
once the delivery cannot be undone any more, or :meth:`Outbox.reopen` when it was — the entry is pending again
and delivered anew. ``final=True`` (the default) means "confirmed is done". A final entry is never
re-checked or reopened.

Times are UNIX seconds from an injectable ``clock`` (tests control backoff without sleeping). The table is shared
by every outbox kind (``kind`` column); several outboxes can live in one database. ``key_prefix`` keeps an outbox to
the entries whose key starts with it (claims, listings, counts): the anchorer of one pipeline sees only that
pipeline's anchors when several pipelines share a database.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.schema import CreateIndex

from ..errors import OutboxError
from ..sql import translate_errors

PENDING = "pending"
CLAIMED = "claimed"
SENT = "sent"
CONFIRMED = "confirmed"
FAILED = "failed"
STATUSES = (PENDING, CLAIMED, SENT, CONFIRMED, FAILED)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: ``min(cap, base * factor ** (attempts - 1))`` seconds after the n-th failure."""

    base: float = 0.5
    factor: float = 2.0
    cap: float = 60.0

    def delay(self, attempts: int) -> float:
        if attempts <= 0:
            return 0.0
        return float(min(self.cap, self.base * self.factor ** min(attempts - 1, 64)))


@dataclass(frozen=True)
class OutboxEntry:
    """One row of the outbox, as read at a point in time."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    result: dict[str, Any] | None
    created_at: float
    #: The last change of status or result (for a confirmed entry: when it was confirmed; finality does not move it).
    updated_at: float
    #: When the entry became final (``None``: not confirmed yet, or confirmed and still watched for a rollback).
    final_at: float | None = None

    @property
    def final(self) -> bool:
        return self.final_at is not None


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class Outbox:
    """The outbox table in ``engine``'s database. Thread-safe; state lives only in the database.

    ``claim`` is a compare-and-set per row, so two workers (threads or processes) never hold the same entry.
    Listeners (:meth:`add_listener`) are called on every enqueue/release/requeue, so a worker in this process can
    wait on an event instead of polling.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table_name: str = "anacostia_outbox",
        backoff: Backoff | None = None,
        lease_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
        key_prefix: str = "",
    ) -> None:
        self.engine = engine
        self.key_prefix = key_prefix
        self.backoff = backoff or Backoff()
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._listeners: list[Callable[[], None]] = []
        self.worker_id = uuid.uuid4().hex[:12]
        self.metadata = MetaData()
        self.table = Table(
            table_name,
            self.metadata,
            Column("id", Integer, primary_key=True, autoincrement=True),
            Column("kind", String(64), nullable=False),
            Column("key", String(255), nullable=False),
            Column("payload", Text, nullable=False),
            Column("status", String(16), nullable=False, index=True),
            Column("attempts", Integer, nullable=False, default=0),
            Column("next_attempt_at", Float, nullable=False),
            Column("lease_until", Float, nullable=True),
            Column("claimed_by", String(32), nullable=True),
            Column("last_error", Text, nullable=True),
            Column("result", Text, nullable=True),
            Column("created_at", Float, nullable=False),
            Column("updated_at", Float, nullable=False),
            Column("final_at", Float, nullable=True),
            UniqueConstraint("kind", "key", name=f"uq_{table_name}_kind_key"),
            # a worker's round finds what is due, claimed or still watched (confirmed, not final) through these,
            # never by reading the delivered history
            Index(f"ix_{table_name}_due", "status", "kind", "next_attempt_at"),
            Index(f"ix_{table_name}_watched", "status", "kind", "final_at"),
        )
        with self._translate("create the outbox table"):
            self.metadata.create_all(engine)
            self._add_final_at_column()
            self._add_missing_indexes()
        self._build_statements()

    def _add_missing_indexes(self) -> None:
        """A table created before one of its indexes existed gets it (``create_all`` only makes new tables)."""
        present = {index["name"] for index in inspect(self.engine).get_indexes(self.table.name)}
        missing = [index for index in self.table.indexes if index.name not in present]
        if missing:
            with self.engine.begin() as conn:
                for index in missing:
                    conn.execute(CreateIndex(index, if_not_exists=True))

    def _build_statements(self) -> None:
        """The statements of the delivery path, built once: building a Core statement costs more than running it,
        and a worker runs several per entry. ``w_*`` parameters bind the WHERE clause (``w_kind`` the kind); an
        UPDATE sets the columns named by the other parameters."""
        c = self.table.c
        mine = self._of_bound()
        claimable = and_(
            c.status.in_((PENDING, SENT, CLAIMED)),  # implied by the OR; lets SQLite search each branch by index
            or_(
                and_(c.status.in_((PENDING, SENT)), c.next_attempt_at <= bindparam("w_now")),
                and_(c.status == CLAIMED, c.lease_until <= bindparam("w_now")),
            ),
        )
        self._by_key = select(self.table).where(c.kind == bindparam("w_kind"), c.key == bindparam("w_key"))
        self._insert_entry = self.table.insert()
        self._candidates = select(self.table).where(mine, claimable).order_by(c.id).limit(bindparam("w_limit"))
        self._claim_entry = update(self.table).where(c.id == bindparam("w_id"), claimable)
        self._update_open = update(self.table).where(c.id == bindparam("w_id"), c.status != CONFIRMED)
        self._update_open_if = self._update_open.where(c.attempts == bindparam("w_attempts"))
        self._attempts_of = select(c.attempts).where(c.id == bindparam("w_id"))
        self._unfinalized = (select(self.table).where(mine, c.status == CONFIRMED, c.final_at.is_(None))
                             .order_by(c.id).limit(bindparam("w_limit")))
        self._next_retry = select(func.min(c.next_attempt_at)).where(mine, c.status.in_((PENDING, SENT)))
        self._next_lease = select(func.min(c.lease_until)).where(mine, c.status == CLAIMED)

    def _add_final_at_column(self) -> None:
        """Upgrade a table created before finality tracking: add ``final_at``; its confirmed rows count as final
        (that is what "confirmed" meant when they were written), so nothing old is re-checked."""
        columns = {column["name"] for column in inspect(self.engine).get_columns(self.table.name)}
        if "final_at" in columns:
            return
        quoted = self.engine.dialect.identifier_preparer.quote(self.table.name)
        with self.engine.begin() as conn:
            conn.exec_driver_sql(f"ALTER TABLE {quoted} ADD COLUMN final_at FLOAT")
            conn.execute(
                update(self.table).where(self.table.c.status == CONFIRMED).values(final_at=self.table.c.updated_at)
            )

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (cheap, non-blocking: e.g. ``event.set``) whenever new work may be due."""
        self._listeners.append(callback)

    def _notify(self) -> None:
        for callback in list(self._listeners):
            callback()

    # --- plumbing ---------------------------------------------------------------------------------------------------
    def _of(self, kind: Any) -> Any:
        """Entries of ``kind`` (a kind, or a bound parameter) this outbox sees (those whose key starts with
        ``key_prefix``)."""
        if not self.key_prefix:
            return self.table.c.kind == kind
        return and_(self.table.c.kind == kind, self.table.c.key.startswith(self.key_prefix, autoescape=True))

    def _of_bound(self) -> Any:
        """:meth:`_of` with the kind bound as ``w_kind`` (for the statements built once)."""
        return self._of(bindparam("w_kind"))

    @staticmethod
    def _translate(what: str) -> AbstractContextManager[None]:
        return translate_errors(f"outbox: could not {what}", error=OutboxError)

    @contextmanager
    def _tx(self, what: str) -> Iterator[Connection]:
        with self._translate(what), self.engine.begin() as conn:
            yield conn

    def _entry(self, row: Any) -> OutboxEntry:
        return OutboxEntry(
            id=row.id,
            kind=row.kind,
            key=row.key,
            payload=json.loads(row.payload),
            status=row.status,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            result=json.loads(row.result) if row.result else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            final_at=row.final_at,
        )

    # --- producing --------------------------------------------------------------------------------------------------
    def enqueue(self, kind: str, key: str, payload: dict[str, Any]) -> OutboxEntry:
        """Add work, idempotently: enqueuing the same ``(kind, key)`` again returns the existing entry.

        The same key with a *different* payload raises :class:`OutboxError` — that is a bug upstream (two different
        things claiming one identity) and must not be papered over.
        """
        if not kind or not key:
            raise OutboxError("outbox entries need a non-empty kind and key")
        body = _dumps(payload)
        entry: OutboxEntry | None = None
        try:
            with self._tx("enqueue") as conn:
                existing = conn.execute(self._by_key, {"w_kind": kind, "w_key": key}).first()
                entry = self._entry(existing) if existing is not None else self._insert(conn, kind, key, body)
        except OutboxError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
            entry = self.get(kind, key)  # a concurrent enqueue of the same key won the race: read the winner
        if entry is None:  # pragma: no cover - the row was just written
            raise OutboxError(f"outbox entry {kind}/{key} vanished after enqueue")
        if _dumps(entry.payload) != body:
            raise OutboxError(f"outbox entry {kind}/{key} already exists with a different payload")
        self._notify()  # right after the commit: a waiting worker claims the entry at once
        return entry

    def _insert(self, conn: Connection, kind: str, key: str, body: str) -> OutboxEntry:
        """Insert a pending entry, due now; the entry as written (no read back)."""
        now = self.clock()
        values: dict[str, Any] = {"kind": kind, "key": key, "payload": body, "status": PENDING, "attempts": 0,
                                  "next_attempt_at": now, "created_at": now, "updated_at": now}
        inserted = conn.execute(self._insert_entry, values).inserted_primary_key
        if inserted is None:  # pragma: no cover - the table has an integer primary key
            raise OutboxError(f"outbox entry {kind}/{key}: the database returned no id")
        return OutboxEntry(id=int(inserted[0]), kind=kind, key=key, payload=json.loads(body), status=PENDING,
                           attempts=0, next_attempt_at=now, last_error=None, result=None, created_at=now,
                           updated_at=now)

    # --- consuming --------------------------------------------------------------------------------------------------
    def claim(self, kind: str, limit: int = 50) -> list[OutboxEntry]:
        """Take up to ``limit`` due entries of ``kind`` (oldest first) for this worker, under a lease.

        Due means: pending and past ``next_attempt_at``; sent but not confirmed by ``next_attempt_at``; or claimed by
        a worker whose lease expired. The returned entries keep their previous ``status`` (``sent`` tells the worker a
        delivery may already have happened) and ``result`` (e.g. the tx hash of that delivery).
        """
        now = self.clock()
        with self._tx("claim") as conn:
            candidates = conn.execute(self._candidates, {"w_kind": kind, "w_now": now, "w_limit": limit}).all()
            claimed: list[OutboxEntry] = []
            for row in candidates:
                won = conn.execute(self._claim_entry, {
                    "w_id": row.id, "w_now": now, "status": CLAIMED, "lease_until": now + self.lease_seconds,
                    "claimed_by": self.worker_id, "updated_at": now,
                }).rowcount
                if won == 1:
                    claimed.append(self._entry(row))
        return claimed

    def _transition(self, entry_id: int, what: str, *, attempts_were: int | None = None, **values: Any) -> None:
        """Update one entry unless it is confirmed (final); ``attempts_were`` makes it a compare-and-set."""
        values["updated_at"] = self.clock()
        if attempts_were is None:
            query, values["w_id"] = self._update_open, entry_id
        else:
            query, values["w_id"], values["w_attempts"] = self._update_open_if, entry_id, attempts_were
        with self._tx(what) as conn:
            changed = conn.execute(query, values).rowcount
        if changed != 1:
            raise OutboxError(
                f"outbox: cannot {what} entry {entry_id}: unknown, already confirmed, or updated concurrently"
            )

    def mark_sent(self, entry_id: int, result: dict[str, Any], *, confirm_within: float = 60.0) -> None:
        """Delivery was attempted (e.g. a tx broadcast); if not confirmed within ``confirm_within`` s, re-examine."""
        self._transition(
            entry_id,
            "mark sent",
            status=SENT,
            result=_dumps(result),
            lease_until=None,
            next_attempt_at=self.clock() + confirm_within,
        )

    def mark_confirmed(self, entry_id: int, result: dict[str, Any], *, final: bool = True) -> None:
        """Delivery happened (e.g. the anchoring tx is mined). The entry is never claimed again.

        ``final=False``: the delivery can still be undone (a block not yet deep enough); the entry stays in
        :meth:`unfinalized` until :meth:`mark_final` or :meth:`reopen`.
        """
        self._transition(
            entry_id,
            "mark confirmed",
            status=CONFIRMED,
            result=_dumps(result),
            lease_until=None,
            final_at=self.clock() if final else None,
        )

    def unfinalized(self, kind: str, limit: int = 500) -> list[OutboxEntry]:
        """Confirmed entries of ``kind`` that are not final yet (oldest first): what the worker still re-checks."""
        with self._tx("list unfinalized entries") as conn:
            rows = conn.execute(self._unfinalized, {"w_kind": kind, "w_limit": limit}).all()
        return [self._entry(row) for row in rows]

    def mark_final(self, entry_ids: list[int]) -> int:
        """The deliveries of ``entry_ids`` can no longer be undone; returns how many entries became final.

        Sets ``final_at`` only: ``updated_at`` stays the time the entry was confirmed (readers measure delivery
        latency with it). Entries that are not confirmed-and-watched any more (reopened meanwhile, already final)
        are left alone.
        """
        if not entry_ids:
            return 0
        now = self.clock()
        c = self.table.c
        with self._tx("mark final") as conn:
            return int(
                conn.execute(
                    update(self.table)
                    .where(c.id.in_(entry_ids), c.status == CONFIRMED, c.final_at.is_(None))
                    .values(final_at=now)
                ).rowcount
            )

    def reopen(self, entry_id: int, reason: str) -> bool:
        """A confirmed, not yet final delivery was undone (e.g. its block was rolled back): make the entry pending
        again, due at once, counting an attempt (so the worker knows a delivery may exist) and keeping ``reason``
        as ``last_error``. Returns False when the entry is final or not confirmed (nothing to reopen)."""
        now = self.clock()
        c = self.table.c
        with self._tx("reopen") as conn:
            changed = conn.execute(
                update(self.table)
                .where(c.id == entry_id, c.status == CONFIRMED, c.final_at.is_(None))
                .values(
                    status=PENDING,
                    attempts=c.attempts + 1,
                    last_error=reason[:2000],
                    next_attempt_at=now,
                    lease_until=None,
                    updated_at=now,
                )
            ).rowcount
        if changed == 1:
            self._notify()
        return changed == 1

    def mark_failed(self, entry_id: int, error: str, *, retry: bool = True) -> None:
        """Count a failed attempt. ``retry`` reschedules with backoff; ``retry=False`` parks it as ``failed``."""
        with self._tx("read attempts") as conn:
            attempts = conn.execute(self._attempts_of, {"w_id": entry_id}).scalar()
        if attempts is None:
            raise OutboxError(f"outbox: no entry {entry_id}")
        self._transition(
            entry_id,
            "mark failed",
            attempts_were=attempts,
            status=PENDING if retry else FAILED,
            attempts=attempts + 1,
            last_error=error[:2000],
            lease_until=None,
            next_attempt_at=self.clock() + self.backoff.delay(attempts + 1),
        )

    def release(self, entry_id: int) -> None:
        """Give a claimed entry back without counting an attempt (e.g. the worker is stopping)."""
        with self._tx("release") as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == entry_id, self.table.c.status == CLAIMED)
                .values(status=PENDING, lease_until=None, updated_at=self.clock())
            )
        self._notify()

    def requeue(self, entry_id: int) -> None:
        """Put a ``failed`` entry back to ``pending`` (after the cause was fixed, e.g. the role was granted)."""
        self._transition(entry_id, "requeue", status=PENDING, next_attempt_at=self.clock(), lease_until=None)
        self._notify()

    # --- reading ----------------------------------------------------------------------------------------------------
    def get(self, kind: str, key: str) -> OutboxEntry | None:
        with self._tx("read an entry") as conn:
            row = conn.execute(self._by_key, {"w_kind": kind, "w_key": key}).first()
        return self._entry(row) if row is not None else None

    def entries(self, kind: str, status: str | None = None) -> list[OutboxEntry]:
        if status is not None and status not in STATUSES:
            raise OutboxError(f"unknown outbox status {status!r}; expected one of {', '.join(STATUSES)}")
        query = select(self.table).where(self._of(kind)).order_by(self.table.c.id)
        if status is not None:
            query = query.where(self.table.c.status == status)
        with self._tx("list entries") as conn:
            return [self._entry(row) for row in conn.execute(query).all()]

    def counts(self, kind: str) -> dict[str, int]:
        """Entries of ``kind`` per status (every status present, zero when none)."""
        query = select(self.table.c.status, func.count()).where(self._of(kind)).group_by(self.table.c.status)
        with self._tx("count entries") as conn:
            found = {status: int(n) for status, n in conn.execute(query).all()}
        return {status: found.get(status, 0) for status in STATUSES}

    def seconds_until_due(self, kind: str) -> float | None:
        """How long until the next entry of ``kind`` becomes claimable; ``None`` when there is nothing to do."""
        with self._tx("find the next due entry") as conn:
            next_retry = conn.execute(self._next_retry, {"w_kind": kind}).scalar()
            next_lease = conn.execute(self._next_lease, {"w_kind": kind}).scalar()
        due = [t for t in (next_retry, next_lease) if t is not None]
        if not due:
            return None
        return max(0.0, min(due) - self.clock())
