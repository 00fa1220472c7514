"""Shared fixtures for the chain-layer tests: the test-only ChainProbe contract, clients, signers, senders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.compiler import Artifact, compile_sources

PROBE_SOURCE = Path(__file__).parent / "contracts" / "ChainProbe.sol"


@pytest.fixture(scope="session")
def probe_artifact() -> Artifact:
    return compile_sources([PROBE_SOURCE])["ChainProbe"]


@pytest.fixture
def client(fresh_chain: Devnet) -> ChainClient:
    return ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)


@pytest.fixture
def signer(fresh_chain: Devnet) -> LocalSigner:
    return LocalSigner.from_key(fresh_chain.accounts[0].private_key)


@pytest.fixture
def sender(client: ChainClient, signer: LocalSigner) -> Iterator[TxSender]:
    with TxSender(client, signer) as tx_sender:
        yield tx_sender


@pytest.fixture
def probe(sender: TxSender, probe_artifact: Artifact) -> Contract:
    return sender.deploy(probe_artifact, 5)


@pytest.fixture
def restore_base_fee(fresh_chain: Devnet) -> Iterator[Devnet]:
    """For tests that raise the base fee: anvil keeps the next block's base fee across ``evm_revert``."""
    history = fresh_chain.rpc("eth_feeHistory", [1, "latest", []])
    try:
        yield fresh_chain
    finally:
        fresh_chain.rpc("anvil_setNextBlockBaseFeePerGas", [history["baseFeePerGas"][-1]])
