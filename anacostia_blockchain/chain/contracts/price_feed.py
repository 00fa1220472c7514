"""Reading Chainlink price feeds with the consumer checks Chainlink documents.

:class:`ChainlinkPriceFeed` wraps any ``AggregatorV3Interface`` (a real feed proxy on any EVM chain, or
``MockV3Aggregator`` from ``@chainlink/contracts`` on anvil) and refuses to hand out a price that a careful consumer
contract would refuse:

* ``answer <= 0``                                       -> :class:`~anacostia_blockchain.errors.InvalidPriceError`
* ``updatedAt`` is 0, in the future, or older than the configured ``heartbeat`` (seconds)
                                                        -> :class:`~anacostia_blockchain.errors.StalePriceError`
* optional L2 sequencer uptime feed: answer ``1`` (down), or up for less than ``grace_period`` seconds
                                                        -> :class:`~anacostia_blockchain.errors.SequencerDownError`

Ages are measured against the latest block's timestamp, not the local clock: that is the time ``ModelMarketplace``
sees, so a price this reader accepts is one the contract accepts, on a devnet whose clock was moved too.

All arithmetic is exact: answers are integers scaled by the feed's ``decimals()``, prices are ``Decimal`` built from
those integers, and the USD -> wei conversion is the same rounded-up integer division the contract does. Floats never
appear. The heartbeat is per feed (ETH/USD on Ethereum mainnet: 3600 s; many L2 feeds: 86400 s) — configure it from
the feed's page on data.chain.link; it is not readable on chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ...errors import ConfigurationError, InvalidPriceError, SequencerDownError, StalePriceError
from ..abi.contract import Contract
from ..encoding import checksum
from ..rpc.client import ChainClient

#: The part of ``AggregatorV3Interface`` a consumer reads (identical selectors on every Chainlink feed proxy).
AGGREGATOR_V3_ABI: list[dict[str, Any]] = [
    {"type": "function", "name": "decimals", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "uint8"}]},
    {"type": "function", "name": "description", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "", "type": "string"}]},
    {"type": "function", "name": "latestRoundData", "stateMutability": "view", "inputs": [],
     "outputs": [{"name": "roundId", "type": "uint80"}, {"name": "answer", "type": "int256"},
                 {"name": "startedAt", "type": "uint256"}, {"name": "updatedAt", "type": "uint256"},
                 {"name": "answeredInRound", "type": "uint80"}]},
]

#: USD amounts on ModelMarketplace carry 18 decimals (1 USD = 10**18), the scale of anchored metric values.
USD_DECIMALS = 18
USD_SCALE = 10**USD_DECIMALS
WEI_PER_ETH = 10**18


@dataclass(frozen=True)
class PriceReading:
    """One checked round of a feed. ``answer`` is the raw integer; ``price`` is exact."""

    answer: int
    decimals: int
    round_id: int
    started_at: int
    updated_at: int
    checked_at: int

    @property
    def price(self) -> Decimal:
        """The answer as an exact decimal (``answer / 10**decimals``)."""
        return Decimal(self.answer).scaleb(-self.decimals)

    def scaled(self, decimals: int = USD_DECIMALS) -> int:
        """The answer rescaled to ``decimals`` (e.g. 18 for a run metric); refuses to drop digits silently."""
        if decimals >= self.decimals:
            return self.answer * 10 ** (decimals - self.decimals)
        factor = 10 ** (self.decimals - decimals)
        if self.answer % factor:
            raise ConfigurationError(
                f"rescaling {self.answer} from {self.decimals} to {decimals} decimals would lose digits"
            )
        return self.answer // factor

    @property
    def age(self) -> int:
        return self.checked_at - self.updated_at


def usd_to_wei(price_usd: int, reading: PriceReading) -> int:
    """Wei for a USD amount with 18 decimals at ``reading``'s ETH/USD price, rounded up — ``ModelMarketplace.quoteUsd``.

    ``wei = price_usd * 10**feed_decimals / answer`` (ceil): with usd = price_usd / 1e18 and ethUsd = answer /
    10**feed_decimals, wei = usd / ethUsd * 1e18.
    """
    if price_usd < 0:
        raise ConfigurationError(f"a USD amount must be >= 0, got {price_usd}")
    numerator = price_usd * 10**reading.decimals
    return -(-numerator // reading.answer)


def usd_units(amount: Decimal | int | str) -> int:
    """A USD amount as the integer ModelMarketplace stores (18 decimals), exactly; more digits is an error."""
    try:
        value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    except ArithmeticError as exc:
        raise ConfigurationError(f"not a USD amount: {amount!r}") from exc
    if isinstance(amount, float) or not value.is_finite() or value < 0:
        raise ConfigurationError(f"a USD amount must be a finite, non-negative Decimal, int or str, got {amount!r}")
    units = value.scaleb(USD_DECIMALS)
    if units != units.to_integral_value():
        raise ConfigurationError(f"USD amount {amount} has more than {USD_DECIMALS} decimals")
    return int(units)


def block_timestamp(client: ChainClient) -> int:
    """The latest block's timestamp: the clock contracts check staleness against."""
    return client.header("latest").timestamp


