"""The persistent outbox: work for the network (run anchors, uploads) written to the database first, then delivered.

- :class:`Outbox` is the table of entries and their life cycle (pending, claimed, sent, confirmed, final, failed);
- :class:`OutboxWorker` is the background thread that claims due entries of one kind and hands them to ``deliver``.

Anchoring (``anacostia_blockchain.anchoring``) and the Storacha uploads (``resources.web3storage``) each subclass
:class:`OutboxWorker` for their kind of entry.
"""

from ._outbox import CLAIMED, CONFIRMED, FAILED, PENDING, SENT, STATUSES, Backoff, Outbox, OutboxEntry
from ._worker import FLUSH_RECHECK, OutboxWorker

__all__ = [
    "CLAIMED",
    "CONFIRMED",
    "FAILED",
    "FLUSH_RECHECK",
    "PENDING",
    "SENT",
    "STATUSES",
    "Backoff",
    "Outbox",
    "OutboxEntry",
    "OutboxWorker",
]
