"""Fixtures for the Story suite tests: one story-compat anvil (chain id 1315, the suite at Story's addresses) per
session, reverted to a snapshot after every test, and fresh transaction senders per test (a sender's local nonce
must not outlive a revert)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from anacostia_blockchain.chain.abi.contract import Contract
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.dev.story_devnet import start_story_devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.story import StoryAddresses, StoryClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner


@dataclass
class StoryWorld:
    devnet: Devnet
    client: ChainClient
    addresses: StoryAddresses
    senders: list[TxSender] = field(default_factory=list)

    def sender(self, index: int) -> TxSender:
        sender = TxSender(self.client, LocalSigner.from_key(self.devnet.accounts[index].private_key))
        self.senders.append(sender)
        return sender

    def story(self, index: int) -> StoryClient:
        return StoryClient.for_network(self.client, self.sender(index))

    def currency(self) -> Contract:
        return Contract.at(self.client, "MockERC20", self.addresses.test_currency)

    def fund(self, index: int, amount: int) -> str:
        account = self.devnet.accounts[index].address
        self.sender(0).transact(self.currency(), "mint", account, amount)
        return account

    def mint_nft(self, owner_index: int) -> tuple[Contract, int]:
        """A fresh ERC-721 with token 0 held by ``owner_index``."""
        sender = self.sender(owner_index)
        nft = sender.deploy("MockERC721")
        sender.transact(nft, "mint", sender.signer.address)
        return nft, 0


@pytest.fixture(scope="session")
def story_devnet() -> Iterator[tuple[Devnet, StoryAddresses]]:
    devnet, addresses = start_story_devnet()
    try:
        yield devnet, addresses
    finally:
        devnet.stop()


@pytest.fixture
def world(story_devnet: tuple[Devnet, StoryAddresses]) -> Iterator[StoryWorld]:
    devnet, addresses = story_devnet
    snapshot = devnet.snapshot()
    state = StoryWorld(devnet, ChainClient(devnet.rpc_url, expected_chain_id=1315), addresses)
    try:
        yield state
    finally:
        for sender in state.senders:
            sender.close()
        devnet.revert(snapshot)
