"""ChainClient against a real anvil and a fake node: chain id check, typed reads, code checks."""

from __future__ import annotations

import pytest

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.dev import Devnet, free_port
from anacostia_blockchain.chain.rpc import ChainClient
from anacostia_blockchain.errors import (
    ChainConnectionError,
    ChainIdMismatchError,
    ConfigurationError,
    NoContractCodeError,
)


def test_connects_and_reads_chain_id(fresh_chain: Devnet) -> None:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=31337)
    assert client.chain_id == 31337
    assert client.block_number() >= 0
    assert client.balance(fresh_chain.accounts[0].address) > 0
    assert client.w3.eth.chain_id == 31337  # web3 escape hatch on the same URL


def test_unreachable_rpc_is_a_connection_error() -> None:
    with pytest.raises(ChainConnectionError, match="cannot reach the chain"):
        ChainClient(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        ChainClient("127.0.0.1:8545")


def test_chain_id_mismatch(fresh_chain: Devnet) -> None:
    with pytest.raises(ChainIdMismatchError) as info:
        ChainClient(fresh_chain.rpc_url, expected_chain_id=1)
    assert (info.value.expected, info.value.actual) == (1, 31337)
    assert "expected 1" in str(info.value)


def test_no_code_at_address(client: ChainClient, fresh_chain: Devnet) -> None:
    eoa = fresh_chain.accounts[3].address
    with pytest.raises(NoContractCodeError) as info:
        Contract.at(client, "RunRegistry", eoa)
    assert info.value.address == eoa and info.value.name == "RunRegistry"
    with pytest.raises(NoContractCodeError):
        client.require_code(eoa)


def test_bad_address_is_a_configuration_error(client: ChainClient) -> None:
    with pytest.raises(ConfigurationError, match="not an Ethereum address"):
        client.require_code("0x1234")


def test_typed_block_reads(client: ChainClient, fresh_chain: Devnet) -> None:
    fresh_chain.mine(2)
    head = client.header()
    assert head.number == client.block_number() and head.hash.startswith("0x") and head.timestamp > 0
    assert client.header(head.number) == head
    hashes = client.block_hashes([head.number, head.number - 1, head.number + 1_000])
    assert hashes == {head.number: head.hash, head.number - 1: client.header(head.number - 1).hash}
    assert client.block_hashes([]) == {}
    account = fresh_chain.accounts[0].address
    assert client.nonces(account) == [client.nonce(account, "latest"), client.nonce(account, "pending")]
