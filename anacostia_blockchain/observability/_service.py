"""``ServiceCollector``: the marketplace service's figures, read at scrape time.

The service hands over a :class:`ServiceReadings` (how far its indexer is, what its response cache and rate limiter
counted) from a callable, so this module knows nothing of the web stack. Exported: the indexer's next block, the
chain head it last saw, the lag between them and whether its last step succeeded; the response cache's hits and
misses; the rate limiter's refusals (429 answers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class ServiceReadings:
    """What the service counted; ``None``: the part does not exist in this process (no indexer, no cache, ...)."""

    indexer_next_block: int | None = None
    chain_head: int | None = None
    indexer_healthy: bool | None = None
    cache_hits: int | None = None
    cache_misses: int | None = None
    rate_limit_refusals: int | None = None

    @property
    def indexer_lag(self) -> int | None:
        """Blocks the index is behind the head (0 when caught up)."""
        if self.indexer_next_block is None or self.chain_head is None:
            return None
        return max(0, self.chain_head - (self.indexer_next_block - 1))


class ServiceCollector(Collector):
    """Collects :class:`ServiceReadings` given by ``read()`` at each scrape."""

    def __init__(self, read: Callable[[], ServiceReadings]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        readings = self._read()
        gauges = [
            ("anacostia_indexer_next_block", "The next block the indexer will read.", readings.indexer_next_block),
            ("anacostia_indexer_chain_head_block", "The chain's head block when the indexer last asked.",
             readings.chain_head),
            ("anacostia_indexer_lag_blocks", "Blocks between the chain head and the index.", readings.indexer_lag),
            ("anacostia_indexer_healthy", "1 when the indexer's last step succeeded, else 0.",
             None if readings.indexer_healthy is None else int(readings.indexer_healthy)),
        ]
        for name, documentation, value in gauges:
            if value is not None:
                yield GaugeMetricFamily(name, documentation, value=value)
        if readings.cache_hits is not None and readings.cache_misses is not None:
            cache = CounterMetricFamily("anacostia_response_cache_requests",
                                        "Cacheable listing requests, by whether the cache answered.", labels=["result"])
            cache.add_metric(["hit"], readings.cache_hits)
            cache.add_metric(["miss"], readings.cache_misses)
            yield cache
        if readings.rate_limit_refusals is not None:
            yield CounterMetricFamily("anacostia_rate_limit_refusals", "Requests refused with 429 by the rate limiter.",
                                      value=readings.rate_limit_refusals)
