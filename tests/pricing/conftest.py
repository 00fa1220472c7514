"""Fixtures for price feed tests: a TxSender on a fresh anvil state and a factory for MockV3Aggregator feeds
(the mock Chainlink ships in @chainlink/contracts; its artifact is part of the package)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.contracts.price_feed import block_timestamp
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner


class FeedLab:
    """Deploys mock feeds and moves their rounds (answer, updatedAt, startedAt) and the chain clock."""

    def __init__(self, devnet: Devnet, client: ChainClient, sender: TxSender) -> None:
        self.devnet = devnet
        self.client = client
        self.sender = sender

    def deploy(self, decimals: int, answer: int) -> Contract:
        return self.sender.deploy("MockV3Aggregator", decimals, answer)

    def set_round(self, feed: Contract, answer: int, updated_at: int, started_at: int | None = None) -> None:
        round_id = int(feed.call("latestRound")) + 1
        self.sender.transact(feed, "updateRoundData", round_id, answer, updated_at,
                             updated_at if started_at is None else started_at)

    def now(self) -> int:
        return block_timestamp(self.client)

    def advance(self, seconds: int) -> None:
        self.client.rpc("evm_increaseTime", [seconds])
        self.client.rpc("evm_mine", [])


@pytest.fixture
def feed_lab(fresh_chain: Devnet) -> Iterator[FeedLab]:
    client = ChainClient(fresh_chain.rpc_url)
    sender = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    try:
        yield FeedLab(fresh_chain, client, sender)
    finally:
        sender.close()


@pytest.fixture
def make_feed(feed_lab: FeedLab) -> Callable[[int, int], Contract]:
    return feed_lab.deploy
