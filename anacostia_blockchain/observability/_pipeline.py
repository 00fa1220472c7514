"""``PipelineCollector``: what pipelines already count, read at scrape time from their metadata stores.

Nothing is counted twice and nothing on a hot path changes: on each scrape the collector reads

- runs by status (``RunStore.run_counts``, one aggregate query);
- for a store that anchors runs (``store.anchoring``): the outbox backlog and the age of its oldest entry per kind
  and status (:func:`~anacostia_blockchain.outbox.backlog`), the anchor latency — run end to anchor mined — as a
  histogram over the confirmed anchors (:func:`~anacostia_blockchain.outbox.delivery_times`), the finality checker's
  counters, and the counters of the transaction sender when one is connected (sent, gas estimates, resubmits,
  repairs by reason, nonce fillers and requeues, nonce resyncs, fee refreshes).

Counters of the sender live as long as its connection: after the store reconnects they start again from zero, which
Prometheus reads as a counter reset. A source that fails to answer (its database is gone) is skipped for that scrape
and reported as ``anacostia_metrics_source_up{source=...} 0``. The stores are duck-typed (any object with these
attributes), so this module imports neither the metadata nor the anchoring package.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any, TypeVar, cast

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ..errors import AnacostiaError
from ..outbox import CLAIMED, FAILED, PENDING, SENT, backlog, delivery_times

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Metric)

#: Upper bounds (seconds) of the anchor latency histogram: an automining devnet lands anchors in milliseconds,
#: a public chain in one or more block times.
ANCHOR_LATENCY_BOUNDS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0)
#: Outbox statuses whose entries are still waiting: the age of the oldest is exported for these.
WAITING = (PENDING, CLAIMED, SENT, FAILED)
#: TxSender ``stats`` keys exported as their own counter (name, help); repairs are one counter with a reason label.
TX_COUNTERS = {
    "sent": ("anacostia_tx_sent", "Transactions accepted by the node (each re-signed version counts)."),
    "estimates": ("anacostia_tx_gas_estimates", "eth_estimateGas calls."),
    "resubmits": ("anacostia_tx_resubmits", "Transactions sent again after no receipt within stuck_timeout."),
    "fillers": ("anacostia_tx_nonce_fillers", "Zero-value transactions sent to fill a nonce gap."),
    "requeues": ("anacostia_tx_requeues", "Transactions queued again after the node refused a nonce ahead."),
}
REPAIR_REASONS = {"nonce_repairs": "nonce", "fee_repairs": "fee"}
FINALITY_COUNTERS = {
    "headReads": ("anacostia_anchor_finality_head_reads", "Finality rounds that only read the chain head."),
    "batches": ("anacostia_anchor_finality_batches", "Finality rounds that checked anchors in one RPC batch."),
    "entriesChecked": ("anacostia_anchor_finality_entries_checked", "Anchors checked by finality rounds."),
    "finalized": ("anacostia_anchors_finalized", "Anchors that became final."),
    "reopened": ("anacostia_anchors_reopened", "Anchors sent again because their block was rolled back."),
}


class _Families:
    """The metric families of one scrape, created on first use (label names fixed per family)."""

    def __init__(self) -> None:
        self._families: dict[str, Metric] = {}

    def counter(self, name: str, documentation: str, labels: Mapping[str, str], value: float) -> None:
        family = self._get(name, lambda: CounterMetricFamily(name, documentation, labels=list(labels)))
        family.add_metric(list(labels.values()), value)

    def gauge(self, name: str, documentation: str, labels: Mapping[str, str], value: float) -> None:
        family = self._get(name, lambda: GaugeMetricFamily(name, documentation, labels=list(labels)))
        family.add_metric(list(labels.values()), value)

    def histogram(self, name: str, documentation: str, labels: Mapping[str, str],
                  buckets: list[tuple[str, float]], total: float) -> None:
        family = self._get(name, lambda: HistogramMetricFamily(name, documentation, labels=list(labels)))
        family.add_metric(list(labels.values()), buckets, total)

    def _get(self, name: str, make: Callable[[], F]) -> F:
        if name not in self._families:
            self._families[name] = make()
        return cast(F, self._families[name])

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._families.values())


class PipelineCollector(Collector):
    """Collects the pipelines' figures (see the module docstring). ``stores()`` gives ``{pipeline name: metadata
    store}`` at each scrape, so pipelines added or restarted later are seen."""

    def __init__(self, stores: Callable[[], Mapping[str, Any]], *, clock: Callable[[], float] = time.time) -> None:
        self._stores = stores
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        families = _Families()
        for pipeline, store in self._stores().items():
            self._read(families, pipeline, "runs", partial(_runs, families, pipeline, store))
            anchoring = getattr(store, "anchoring", None)
            if anchoring is None:
                continue
            self._read(families, pipeline, "outbox", partial(_outbox, families, pipeline, anchoring, self._clock()))
            self._read(families, pipeline, "anchors", partial(_anchors, families, pipeline, anchoring))
        yield from families

    @staticmethod
    def _read(families: _Families, pipeline: str, source: str, read: Callable[[], None]) -> None:
        try:
            read()
            up = 1
        except AnacostiaError as exc:
            log.warning("metrics: %s of pipeline %s unavailable: %s", source, pipeline, exc)
            up = 0
        families.gauge("anacostia_metrics_source_up", "1 when the source answered this scrape, else 0.",
                       {"pipeline": pipeline, "source": source}, up)


def _runs(families: _Families, pipeline: str, store: Any) -> None:
    for status, count in sorted(store.runs.run_counts().items()):
        families.gauge("anacostia_runs", "Runs in the pipeline's metadata store, by status.",
                       {"pipeline": pipeline, "status": status}, count)


def _outbox(families: _Families, pipeline: str, anchoring: Any, now: float) -> None:
    for row in backlog(anchoring.outbox):
        labels = {"pipeline": pipeline, "kind": row.kind, "status": row.status}
        families.gauge("anacostia_outbox_entries", "Outbox entries (anchors, uploads) by kind and status.",
                       labels, row.entries)
        if row.status in WAITING and row.oldest_created_at is not None:
            families.gauge("anacostia_outbox_oldest_age_seconds",
                           "Age of the oldest outbox entry still in this status.",
                           labels, max(0.0, now - row.oldest_created_at))


def _anchors(families: _Families, pipeline: str, anchoring: Any) -> None:
    sender = anchoring.sender
    times = delivery_times(anchoring.outbox, sender.kind, ANCHOR_LATENCY_BOUNDS)
    buckets = [(_bound(b), float(n)) for b, n in zip(times.bounds, times.at_most, strict=True)]
    families.histogram("anacostia_anchor_latency_seconds", "Run end to anchor mined, over the confirmed anchors.",
                       {"pipeline": pipeline}, [*buckets, ("+Inf", float(times.count))], times.total_seconds)
    for key, value in sender.finality.stats.items():
        name, documentation = FINALITY_COUNTERS.get(key, (f"anacostia_anchor_finality_{key}", key))
        families.counter(name, documentation, {"pipeline": pipeline}, value)
    registry = anchoring.connection.connected  # never connects just to be scraped
    tx_sender = getattr(registry, "sender", None)
    if tx_sender is not None:
        _tx_sender(families, {"pipeline": pipeline, "account": tx_sender.signer.address}, tx_sender)


def _tx_sender(families: _Families, labels: dict[str, str], sender: Any) -> None:
    stats = dict(sender.stats)
    for key, value in stats.items():
        if key in REPAIR_REASONS:
            families.counter("anacostia_tx_repairs", "Transactions re-signed, by reason.",
                             {**labels, "reason": REPAIR_REASONS[key]}, value)
        elif key in TX_COUNTERS:
            families.counter(*TX_COUNTERS[key], labels, value)
    families.counter("anacostia_tx_nonce_resyncs", "Times the local nonce was re-read from the node.",
                     labels, sender.nonces.resyncs)
    families.counter("anacostia_tx_fee_refreshes", "Times the EIP-1559 fee estimate was fetched from the node.",
                     labels, sender.fees.refreshes)


def _bound(seconds: float) -> str:
    return repr(float(seconds))
