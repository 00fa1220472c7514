"""The latest verification verdict of each anchored run, kept so a page shows it again after a refresh or restart.

Verifying a run reads the chain (and, for a served pipeline, recomputes the manifest from the store), so the
dashboard does it when asked and remembers the outcome: one row per run key in the ``dashboard_verdicts`` table of
the service's index database (its own ``MetaData``; created on first use, never touched by the indexer). Only
definite outcomes are kept — ``verified``, ``tampered``, ``mismatch``, ``not anchored`` — an attempt that could not
reach the chain or the content store is reported to the caller and leaves the previous verdict in place.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Boolean, Column, Engine, Float, MetaData, String, Table, Text, delete, insert, select

from ...sql import translate_errors

VERIFIED, TAMPERED, MISMATCH, NOT_ANCHORED, UNCHECKED = "verified", "tampered", "mismatch", "not anchored", "unchecked"
#: Verdicts worth remembering (the others say the check could not be made).
DEFINITE = frozenset({VERIFIED, TAMPERED, MISMATCH, NOT_ANCHORED})

metadata = MetaData()
verdicts = Table(
    "dashboard_verdicts",
    metadata,
    Column("key", String(96), primary_key=True),  # "<pipelineId hex>-<runId>", as in the index's runs table
    Column("verdict", String(16), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("method", String(16), nullable=False),  # "store": full local re-verification; "index": chain + manifest
    Column("detail", Text),
    Column("checked_at", Float, nullable=False),
)


@dataclass(frozen=True)
class Verdict:
    """One verification outcome of the run ``key``."""

    key: str
    verdict: str
    ok: bool
    method: str
    detail: str | None
    checked_at: float

    @classmethod
    def now(cls, key: str, verdict: str, method: str, detail: str | None = None) -> Verdict:
        return cls(key.lower(), verdict, verdict == VERIFIED, method, detail, time.time())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class VerdictStore:
    """Reads and writes :data:`verdicts` in ``engine`` (the index database)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._created = False
        self._lock = threading.Lock()

    def _ensure_table(self) -> None:
        with self._lock:
            if not self._created:
                with translate_errors("cannot create the dashboard's verdict table", detail=False):
                    metadata.create_all(self.engine, checkfirst=True)
                self._created = True

    def record(self, verdict: Verdict) -> bool:
        """Keep ``verdict`` if it is definite (replacing the run's previous one); True when kept."""
        if verdict.verdict not in DEFINITE:
            return False
        self._ensure_table()
        with translate_errors("cannot record a verification verdict", detail=False), self.engine.begin() as conn:
            conn.execute(delete(verdicts).where(verdicts.c.key == verdict.key))
            conn.execute(insert(verdicts).values(**verdict.to_json()))
        return True

    def latest(self, keys: Iterable[str]) -> dict[str, Verdict]:
        """The kept verdict of each of ``keys`` that has one."""
        wanted = sorted({key.lower() for key in keys})
        if not wanted:
            return {}
        self._ensure_table()
        with translate_errors("cannot read verification verdicts", detail=False), self.engine.connect() as conn:
            rows = conn.execute(select(verdicts).where(verdicts.c.key.in_(wanted))).mappings().all()
        return {row["key"]: Verdict(**dict(row)) for row in rows}
