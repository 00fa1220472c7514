"""Fixtures for comparing development nodes: the same test on anvil, Hardhat Network 2 and Ganache 7.

``peer`` is each node in turn (session nodes of their own, whatever ``devnet`` is), reverted to a snapshot after
each test; ``peer_client`` and ``peer_sender`` talk to it as dev account 0. Every test here carries the
``xdist_group("peer_nodes")`` mark, so one xdist worker starts the three nodes once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner, TxSender
from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.chain.dev import DevNode
from anacostia_blockchain.chain.dev.compiler import compile_sources
from anacostia_blockchain.chain.tx import evm_target

PROBE_SOURCE = Path(__file__).parents[1] / "solidity" / "ChainProbe.sol"
PEERS = ("anvil", "hardhat", "ganache")


@pytest.fixture(params=PEERS)
def peer(request: pytest.FixtureRequest) -> Iterator[DevNode]:
    node: DevNode = request.getfixturevalue(f"{request.param}_node")
    snapshot = node.snapshot()
    try:
        yield node
    finally:
        node.revert(snapshot)


@pytest.fixture
def peer_client(peer: DevNode) -> ChainClient:
    return ChainClient(peer.rpc_url, expected_chain_id=peer.chain_id)


@pytest.fixture
def peer_sender(peer_client: ChainClient, peer: DevNode) -> Iterator[TxSender]:
    with TxSender(peer_client, LocalSigner.from_key(peer.accounts[0].private_key)) as sender:
        yield sender


_PROBES: dict[str, ContractArtifact] = {}


def probe_for(client: ChainClient) -> ContractArtifact:
    """The test-only ChainProbe built for what ``client``'s chain runs (compiled once per EVM version)."""
    target = evm_target(client)
    if target not in _PROBES:
        _PROBES[target] = compile_sources([PROBE_SOURCE], evm_version=target)["ChainProbe"]
    return _PROBES[target]


@pytest.fixture
def peer_probe(peer_sender: TxSender, peer_client: ChainClient) -> Contract:
    return peer_sender.deploy(probe_for(peer_client), 5)
