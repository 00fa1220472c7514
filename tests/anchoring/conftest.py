"""Fixtures for anchoring tests: a real anvil, a deployed RunRegistry, a sender holding ANCHOR_ROLE."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import RunRegistryClient
from anacostia_blockchain.chain.dev import Devnet


@dataclass
class RegistryEnv:
    devnet: Devnet
    client: ChainClient
    admin: TxSender
    registry: RunRegistryClient  # sender = admin, who holds ANCHOR_ROLE
    senders: list[TxSender] = field(default_factory=list)

    def stranger(self, index: int = 5) -> RunRegistryClient:
        """A client for dev account ``index``, which holds no role."""
        sender = TxSender(self.client, LocalSigner.from_key(self.devnet.accounts[index].private_key))
        self.senders.append(sender)
        return RunRegistryClient(self.client, self.registry.address, sender)


@pytest.fixture
def registry_env(fresh_chain: Devnet) -> Iterator[RegistryEnv]:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    admin_signer = LocalSigner.from_key(fresh_chain.accounts[0].private_key)
    sender = TxSender(client, admin_signer)
    try:
        contract = sender.deploy("RunRegistry", admin_signer.address, admin_signer.address)
    except BaseException:
        sender.close()
        raise
    env = RegistryEnv(fresh_chain, client, sender, RunRegistryClient(client, contract.address, sender), [sender])
    try:
        yield env
    finally:
        for each in env.senders:
            each.close()
