"""Prometheus metrics of what the code already counts, for the marketplace service and for pipeline processes.

- :class:`PipelineCollector`: runs by status, outbox depth and age, anchor latency, finality and transaction-sender
  counters (nonce resyncs, fee refreshes, repairs, ...) of one or more pipelines' metadata stores;
- :class:`ServiceCollector` over :class:`ServiceReadings`: indexer lag, response-cache hits, rate-limit refusals;
- :func:`metrics_registry` and :func:`render` (the service's ``/metrics`` route), :class:`MetricsServer`
  (prometheus-client's own HTTP server, for a pipeline run without the marketplace) and :func:`pipeline_metrics`.

Example, a pipeline process exposing its metrics on port 9464 (what ``anacostia-chain run --metrics-port 9464``
does)::

    from anacostia_blockchain.observability import MetricsServer, pipeline_metrics

    with MetricsServer(pipeline_metrics(pipeline), port=9464):
        pipeline.launch()
        pipeline.execute()

Collectors read at scrape time and count nothing themselves, so the hot paths are unchanged. The metric names and
what each one means are listed in ``docs/operations.md``. prometheus-client is owned here.
"""

from typing import Any

from prometheus_client import CollectorRegistry

from ._exposition import MetricsServer, metrics_registry, render
from ._pipeline import ANCHOR_LATENCY_BOUNDS, PipelineCollector
from ._service import ServiceCollector, ServiceReadings


def pipeline_name(pipeline: Any) -> str:
    """The name a pipeline's metrics are labelled with: the name its runs are anchored under, else its metadata
    store's node name."""
    store = pipeline.metadata_store
    anchoring = getattr(store, "anchoring", None)
    return str(anchoring.pipeline) if anchoring is not None else str(store.name)


def pipeline_metrics(*pipelines: Any, process: bool = True) -> CollectorRegistry:
    """A registry with the :class:`PipelineCollector` of ``pipelines`` (engine ``Pipeline`` objects)."""
    collector = PipelineCollector(lambda: {pipeline_name(p): p.metadata_store for p in pipelines})
    return metrics_registry(collector, process=process)


__all__ = [
    "ANCHOR_LATENCY_BOUNDS",
    "MetricsServer",
    "PipelineCollector",
    "ServiceCollector",
    "ServiceReadings",
    "metrics_registry",
    "pipeline_metrics",
    "pipeline_name",
    "render",
]
