"""The persistent outbox: work for the network (run anchors, uploads) written to the database first, then delivered.

- :class:`Outbox` is the table of entries and their life cycle (pending, claimed, sent, confirmed, final, failed);
- :class:`OutboxWorker` is the background thread that claims due entries of one kind and hands them to ``deliver``;
- :func:`backlog` and :func:`delivery_times` read the figures monitoring shows (depth, age, delivery latency).

Anchoring (``anacostia_blockchain.anchoring``) and the Storacha uploads (``resources.web3storage``) each subclass
:class:`OutboxWorker` for their kind of entry.
"""

from ._outbox import CLAIMED, CONFIRMED, FAILED, PENDING, SENT, STATUSES, Backoff, Outbox, OutboxEntry
from ._stats import Backlog, DeliveryTimes, backlog, delivery_times
from ._worker import FLUSH_RECHECK, OutboxWorker

__all__ = [
    "CLAIMED",
    "CONFIRMED",
    "FAILED",
    "FLUSH_RECHECK",
    "PENDING",
    "SENT",
    "STATUSES",
    "Backlog",
    "Backoff",
    "DeliveryTimes",
    "Outbox",
    "OutboxEntry",
    "OutboxWorker",
    "backlog",
    "delivery_times",
]