@dataclass(frozen=True)
class FeedRound:
    """A feed's latest round as it answers, *unchecked* (for display; :class:`ChainlinkPriceFeed` checks)."""

    feed: str
    round_id: int
    answer: int
    decimals: int
    updated_at: int


def read_feed_round(client: ChainClient, address: str) -> FeedRound:
    """``latestRoundData`` and ``decimals`` of an ``AggregatorV3Interface`` at ``address``, without checks."""
    feed = Contract.from_abi(client, "AggregatorV3Interface", AGGREGATOR_V3_ABI, address)
    round_id, answer, _started_at, updated_at, _answered_in_round = feed.call("latestRoundData")
    return FeedRound(feed.address, int(round_id), int(answer), int(feed.call("decimals")), int(updated_at))


class ChainlinkPriceFeed:
    """A checked reader of one ``AggregatorV3Interface`` feed (``decimals()`` is read once and cached)."""

    def __init__(
        self,
        client: ChainClient,
        address: str,
        *,
        heartbeat: int,
        sequencer_uptime_feed: str | None = None,
        grace_period: int = 3600,
    ) -> None:
        if heartbeat <= 0:
            raise ConfigurationError(f"heartbeat must be a positive number of seconds, got {heartbeat}")
        if grace_period < 0:
            raise ConfigurationError(f"grace_period must be >= 0 seconds, got {grace_period}")
        self.client = client
        self.heartbeat = heartbeat
        self.grace_period = grace_period
        self.feed = Contract.from_abi(client, "AggregatorV3Interface", AGGREGATOR_V3_ABI, client.require_code(address))
        self.sequencer: Contract | None = None
        if sequencer_uptime_feed is not None:
            self.sequencer = Contract.from_abi(
                client, "SequencerUptimeFeed", AGGREGATOR_V3_ABI, client.require_code(checksum(sequencer_uptime_feed))
            )
        self._decimals: int | None = None

    def __repr__(self) -> str:
        return f"ChainlinkPriceFeed({self.address}, heartbeat={self.heartbeat}s)"

    @property
    def address(self) -> str:
        return self.feed.address

    @property
    def decimals(self) -> int:
        if self._decimals is None:
            self._decimals = int(self.feed.call("decimals"))
        return self._decimals

    def description(self) -> str:
        return str(self.feed.call("description"))

    def latest(self) -> PriceReading:
        """The latest round, after the sequencer, answer and staleness checks."""
        now = block_timestamp(self.client)
        if self.sequencer is not None:
            self._check_sequencer(now)
        round_id, answer, started_at, updated_at, _answered_in_round = self.feed.call("latestRoundData")
        if answer <= 0:
            raise InvalidPriceError(f"feed {self.address} answered {answer}: a price must be > 0")
        if updated_at == 0 or updated_at > now or now - updated_at > self.heartbeat:
            raise StalePriceError(
                f"feed {self.address} last updated at {updated_at}, {now - updated_at}s before block time {now}; "
                f"heartbeat is {self.heartbeat}s"
            )
        return PriceReading(int(answer), self.decimals, int(round_id), int(started_at), int(updated_at), now)

    def quote_wei(self, price_usd: int) -> int:
        """Wei for ``price_usd`` (18 decimals) at the latest checked price, rounded up like the marketplace."""
        return usd_to_wei(price_usd, self.latest())

    def _check_sequencer(self, now: int) -> None:
        assert self.sequencer is not None
        _round, status, started_at, _updated, _answered = self.sequencer.call("latestRoundData")
        if status != 0:
            raise SequencerDownError(f"the L2 sequencer is down (uptime feed {self.sequencer.address} answered 1)")
        if started_at == 0 or started_at > now or now - started_at <= self.grace_period:
            raise SequencerDownError(
                f"the L2 sequencer came back up {now - started_at}s ago; prices are trusted only after the "
                f"{self.grace_period}s grace period"
            )
