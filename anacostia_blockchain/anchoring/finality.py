"""Anchor finality: an anchor counts once its block is ``confirmations`` blocks deep, and is re-sent if rolled back.

A receipt proves that an anchor is in *a* block, not that the block stays: a reorg, or an RPC node restored from an
older state, can take the block away, and with it the run's root. So the anchor sender confirms provisionally
(``Outbox.mark_confirmed(..., final=False)``) and :class:`AnchorFinality` re-checks every watched anchor:

* **cheap when nothing moved** — one ``eth_getBlockByNumber("latest")``; when the head's number and hash are those
  of the previous check (and no new anchor joined the watch), nothing can have changed and nothing else is read;
* **one batched RPC otherwise** — for all watched anchors at once: the hash of every distinct anchor block and
  ``RunRegistry.runRoot`` of every run, at the head block;
* **rolled back** when the anchor's block is above the head, gone, has another hash, or the root is no longer ours:
  the entry goes back to pending (``Outbox.reopen``) and the sender delivers it again. It checks ``runRoot`` first
  (a reorg may have re-included the transaction: then it only re-reads where), and ``anchorRuns`` skips runs that
  are anchored already, so the run ends up anchored exactly once;
* **final** when the anchor is intact and ``head - block + 1 >= confirmations`` (the receipt's block counts as the
  first confirmation). A final anchor is never read again, so the cost is bounded by the anchors of the last
  ``confirmations`` blocks, not by history.

Defaults (``confirmations=None``): :data:`CHAIN_CONFIRMATIONS` (12) on a chain that produces blocks on its own;
:data:`DEVNET_CONFIRMATIONS` (2) on an automining devnet (anvil, Hardhat, Ganache), where blocks only come with
transactions and rollbacks only happen on purpose (``evm_revert``, ``anvil_reorg``, restoring an older dump): the newest
anchors stay watched until one more block buries them. ``0`` or ``1`` make the first receipt final: no rollback
detection. A rollback deeper than ``confirmations`` blocks is, by definition, not seen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from ..chain.contracts.run_registry import ZERO_ROOT, AnchorRequest, RunRegistryClient
from ..errors import ChainError, ConfigurationError
from ..outbox import CONFIRMED, Outbox, OutboxEntry

logger = logging.getLogger(__name__)

#: Blocks an anchor must be deep on a chain with its own block production (Ethereum's customary 12; use more, or
#: the chain's finality depth, for absolute certainty — e.g. 64 on Ethereum PoS, where reorgs deeper than a block
#: or two are practically unseen but finality takes two epochs).
CHAIN_CONFIRMATIONS = 12
#: Blocks an anchor must be deep on an automining devnet (see the module docstring).
DEVNET_CONFIRMATIONS = 2


def default_confirmations(automines: bool) -> int:
    """The default depth for a node that automines (a devnet) or not."""
    return DEVNET_CONFIRMATIONS if automines else CHAIN_CONFIRMATIONS


@dataclass(frozen=True)
class FinalityRound:
    """What one re-check did (entry ids)."""

    checked: int
    head: int | None
    finalized: list[int]
    reopened: list[int]
    skipped_unchanged_head: bool = False


@dataclass(frozen=True)
class AnchorEntry(OutboxEntry):
    """A run's anchor outbox entry plus its depth: ``finality`` is ``"final"``, ``"confirmed (N confirmations)"``,
    or the outbox status (``pending``, ``claimed``, ``sent``, ``failed``)."""

    confirmations: int | None = None  # of a confirmed, not yet final anchor (None: unknown, e.g. chain down)
    required_confirmations: int | None = None

    @classmethod
    def of(cls, entry: OutboxEntry, confirmations: int | None, required: int | None) -> AnchorEntry:
        values = {f.name: getattr(entry, f.name) for f in fields(OutboxEntry)}
        return cls(**values, confirmations=confirmations, required_confirmations=required)

    @property
    def finality(self) -> str:
        if self.status != CONFIRMED:
            return self.status
        if self.final:
            return "final"
        if self.confirmations is None:
            return "confirmed (confirmations unknown)"
        plural = "" if self.confirmations == 1 else "s"
        return f"confirmed ({self.confirmations} confirmation{plural})"


def anchor_block(entry: OutboxEntry) -> tuple[int, str] | None:
    """(block number, block hash) recorded when the anchor was confirmed; ``None`` when not recorded."""
    result = entry.result or {}
    block, block_hash = result.get("block"), result.get("blockHash")
    if block is None or not block_hash:
        return None
    return int(block), str(block_hash)


class AnchorFinality:
    """Re-checks watched anchors (see the module docstring). ``connect`` gives the :class:`RunRegistryClient`."""

    def __init__(self, connect: Callable[[], RunRegistryClient], confirmations: int | None = None) -> None:
        if confirmations is not None and (isinstance(confirmations, bool) or confirmations < 0):
            raise ConfigurationError(f"confirmations must be an int >= 0 (None: the default), got {confirmations!r}")
        self._connect = connect
        self._resolved: int | None = confirmations
        self._last_head: tuple[int, str] | None = None
        self._last_checked: frozenset[int] = frozenset()
        #: Counters: ``headReads`` (cheap rounds), ``batches`` (full rounds), ``entriesChecked``, ``finalized``,
        #: ``reopened``. A final anchor never adds to them again.
        self.stats: dict[str, int] = dict.fromkeys(
            ("headReads", "batches", "entriesChecked", "finalized", "reopened"), 0
        )

    @property
    def required(self) -> int:
        """The confirmations an anchor needs (resolving the default asks the node whether it automines, once)."""
        if self._resolved is None:
            self._resolved = default_confirmations(self._connect().client.automines())
        return self._resolved

    @property
    def known_required(self) -> int | None:
        """``required`` if already known, without asking the chain."""
        return self._resolved

    def final_on_receipt(self) -> bool:
        return self.required <= 1

    def confirmations(self, entry: OutboxEntry) -> int | None:
        """Current depth of a confirmed anchor (one ``eth_blockNumber``); ``None`` if unknown or the chain is down."""
        located = anchor_block(entry)
        if located is None:
            return None
        try:
            head = self._connect().client.block_number()
        except ChainError:
            return None
        return max(0, head - located[0] + 1)

    def check(self, outbox: Outbox, entries: list[OutboxEntry], requests: dict[int, AnchorRequest]) -> FinalityRound:
        """Re-check ``entries`` (confirmed, not final; ``requests`` by entry id): mark final, reopen, or leave
        watched."""
        registry = self._connect()
        head_block = registry.client.header("latest")
        head = (head_block.number, head_block.hash)
        self.stats["headReads"] += 1
        ids = frozenset(entry.id for entry in entries)
        if head == self._last_head and ids <= self._last_checked:
            return FinalityRound(len(entries), head[0], [], [], skipped_unchanged_head=True)
        required = self.required
        located_blocks = (anchor_block(entry) for entry in entries)
        blocks = sorted({at[0] for at in located_blocks if at is not None and at[0] <= head[0]})
        runs = [(requests[e.id].pipeline_id, requests[e.id].run_id) for e in entries]
        # One batched request; a failed item raises: the round is retried as a whole next time, nothing was decided.
        snapshot = registry.check_anchors(runs, blocks, at_block=head[0])
        self.stats["batches"] += 1
        self.stats["entriesChecked"] += len(entries)
        roots = dict(zip((e.id for e in entries), snapshot.roots, strict=True))
        finalized, reopened = [], []
        for entry in entries:
            request, located = requests[entry.id], anchor_block(entry)
            root = roots[entry.id] or ZERO_ROOT
            problem = _rollback_reason(located, head[0], snapshot.block_hashes, root, request.merkle_root)
            if problem is not None:
                logger.warning("anchor of run %d is no longer on the chain (%s: a reorg, or the chain was reset under "
                               "this database): sending it again", request.run_id, problem)
                if outbox.reopen(entry.id, f"RolledBack: {problem}"):
                    reopened.append(entry.id)
            elif located is not None and head[0] - located[0] + 1 >= required:
                finalized.append(entry.id)
        outbox.mark_final(finalized)
        self.stats["finalized"] += len(finalized)
        self.stats["reopened"] += len(reopened)
        self._last_head = head
        self._last_checked = ids - frozenset(finalized) - frozenset(reopened)
        return FinalityRound(len(entries), head[0], finalized, reopened)


def _rollback_reason(
    located: tuple[int, str] | None, head: int, hashes: Mapping[int, str | None], root: bytes, ours: bytes
) -> str | None:
    """Why a watched anchor is no longer on the chain as recorded; ``None`` when it is intact."""
    if located is None:
        return "the anchor's block was not recorded: locating it again"
    block, block_hash = located
    if block > head:
        return f"block {block} is above the chain head {head}"
    now = hashes.get(block)
    if now is None:
        return f"block {block} no longer exists"
    if str(now).lower() != block_hash.lower():
        return f"block {block} changed hash from {block_hash} to {now}"
    if root != ours:
        return f"runRoot is 0x{root.hex()} instead of 0x{ours.hex()}"
    return None
