"""Contract handles against a real anvil: calls, batched calls, encoding errors, events."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.chain.rpc import ChainClient
from anacostia_blockchain.chain.tx import LocalSigner, TxSender
from anacostia_blockchain.errors import ChainConnectionError, ChainError, ConfigurationError, CustomContractError


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
    assert stored[0].args["data"] == "0x0102"  # event values are JSON-ready: bytes as 0x hex
    decoded = probe.decode_log(receipt.logs[0])
    assert decoded is not None and decoded.name == "Bumped" and decoded.contract == "ChainProbe"
    assert decoded == bumps[0]  # a receipt's log and the same log from eth_getLogs decode alike
    with pytest.raises(ConfigurationError, match="no indexed argument"):
        probe.events("Bumped", value=3)


def test_indexed_string_filters_by_hash(sender: TxSender, probe: Contract) -> None:
    sender.transact(probe, "tag", "alpha", 1)
    sender.transact(probe, "tag", "beta", 2)
    sender.transact(probe, "tag", "alpha", 3)
    alphas = probe.events("Tagged", tag="alpha")
    assert [e.args["value"] for e in alphas] == [1, 3]
    assert alphas[0].args["tag"] == "0x" + keccak(text="alpha").hex()  # an indexed string is only its hash
    assert len(probe.events("Tagged", from_block=alphas[0].block_number + 1)) == 2
    with pytest.raises(ConfigurationError, match="indexed address filter"):
        probe.events("Bumped", by="not an address")


def test_a_handle_is_built_on_a_client_from_an_artifact(client: ChainClient, probe: Contract) -> None:
    from anacostia_blockchain.chain.abi import ContractArtifact

    artifact = ContractArtifact("ChainProbe", probe.abi, "0x", "0x", "test", "ChainProbe.sol", "0x")
    handle = Contract.from_artifact(client, artifact, probe.address.lower())
    assert handle.address == probe.address and handle.call("total") == 5
    unchecked = Contract.from_artifact(client, artifact, "0x" + "11" * 20, check_code=False)
    assert unchecked.address == "0x" + "11" * 20


def test_call_many_is_one_batch_with_per_item_errors(client: ChainClient, probe: Contract, fresh_chain: Devnet) -> None:
    owner, other = fresh_chain.accounts[0].address, fresh_chain.accounts[1].address
    deployed_at = probe.deployment_receipt.blockNumber if probe.deployment_receipt else 0
    assert probe.call_many("total", [((), "latest"), ((), deployed_at)]) == [5, 5]
    assert probe.call_many("both", [((), "latest")]) == [(5, owner)]
    method, params = probe.call_request("onlyOwnerBump", caller=other)
    (reply,) = client.rpc_batch([(method, params)])
    assert isinstance(reply, CustomContractError)
    assert probe.call_many("total", []) == []
    with pytest.raises(ChainConnectionError, match="instead of hex data"):
        probe.decode_reply("total", 0, None)
