"""``PriceFeedNode``: record a checked Chainlink price as a metric of the run.

The reading passes the feed reader's consumer checks (answer > 0, within the heartbeat, sequencer up past its grace
period — :mod:`anacostia_blockchain.chain.contracts.price_feed`); a failed check raises its typed ``PriceFeedError``
and the node errors (retried per ``max_retries``), so a stale price never enters a run.

The metric (default ``eth_usd``) is the price as the metadata store's number type. Because metrics are floats there,
the exact reading is also recorded as tags — ``<metric>_answer`` (the raw integer, as a string), ``_decimals``,
``_round_id``, ``_updated_at`` and ``_feed`` — so the run keeps the value to the last digit the feed reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from ..chain.contracts import ChainlinkPriceFeed, PriceReading
from ..engine import BaseActionNode, BaseNode


class PriceFeedNode(BaseActionNode):
    """Read ``feed`` once per run and log it as metric ``metric_name``."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        feed: ChainlinkPriceFeed,
        metric_name: str = "eth_usd",
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
        **retry: Any,
    ) -> None:
        super().__init__(name, predecessors, loggers, **retry)
        self.feed = feed
        self.metric_name = metric_name
        self.last_reading: PriceReading | None = None

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        reading = self.feed.latest()
        key = self.metric_name
        self.coordinator.store.log_batch(
            metrics={key: float(reading.price)},
            tags={
                f"{key}_answer": str(reading.answer),
                f"{key}_decimals": reading.decimals,
                f"{key}_round_id": str(reading.round_id),
                f"{key}_updated_at": reading.updated_at,
                f"{key}_feed": self.feed.address,
            },
        )
        self.last_reading = reading
        self.log(f"{key} = {reading.price} (round {reading.round_id}, {reading.age}s old)")
        return True
