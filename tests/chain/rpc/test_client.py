"""ChainClient against a real anvil and a fake node: chain id check, typed reads, code checks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.dev import Devnet, free_port
from anacostia_blockchain.chain.rpc import ChainClient, NodeKind
from anacostia_blockchain.errors import (
    ChainConnectionError,
    ChainIdMismatchError,
    ConfigurationError,
    NoContractCodeError,
)

Responder = Callable[[bytes], tuple[int, bytes]]  # as in conftest.fake_node


def test_connects_and_reads_chain_id(fresh_chain: Devnet) -> None:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    assert client.chain_id == fresh_chain.chain_id
    assert client.block_number() >= 0
    assert client.balance(fresh_chain.accounts[0].address) > 0
    assert client.w3.eth.chain_id == fresh_chain.chain_id  # web3 escape hatch on the same URL


def test_unreachable_rpc_is_a_connection_error() -> None:
    with pytest.raises(ChainConnectionError, match="cannot reach the chain"):
        ChainClient(f"http://127.0.0.1:{free_port()}", timeout=2)


def test_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="http"):
        ChainClient("127.0.0.1:8545")


def test_chain_id_mismatch(fresh_chain: Devnet) -> None:
    with pytest.raises(ChainIdMismatchError) as info:
        ChainClient(fresh_chain.rpc_url, expected_chain_id=1)
    assert (info.value.expected, info.value.actual) == (1, fresh_chain.chain_id)
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


@pytest.mark.parametrize(
    "refusal",
    [
        (200, b'{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method does not exist"}}'),
        (403, b"forbidden"),  # some providers refuse methods they do not serve at the HTTP level
    ],
)
def test_a_node_that_cannot_say_whether_it_automines_is_taken_as_not_automining(
    fake_node: Callable[[Responder], str], refusal: tuple[int, bytes]
) -> None:
    asked: list[str] = []

    def node(body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        asked.append(request["method"])
        if request["method"] == "eth_chainId":
            return 200, b'{"jsonrpc":"2.0","id":1,"result":"0x5"}'
        return refusal

    client = ChainClient(fake_node(node))
    assert client.node_kind is NodeKind.OTHER and client.client_version == ""
    assert client.automines() is False
    assert asked == ["eth_chainId", "web3_clientVersion", "anvil_getAutomine", "hardhat_getAutomine"]


def test_a_stopped_miner_is_not_automine(fresh_chain: Devnet) -> None:
    client = ChainClient(fresh_chain.rpc_url)
    assert client.automines() is True
    fresh_chain.set_automine(False)  # evm_setAutomine; miner_stop on Ganache
    try:
        assert client.automines() is False
    finally:
        fresh_chain.set_automine(True)
    assert client.automines() is True


def test_interval_mining_is_not_automine(fresh_chain: Devnet) -> None:
    client = ChainClient(fresh_chain.rpc_url)
    if client.node_kind is NodeKind.GANACHE:
        pytest.skip("Ganache has no evm_setIntervalMining (and answers eth_mining true for --miner.blockTime too)")
    assert client.automines() is True
    fresh_chain.set_automine(False)
    fresh_chain.rpc("evm_setIntervalMining", [1 if client.node_kind is NodeKind.ANVIL else 1000])  # seconds / ms
    try:
        assert client.automines() is False
        first = client.block_number()
        deadline = time.monotonic() + 10
        while client.block_number() == first and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.block_number() > first  # blocks come by the clock
    finally:
        fresh_chain.rpc("evm_setIntervalMining", [0])
        fresh_chain.set_automine(True)
