"""``PipelineLease``: one process at a time runs a pipeline on a database; another one is refused, or waits.

A pipeline's run store takes its pipeline's lease when it opens: a row of ``pipeline_leases`` naming the owner (a
random id per store), its host and pid, its last heartbeat and when the lease expires (``ttl`` seconds after it).
A heartbeat thread renews it every ``ttl / 3`` seconds; closing the store deletes it, so a standby takes over at once.

- A live lease of another owner refuses the open with :class:`~anacostia_blockchain.errors.PipelineLeaseError`
  naming the holder, or, for a *standby*, makes the open wait until the lease is released or expires (the holder
  died), then takes it over.
- A holder that provably died is taken over at once, without waiting for the expiry: one on this host, in this PID
  namespace, whose pid is gone (or a zombie). So a pipeline restarted right after a crash starts at once.
- Taking the lease over is a compare-and-set on the row (the owner, or an expiry in the past), so two standbys never
  both win.
- **Fencing.** Every write of the store runs in a transaction that first checks the lease when it matters: the run
  transitions (begin, end, recovery, the anchored hash) always renew the lease row *inside* their transaction —
  a conditional ``UPDATE`` that locks the row, so they serialize with a takeover and a process whose lease was taken
  over writes nothing (:class:`~anacostia_blockchain.errors.LeaseLostError`). Other writes (metrics, node results,
  artifacts) check a local deadline: two thirds of ``ttl`` after the last renewal the process must renew before it
  writes again (the last third is the margin for clock differences between machines).
- Losing the lease calls ``on_lost`` once (the metadata store node stops its pipeline).

Times are the writers' ``time.time()``: machines sharing a database need clocks within ``ttl / 3`` of each other.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from ..errors import ConfigurationError, LeaseLostError, MetadataStoreError, PipelineLeaseError
from .schema import pipeline_leases

logger = logging.getLogger(__name__)
_MIN_TTL = 0.5
#: The renewal every fenced write runs first (built once; ``w_*`` bind the WHERE clause).
_RENEW = update(pipeline_leases).where(pipeline_leases.c.pipeline == bindparam("w_pipeline"),
                                       pipeline_leases.c.owner == bindparam("w_owner"))


def pid_namespace() -> str:
    """This process's PID namespace (``pid:[inode]`` on Linux; the host name elsewhere)."""
    try:
        return os.readlink("/proc/self/ns/pid")[:64]
    except OSError:
        return socket.gethostname()[:64]


