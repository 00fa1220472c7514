"""The Chainlink feed reader against MockV3Aggregator on anvil: consumer checks and exact integer math."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from anacostia_blockchain.chain.contracts.price_feed import ChainlinkPriceFeed, PriceReading, usd_to_wei, usd_units
from anacostia_blockchain.errors import (
    ConfigurationError,
    InvalidPriceError,
    NoContractCodeError,
    SequencerDownError,
    StalePriceError,
)

HEARTBEAT = 3600


def independent_wei(usd: str, eth_usd: str) -> int:
    """ceil(usd / ethUsd * 1e18) with rational arithmetic, written without the module's formula."""
    exact = Fraction(usd) / Fraction(eth_usd) * 10**18
    return -(-exact.numerator // exact.denominator)


@pytest.mark.parametrize(
    ("decimals", "answer", "expected"),
    [
        (8, 3456_78901234, Decimal("3456.78901234")),
        (18, 3456_789012345678901234, Decimal("3456.789012345678901234")),
        (8, 1, Decimal("0.00000001")),
    ],
)
def test_reads_exact_prices_at_8_and_18_decimals(feed_lab, decimals, answer, expected):
    feed = ChainlinkPriceFeed(feed_lab.client, feed_lab.deploy(decimals, answer).address, heartbeat=HEARTBEAT)
    reading = feed.latest()
    assert reading.decimals == decimals
    assert reading.answer == answer
    assert reading.price == expected
    assert reading.scaled(18) == int(expected * 10**18)
    assert 0 <= reading.age <= 5


@pytest.mark.parametrize(
    ("decimals", "answer", "eth_usd"),
    [
        (8, 2_000_00000000, "2000"),
        (8, 3456_78901234, "3456.78901234"),
        (18, 1234_567890123456789012, "1234.567890123456789012"),
    ],
)
@pytest.mark.parametrize("usd", ["0.000000000000000001", "1", "49.99", "123456.789"])
def test_usd_to_wei_matches_an_independent_rational_computation(feed_lab, decimals, answer, eth_usd, usd):
    feed = ChainlinkPriceFeed(feed_lab.client, feed_lab.deploy(decimals, answer).address, heartbeat=HEARTBEAT)
    assert feed.quote_wei(usd_units(usd)) == independent_wei(usd, eth_usd)


def test_stale_answer_is_rejected(feed_lab):
    contract = feed_lab.deploy(8, 2_000_00000000)
    feed = ChainlinkPriceFeed(feed_lab.client, contract.address, heartbeat=HEARTBEAT)
    feed.latest()
    feed_lab.advance(HEARTBEAT + 1)
    with pytest.raises(StalePriceError, match="heartbeat is 3600s"):
        feed.latest()
    feed_lab.sender.transact(contract, "updateAnswer", 2_100_00000000)
    assert feed.latest().answer == 2_100_00000000


def test_round_older_than_heartbeat_zero_or_future_is_stale(feed_lab):
    contract = feed_lab.deploy(8, 2_000_00000000)
    feed = ChainlinkPriceFeed(feed_lab.client, contract.address, heartbeat=HEARTBEAT)
    now = feed_lab.now()
    for updated_at in (now - HEARTBEAT - 10, 0, now + 3600):
        feed_lab.set_round(contract, 2_000_00000000, updated_at)
        with pytest.raises(StalePriceError):
            feed.latest()


@pytest.mark.parametrize("answer", [0, -1, -2_000_00000000])
def test_zero_and_negative_answers_are_rejected(feed_lab, answer):
    contract = feed_lab.deploy(8, 2_000_00000000)
    feed_lab.sender.transact(contract, "updateAnswer", answer)
    feed = ChainlinkPriceFeed(feed_lab.client, contract.address, heartbeat=HEARTBEAT)
    with pytest.raises(InvalidPriceError, match=f"answered {answer}"):
        feed.latest()


def test_sequencer_down_and_grace_period(feed_lab):
    price = feed_lab.deploy(8, 2_000_00000000)
    sequencer = feed_lab.deploy(0, 0)
    feed = ChainlinkPriceFeed(
        feed_lab.client, price.address, heartbeat=HEARTBEAT, sequencer_uptime_feed=sequencer.address, grace_period=600
    )
    now = feed_lab.now()
    feed_lab.set_round(sequencer, 1, now, started_at=now - 7200)
    with pytest.raises(SequencerDownError, match="down"):
        feed.latest()
    feed_lab.set_round(sequencer, 0, now, started_at=now - 60)  # back up one minute ago
    with pytest.raises(SequencerDownError, match="grace period"):
        feed.latest()
    feed_lab.set_round(sequencer, 0, now, started_at=now - 7200)
    feed_lab.sender.transact(price, "updateAnswer", 2_000_00000000)
    assert feed.latest().answer == 2_000_00000000


def test_configuration_errors(feed_lab):
    address = feed_lab.deploy(8, 1).address
    with pytest.raises(ConfigurationError):
        ChainlinkPriceFeed(feed_lab.client, address, heartbeat=0)
    with pytest.raises(ConfigurationError):
        ChainlinkPriceFeed(feed_lab.client, address, heartbeat=60, grace_period=-1)
    with pytest.raises(NoContractCodeError):
        ChainlinkPriceFeed(feed_lab.client, "0x" + "11" * 20, heartbeat=60)


def test_usd_units_is_exact_and_strict():
    assert usd_units("49.99") == 49_990_000_000_000_000_000
    assert usd_units(Decimal("0.000000000000000001")) == 1
    assert usd_units(3) == 3 * 10**18
    for bad in ("0.0000000000000000001", "-1", "NaN", "abc", 0.1):
        with pytest.raises(ConfigurationError):
            usd_units(bad)


def test_rescaling_refuses_to_drop_digits():
    reading = PriceReading(answer=3456_78000000, decimals=8, round_id=1, started_at=0, updated_at=0, checked_at=0)
    assert reading.scaled(8) == 3456_78000000
    assert reading.scaled(2) == 345678
    with pytest.raises(ConfigurationError):
        reading.scaled(1)
    assert usd_to_wei(0, reading) == 0
    with pytest.raises(ConfigurationError):
        usd_to_wei(-1, reading)
