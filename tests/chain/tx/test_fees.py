"""FeeOracle: cached EIP-1559 estimates, refresh on interval / invalidate, replacement bumps."""

from __future__ import annotations

import time

import pytest

from anacostia_blockchain.chain import ChainClient, Devnet, FeeOracle, Fees
from anacostia_blockchain.chain.tx import bump
from anacostia_blockchain.errors import ChainError


def test_estimate_follows_the_next_base_fee(client: ChainClient, restore_base_fee: Devnet) -> None:
    oracle = FeeOracle(client, refresh_interval=0)
    next_base_fee = int(client.rpc("eth_feeHistory", [1, "latest", []])["baseFeePerGas"][-1], 16)
    latest_base_fee = int(client.get_block()["baseFeePerGas"], 16)
    fees = oracle.current()  # the higher of the two: never below what the next block demands
    assert fees.max_fee_per_gas == 2 * max(next_base_fee, latest_base_fee) + fees.max_priority_fee_per_gas
    assert fees.max_priority_fee_per_gas > 0
    raised = 10 * max(next_base_fee, latest_base_fee)
    restore_base_fee.control.set_next_base_fee(raised)
    assert oracle.current().max_fee_per_gas == 2 * raised + fees.max_priority_fee_per_gas  # seen before it is mined
    restore_base_fee.mine()
    assert oracle.current().max_fee_per_gas >= 2 * raised * 7 // 8 + fees.max_priority_fee_per_gas


def test_cached_for_the_interval_until_invalidated(client: ChainClient) -> None:
    oracle = FeeOracle(client, refresh_interval=0.3, priority_fee=7)
    first = oracle.current()
    assert oracle.current() is first and oracle.refreshes == 1
    time.sleep(0.35)
    oracle.current()
    assert oracle.refreshes == 2
    oracle.invalidate()
    oracle.current()
    assert oracle.refreshes == 3 and first.max_priority_fee_per_gas == 7


def test_bump_is_at_least_ten_percent_and_respects_a_floor() -> None:
    old = Fees(max_fee_per_gas=1_000, max_priority_fee_per_gas=100)
    bumped = bump(old)
    assert bumped.max_fee_per_gas >= 1_100 and bumped.max_priority_fee_per_gas >= 110
    floored = bump(old, floor=Fees(max_fee_per_gas=5_000, max_priority_fee_per_gas=50))
    assert floored.max_fee_per_gas == 5_000 and floored.max_priority_fee_per_gas >= 110
    tiny = bump(Fees(max_fee_per_gas=0, max_priority_fee_per_gas=0))
    assert tiny.max_fee_per_gas >= tiny.max_priority_fee_per_gas >= 1


@pytest.mark.anvil_only
def test_pre_london_chain_is_refused() -> None:
    with Devnet(hardfork="berlin") as chain, pytest.raises(ChainError, match="no EIP-1559 base fee"):
        FeeOracle(ChainClient(chain.rpc_url)).current()