def process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs here (a zombie — dead, not yet reaped — counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


@dataclass(frozen=True, slots=True)
class LeaseHolder:
    """The process holding a pipeline's lease, as the database records it."""

    pipeline: str
    owner: str
    host: str
    pid: int
    pid_namespace: str
    heartbeat_at: float
    expires_at: float

    def describe(self, now: float) -> str:
        return f"process {self.pid} on host {self.host!r}, last heartbeat {max(0.0, now - self.heartbeat_at):.1f}s ago"


class PipelineLease:
    """The lease of ``pipeline`` on a database (see the module docstring); ``ttl`` in seconds."""

    def __init__(self, pipeline: str, *, ttl: float = 15.0, clock: Callable[[], float] = time.time) -> None:
        if not isinstance(ttl, int | float) or ttl < _MIN_TTL:
            raise ConfigurationError(f"lease_ttl must be a number of seconds >= {_MIN_TTL}, got {ttl!r}")
        self.pipeline = pipeline
        self.ttl = float(ttl)
        self.clock = clock
        self.owner = uuid.uuid4().hex
        self.host = socket.gethostname()[:255]
        self.pid = os.getpid()
        self.pid_namespace = pid_namespace()
        self.on_lost: Callable[[LeaseLostError], None] | None = None
        self._valid_until = float("-inf")  # monotonic; before it, writes need no renewal
        self._held = False
        self._lost: LeaseLostError | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PipelineLease({self.pipeline!r}, owner={self.owner[:8]}, held={self._held})"

    @property
    def held(self) -> bool:
        return self._held and self._lost is None

    # --- acquiring ----------------------------------------------------------------------------------------------
    def try_acquire(self, conn: Connection) -> LeaseHolder | None:
        """Take the lease in ``conn``'s transaction: ``None`` when taken, else the live holder."""
        now = self.clock()
        table = pipeline_leases
        values: dict[str, Any] = {"owner": self.owner, "host": self.host, "pid": self.pid,
                                  "pid_namespace": self.pid_namespace, "acquired_at": now, "heartbeat_at": now,
                                  "expires_at": now + self.ttl}
        mine = table.c.pipeline == self.pipeline
        if conn.execute(update(table).where(mine, or_(table.c.owner == self.owner, table.c.expires_at <= now))
                        .values(**values)).rowcount == 1:
            return None
        row = conn.execute(select(table).where(mine)).first()
        if row is None:
            conn.execute(insert(table).values(pipeline=self.pipeline, **values))
            return None
        holder = LeaseHolder(row.pipeline, row.owner, row.host, row.pid, row.pid_namespace, row.heartbeat_at,
                             row.expires_at)
        if self._died(holder) and conn.execute(update(table).where(and_(mine, table.c.owner == holder.owner))
                                               .values(**values)).rowcount == 1:
            return None
        return holder

    def _died(self, holder: LeaseHolder) -> bool:
        """Whether the holder is provably dead: a process of this host and PID namespace that is gone."""
        return (holder.host == self.host and holder.pid_namespace == self.pid_namespace and holder.pid != self.pid
                and process_gone(holder.pid))

    def acquired(self, started: float) -> None:
        """The transaction that took the lease committed (``started``: its ``time.monotonic()``)."""
        with self._lock:
            self._held, self._lost = True, None
            self._valid_until = started + self.ttl * 2 / 3

    def refusal(self, holder: LeaseHolder) -> PipelineLeaseError:
        return PipelineLeaseError(
            f"pipeline {self.pipeline!r} is already running on this database ({holder.describe(self.clock())}): "
            "stop it, start this process as a standby (standby=True) to take over when it stops, or give this "
            "pipeline its own name (pipeline='...')",
            pipeline=self.pipeline, holder=holder.describe(self.clock()),
        )

    @staticmethod
    def is_race(exc: MetadataStoreError) -> bool:
        """Whether a failed acquisition lost an insert race (another process created the row first)."""
        return isinstance(exc.__cause__, IntegrityError)

    # --- fencing ------------------------------------------------------------------------------------------------
    def due(self) -> bool:
        """Whether the next write must renew the lease in its transaction first."""
        return self._lost is not None or time.monotonic() >= self._valid_until

    def hold(self, conn: Connection) -> None:
        """Renew the lease inside ``conn``'s transaction, or raise :class:`LeaseLostError` (nothing is written)."""
        if self._lost is not None:
            raise self._lost
        if not self._held:
            return
        now = self.clock()
        renewed = conn.execute(_RENEW, {"w_pipeline": self.pipeline, "w_owner": self.owner, "heartbeat_at": now,
                                        "expires_at": now + self.ttl}).rowcount
        if renewed != 1:
            raise self._lose()

    def renewed(self, started: float) -> None:
        """A transaction that renewed the lease committed (``started``: its ``time.monotonic()``)."""
        with self._lock:
            if self._lost is None:
                self._valid_until = max(self._valid_until, started + self.ttl * 2 / 3)

    def _lose(self) -> LeaseLostError:
        with self._lock:
            first = self._lost is None
            lost = self._lost or LeaseLostError(
                f"pipeline {self.pipeline!r}: this process's lease expired and another process took the "
                "pipeline over; this one writes nothing more (restart it as a standby)",
                pipeline=self.pipeline,
            )
            self._lost = lost
        if first and self.on_lost is not None:
            try:
                self.on_lost(lost)
            except Exception:  # pragma: no cover - a callback bug must not hide the loss itself
                logger.exception("the on_lost callback of %r failed", self)
        return lost

    # --- releasing ----------------------------------------------------------------------------------------------
    def release(self, conn: Connection) -> None:
        """Delete the lease row if this store still owns it (a standby takes over at once)."""
        if self._held and self._lost is None:
            conn.execute(delete(pipeline_leases).where(pipeline_leases.c.pipeline == self.pipeline,
                                                       pipeline_leases.c.owner == self.owner))
        self._held = False


class Heartbeat:
    """A daemon thread calling ``renew()`` every ``interval`` seconds until :meth:`stop` (or ``renew`` returns
    ``False``: the lease is lost). Database errors are retried at the next beat, logged once per outage."""

    def __init__(self, name: str, interval: float, renew: Callable[[], bool]) -> None:
        self.interval = interval
        self._renew = renew
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"{name}-lease", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        failing = False
        while not self._stop.wait(self.interval):
            try:
                if not self._renew():
                    return
            except MetadataStoreError as exc:
                if not failing:
                    logger.warning("%s: could not renew the pipeline lease (%s); retrying", self._thread.name, exc)
                failing = True
                continue
            if failing:
                logger.warning("%s: renewed the pipeline lease again", self._thread.name)
            failing = False
