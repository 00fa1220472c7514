"""ChainClient and Contract handles against a real anvil."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Contract, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.devnet import free_port
from anacostia_blockchain.errors import (
    ChainConnectionError,
    ChainError,
    ChainIdMismatchError,
    ConfigurationError,
    CustomContractError,
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
        client.contract("RunRegistry", eoa)
    assert info.value.address == eoa and info.value.name == "RunRegistry"
    with pytest.raises(NoContractCodeError):
        client.require_code(eoa)


def test_bad_address_is_a_configuration_error(client: ChainClient) -> None:
    with pytest.raises(ConfigurationError, match="not an Ethereum address"):
        client.require_code("0x1234")


def test_contract_calls_decode_outputs(client: ChainClient, probe: Contract, fresh_chain: Devnet) -> None:
    handle = Contract.from_abi(client, "ChainProbe", probe.abi, client.require_code(probe.address))
    assert handle.call("total") == 5
    total, owner = handle.call("both")
    assert total == 5 and owner == fresh_chain.accounts[0].address
    deployed_at = probe.deployment_receipt.blockNumber if probe.deployment_receipt else 0
    with pytest.raises(ChainError, match="returned no data"):
        handle.call("total", block=deployed_at - 1)  # before deployment: no code, empty return data
    with pytest.raises(CustomContractError, match=r"NotAllowed\(caller=0x70997970"):
        handle.call("onlyOwnerBump", caller=fresh_chain.accounts[1].address)
    handle.call("onlyOwnerBump", caller=owner)  # the owner may: no revert in the simulation


def test_unknown_function_and_bad_arguments(probe: Contract) -> None:
    with pytest.raises(ConfigurationError, match="no function 'nope'"):
        probe.encode("nope")
    with pytest.raises(ConfigurationError, match=r"bump\(uint256\)"):
        probe.encode("bump", "not a number")
    with pytest.raises(ConfigurationError):
        probe.encode("bump", 1, 2)  # wrong arity


def test_events_filter_and_decode(sender: TxSender, probe: Contract, fresh_chain: Devnet) -> None:
    other_client = ChainClient(fresh_chain.rpc_url)
    with TxSender(other_client, LocalSigner.from_key(fresh_chain.accounts[1].private_key)) as other:
        other_probe = Contract.from_abi(other_client, "ChainProbe", probe.abi, probe.address)
        receipt = other.transact(other_probe, "bump", 10)
    sender.transact(probe, "bump", 3)
    sender.transact(probe, "store", b"\x01\x02")
    bumps = probe.events("Bumped")
    assert [(e.args["value"], e.args["total"]) for e in bumps] == [(10, 15), (3, 18)]
    mine = probe.events("Bumped", by=fresh_chain.accounts[1].address)
    assert len(mine) == 1 and mine[0].args["by"] == fresh_chain.accounts[1].address
    assert mine[0].tx_hash == receipt.transactionHash and mine[0].block_number == receipt.blockNumber
    stored = probe.events("Stored")
    assert stored[0].args["data"] == b"\x01\x02"
    decoded = probe.decode_log(receipt.logs[0])
    assert decoded is not None and decoded.name == "Bumped"
    with pytest.raises(ConfigurationError, match="no indexed argument"):
        probe.events("Bumped", value=3)


def test_indexed_string_filters_by_hash(sender: TxSender, probe: Contract) -> None:
    sender.transact(probe, "tag", "alpha", 1)
    sender.transact(probe, "tag", "beta", 2)
    sender.transact(probe, "tag", "alpha", 3)
    alphas = probe.events("Tagged", tag="alpha")
    assert [e.args["value"] for e in alphas] == [1, 3]
    assert alphas[0].args["tag"] == keccak(text="alpha")  # an indexed string is only its hash in the log
    assert len(probe.events("Tagged", from_block=alphas[0].block_number + 1)) == 2
    with pytest.raises(ConfigurationError, match="indexed address filter"):
        probe.events("Bumped", by="not an address")
