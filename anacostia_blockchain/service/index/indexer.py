"""The marketplace indexer: follows contract events into SQL, resumes without gaps or duplicates, survives reorgs.

Each step (:meth:`Indexer.sync_once`):

1. **Reorg check.** The hash stored for the last processed block is compared with the node's. A match proves the
   whole stored history is still canonical (block hashes chain). A mismatch makes the indexer compare every block
   hash it kept (the last ``keep_blocks`` processed blocks, one batched request) to find the highest block both agree
   on — the fork point — and roll back: the log above it is deleted, the affected entities are rebuilt by replaying
   their surviving events (``projection.py``), and reading resumes at fork point + 1. A fork deeper than the kept
   window raises :class:`IndexerError` rather than guessing.
2. **Read** ``[next_block, min(head - confirmations, next_block + batch_blocks - 1)]`` with one ``eth_getLogs``.
3. **Apply** the batch in one database transaction: raw events, derived rows, the row counts (``counts.py``), the
   batch's block hashes and the new cursor commit together. A crash anywhere leaves the previous cursor, so the
   batch is simply read again — no gap and, because the transaction rolled back, no duplicate (``index_events`` is
   also unique on block hash + log index as a second line of defence).

``MetadataUpdate`` events are enriched with the ``tokenURI`` current at that block, so the stored log alone is
enough to rebuild a model. One ``eth_getLogs`` of ``MetadataUpdate`` over the blocks after the batch, up to the head,
says which tokens changed again; a token's last update in the batch is read at the head unless it did (its URI there
is the one that update set), all in one batched ``eth_call``. Only the other updates are read at their own block:
reads at blocks older than the states a node keeps in memory are slow (on anvil several milliseconds each, repeated
for every call) and refused by a pruned node (then the current URI is taken).

Runs in a background thread (:meth:`start` / :meth:`stop`) or step by step from tests and benchmarks.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from ...chain.abi import EventLog, EventReader
from ...chain.contracts import ModelNFTClient
from ...errors import AnacostiaError, IndexerError
from ...sql import translate_errors
from ..background_loop import BackgroundLoop
from . import model_metrics
from . import schema as s
from .counts import add_counts
from .listing_json import model_fragment
from .migrations import create_or_upgrade
from .projection import (
    EntityLookups,
    ProjectionOutput,
    apply_model_event,
    model_row_complete,
    new_model_state,
    resolve_entity,
    run_state,
)

log = logging.getLogger(__name__)

_IN_CHUNK = 500


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class BatchResult:
    """One committed batch: the block range read and the number of events stored from it."""

    first_block: int
    last_block: int
    events: int


class Indexer(BackgroundLoop):
    """Follows the marketplace contracts into the index database (see the module docstring).

    ``nft`` is the :class:`~anacostia_blockchain.chain.contracts.ModelNFTClient` (for ``tokenURI``); ``reader`` the
    :class:`EventReader` over all followed contracts.
    """

    thread_name = "marketplace-indexer"

    def __init__(
        self,
        engine: Engine,
        reader: EventReader,
        *,
        chain_id: int,
        nft: ModelNFTClient | None,
        start_block: int = 0,
        batch_blocks: int = 2000,
        confirmations: int = 0,
        keep_blocks: int = 256,
        poll_seconds: float = 1.0,
    ) -> None:
        self.engine = engine
        self.reader = reader
        self.chain_id = chain_id
        self.nft = nft
        self.start_block = start_block
        self.batch_blocks = batch_blocks
        self.confirmations = confirmations
        self.keep_blocks = keep_blocks
        self.poll_seconds = poll_seconds
        super().__init__()  # listeners hear ``indexed`` after each committed batch and ``reorg`` after a rollback
        self.last_error: str | None = None
        #: The chain's head block when the indexer last asked (``None`` before its first step): lag = head - cursor.
        self.chain_head: int | None = None
        create_or_upgrade(engine)

    # --- hooks ----------------------------------------------------------------------------------------------------
    def resolve_entity(self, event: EventLog, lookups: EntityLookups) -> tuple[str, str] | None:
        """Which entity an event belongs to (``None`` ignores it). Override to follow more events."""
        return resolve_entity(event, lookups, self.nft.address if self.nft is not None else None)

    def on_batch_committed(self, first: int, last: int, events: int) -> None:
        """Called after each committed batch; notifies ``listeners`` (e.g. the dashboard's live stream)."""
        self.notify({"type": "indexed", "from": first, "to": last, "events": events})

    # --- cursor -----------------------------------------------------------------------------------------------------
    def next_block(self) -> int:
        with self.engine.connect() as conn:
            row = conn.execute(select(s.index_cursor).where(s.index_cursor.c.id == 1)).first()
        if row is None:
            return self.start_block
        if row.chain_id != self.chain_id:
            raise IndexerError(f"index database belongs to chain {row.chain_id}, not {self.chain_id}")
        return int(row.next_block)

    # --- the loop -----------------------------------------------------------------------------------------------------
    def sync_once(self) -> BatchResult | None:
        """Check for a reorg, then index one batch; ``None`` when already caught up."""
        with translate_errors("indexing", detail=False):
            self.check_reorg()
            first = self.next_block()
            self.chain_head = self.reader.head()
            head = self.chain_head - self.confirmations
            if first > head:
                return None
            last = min(head, first + self.batch_blocks - 1)
            events = self.reader.read(first, last)
            self._enrich_token_uris(events, last, self.chain_head)
            checkpoint = self.reader.block_hashes([last])
            stored = self._commit_batch(first, last, events, checkpoint)
        self.on_batch_committed(first, last, stored)
        return BatchResult(first, last, stored)

    def sync_to_head(self) -> int:
        """Index until caught up; returns the number of events stored."""
        total = 0
        while (result := self.sync_once()) is not None:
            total += result.events
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                caught_up = self.sync_once() is None
                self.last_error = None
            except AnacostiaError as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("indexer step failed, retrying: %s", self.last_error)
                caught_up = True
            if caught_up:
                self._stop.wait(self.poll_seconds)

    # --- reorgs -------------------------------------------------------------------------------------------------------
    def check_reorg(self) -> int | None:
        """Roll back to the fork point if the stored tip is no longer canonical; returns the fork block or ``None``."""
        with self.engine.connect() as conn:
            tip = conn.execute(select(s.index_blocks).order_by(s.index_blocks.c.number.desc()).limit(1)).first()
        if tip is None:
            return None
        current = self.reader.block_hashes([tip.number]).get(tip.number)
        if current == tip.hash:
            return None
        with self.engine.connect() as conn:
            kept = conn.execute(select(s.index_blocks).order_by(s.index_blocks.c.number.desc())).all()
        now = self.reader.block_hashes([row.number for row in kept])
        fork: int | None = None
        for row in kept:
            if now.get(row.number) == row.hash:
                fork = row.number
                break
        if fork is None:
            oldest = kept[-1].number
            if oldest <= self.start_block:
                fork = self.start_block - 1
            else:
                raise IndexerError(f"reorg deeper than the {len(kept)} kept blocks (below block {oldest})")
        log.warning("reorg detected: stored block %s changed; rolling back to block %s", tip.number, fork)
        self.rollback_to(fork)
        self.notify({"type": "reorg", "fork_block": fork, "replaced_from": fork + 1})
        return fork

    def rollback_to(self, fork_block: int) -> None:
        """Delete everything above ``fork_block`` and rebuild the entities it touched from their remaining events."""
        with self.engine.begin() as conn:
            affected = conn.execute(
                select(s.index_events.c.entity_kind, s.index_events.c.entity_id)
                .where(s.index_events.c.block_number > fork_block)
                .distinct()
            ).all()
            deltas: Counter[str] = Counter()
            deltas["events"] -= conn.execute(
                delete(s.index_events).where(s.index_events.c.block_number > fork_block)
            ).rowcount
            conn.execute(delete(s.index_blocks).where(s.index_blocks.c.number > fork_block))
            tokens = sorted({int(e.entity_id) for e in affected if e.entity_kind == "model"})
            run_keys = sorted({e.entity_id for e in affected if e.entity_kind == "run"})
            for chunk in _chunks(tokens):
                for table in (s.purchases, s.licenses):
                    conn.execute(delete(table).where(table.c.token_id.in_(chunk)))
                deltas["models"] -= conn.execute(delete(s.models).where(s.models.c.token_id.in_(chunk))).rowcount
            model_metrics.refresh_tokens(conn, tokens)  # the models are gone; replay brings back those that remain
            for chunk in _chunks(run_keys):
                deltas["runs"] -= conn.execute(delete(s.runs).where(s.runs.c.key.in_(chunk))).rowcount
            deltas.update(self._replay(conn, "model", [str(t) for t in tokens]))  # update(): negatives stay
            deltas.update(self._replay(conn, "run", run_keys))
            add_counts(conn, deltas)
            self._set_cursor(conn, fork_block + 1)

    def _replay(self, conn: Connection, kind: str, entity_ids: Sequence[str]) -> Counter[str]:
        """Rebuild the entities from their stored events; returns the rows this added per count (``counts.py``)."""
        added: Counter[str] = Counter()
        for chunk in _chunks(list(entity_ids)):
            rows = conn.execute(
                select(s.index_events)
                .where(s.index_events.c.entity_kind == kind, s.index_events.c.entity_id.in_(chunk))
                .order_by(s.index_events.c.block_number, s.index_events.c.log_index)
            ).all()
            events = [(kind, row.entity_id, _event_from_row(row)) for row in rows]
            added.update(self._apply(conn, events, fresh=True))
        return added

    # --- applying a batch ---------------------------------------------------------------------------------------------
    def _enrich_token_uris(self, events: list[EventLog], last: int, head: int) -> None:
        """Add ``tokenURI`` to each ``MetadataUpdate`` in ``events`` (blocks up to ``last``; ``head`` >= ``last``)."""
        updates = [e for e in events if e.contract == "ModelNFT" and e.name == "MetadataUpdate"]
        if not updates or self.nft is None:
            return
        tokens = [int(e.args["_tokenId"]) for e in updates]
        final = {token: i for i, token in enumerate(tokens)}  # each token's last update in the batch
        changed_later = self.nft.metadata_updated(last + 1, head)
        blocks = [
            head if final[token] == i and token not in changed_later else e.block_number
            for i, (token, e) in enumerate(zip(tokens, updates, strict=True))
        ]
        results = _read_uris(self.nft, list(zip(tokens, blocks, strict=True)))
        # A token gone at the head (burned) is read at its event's block; a node without archive state cannot
        # answer at old blocks: the current URI is taken for those.
        for fallback in ("event block", "latest"):
            missing = [i for i, uri in enumerate(results) if isinstance(uri, Exception)
                       and (fallback == "latest" or blocks[i] == head)]
            if not missing:
                continue
            retry: list[tuple[int, int | str]] = [
                (tokens[i], updates[i].block_number if fallback == "event block" else "latest") for i in missing
            ]
            for i, uri in zip(missing, _read_uris(self.nft, retry), strict=True):
                results[i] = uri
        for event, uri in zip(updates, results, strict=True):
            if not isinstance(uri, Exception):
                event.args["tokenURI"] = uri

    def _commit_batch(self, first: int, last: int, events: list[EventLog], checkpoint: dict[int, str]) -> int:
        with self.engine.begin() as conn:
            if self._read_cursor(conn) != first:
                return 0  # another writer moved the cursor; nothing of ours is committed
            lookups = self._lookups(conn)
            placed: list[tuple[str, str, EventLog]] = []
            for event in events:
                entity = self.resolve_entity(event, lookups)
                if entity is not None:
                    placed.append((entity[0], entity[1], event))
            if placed:
                conn.execute(
                    insert(s.index_events),
                    [
                        {
                            "block_number": e.block_number,
                            "block_hash": e.block_hash,
                            "log_index": e.log_index,
                            "tx_hash": e.tx_hash,
                            "contract": e.contract,
                            "event": e.name,
                            "entity_kind": kind,
                            "entity_id": eid,
                            "args": json.dumps(e.args, separators=(",", ":")),
                        }
                        for kind, eid, e in placed
                    ],
                )
                added = self._apply(conn, placed, fresh=False)
                added.update(events=len(placed))
                add_counts(conn, added)
            blocks = {e.block_number: e.block_hash for _, _, e in placed}
            blocks.update(checkpoint)
            existing = set(
                conn.execute(select(s.index_blocks.c.number).where(s.index_blocks.c.number.in_(list(blocks)))).scalars()
            )
            new_blocks = [{"number": n, "hash": h} for n, h in blocks.items() if n not in existing]
            if new_blocks:
                conn.execute(insert(s.index_blocks), new_blocks)
            self._prune_blocks(conn)
            self._set_cursor(conn, last + 1)
        return len(placed)

    def _apply(
        self, conn: Connection, events: Sequence[tuple[str, str, EventLog]], *, fresh: bool
    ) -> Counter[str]:
        """Fold ``events`` into their entities' rows; returns the model and run rows added (inserted - deleted)."""
        model_ids = sorted({int(eid) for kind, eid, _ in events if kind == "model"})
        states: dict[int, dict[str, Any]] = {}
        if not fresh:
            for chunk in _chunks(model_ids):
                for row in conn.execute(select(s.models).where(s.models.c.token_id.in_(chunk))).mappings():
                    states[row["token_id"]] = dict(row)
        out = ProjectionOutput()
        run_rows: dict[str, dict[str, Any]] = {}
        for kind, eid, event in events:
            if kind == "run":
                run_rows[eid] = run_state(event)
                continue
            token = int(eid)
            state = states.setdefault(token, new_model_state(token))
            apply_model_event(state, event, out)
        rows = [state for state in states.values() if model_row_complete(state)]
        for complete in rows:
            complete["listing_json"] = model_fragment(complete)  # the row's pre-rendered part of GET /models
        added = Counter(models=len(rows), runs=len(run_rows))
        for chunk in _chunks([r["token_id"] for r in rows]):
            added["models"] -= conn.execute(delete(s.models).where(s.models.c.token_id.in_(chunk))).rowcount
        if rows:
            conn.execute(insert(s.models), rows)
            model_metrics.refresh_tokens(conn, [r["token_id"] for r in rows])
        if run_rows:
            for chunk in _chunks(list(run_rows)):
                added["runs"] -= conn.execute(delete(s.runs).where(s.runs.c.key.in_(chunk))).rowcount
            conn.execute(insert(s.runs), list(run_rows.values()))
        if out.purchases:
            conn.execute(insert(s.purchases), out.purchases)
        if out.licenses:
            conn.execute(insert(s.licenses), out.licenses)
        return added

    def _lookups(self, conn: Connection) -> EntityLookups:
        def fetch_ip(ip_id: str) -> int | None:
            row = conn.execute(select(s.models.c.token_id).where(s.models.c.ip_id == ip_id)).first()
            return None if row is None else int(row.token_id)

        def fetch_version(family: int, version: int) -> int | None:
            row = conn.execute(
                select(s.models.c.token_id).where(s.models.c.family_id == family, s.models.c.version == version)
            ).first()
            return None if row is None else int(row.token_id)

        return EntityLookups(fetch_ip=fetch_ip, fetch_version=fetch_version)

    def _read_cursor(self, conn: Connection) -> int:
        # FOR UPDATE (PostgreSQL): a second indexer on the same database waits here instead of double-applying.
        row = conn.execute(
            select(s.index_cursor.c.next_block).where(s.index_cursor.c.id == 1).with_for_update()
        ).first()
        return self.start_block if row is None else int(row.next_block)

    def _set_cursor(self, conn: Connection, next_block: int) -> None:
        changed = conn.execute(
            update(s.index_cursor).where(s.index_cursor.c.id == 1).values(next_block=next_block)
        ).rowcount
        if not changed:
            conn.execute(insert(s.index_cursor).values(id=1, chain_id=self.chain_id, next_block=next_block))

    def _prune_blocks(self, conn: Connection) -> None:
        numbers = conn.execute(
            select(s.index_blocks.c.number).order_by(s.index_blocks.c.number.desc()).offset(self.keep_blocks).limit(1)
        ).first()
        if numbers is not None:
            conn.execute(delete(s.index_blocks).where(s.index_blocks.c.number <= numbers.number))


def _read_uris(nft: ModelNFTClient, reads: Sequence[tuple[int, int | str]]) -> list[Any]:
    """``tokenURI`` reads in batches of ``_IN_CHUNK`` (each result a URI or the node's error for that read)."""
    results: list[Any] = []
    for chunk in _chunks(reads):
        results += nft.token_uris(list(chunk))
    return results


def _event_from_row(row: Any) -> EventLog:
    return EventLog(
        contract=row.contract,
        name=row.event,
        args=json.loads(row.args),
        address="",
        block_number=row.block_number,
        block_hash=row.block_hash,
        tx_hash=row.tx_hash,
        log_index=row.log_index,
    )
