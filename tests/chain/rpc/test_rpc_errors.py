"""Node error objects -> conditions, revert data wherever the client put it, typed errors; node kinds by version."""

from __future__ import annotations

import pytest
from eth_abi import encode

from anacostia_blockchain.chain.rpc import Condition, NodeKind, RpcErrorReply, node_kind_of, translate_rpc_error
from anacostia_blockchain.errors import InsufficientFundsError, RevertWithReason, TransactionError

REASON = "0x08c379a0" + encode(["string"], ["x"]).hex()
TX_HASH = "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("version", "kind"),
    [
        ("anvil/v1.7.1", NodeKind.ANVIL),
        ("HardhatNetwork/2.29.1/@nomicfoundation/edr/0.3.8", NodeKind.HARDHAT),
        ("Ganache/v7.9.2/EthereumJS TestRPC/v7.9.2/ethereum-js", NodeKind.GANACHE),
        ("Geth/v1.14.0-stable/linux-amd64/go1.22.2", NodeKind.GETH),
        ("erigon/3.0.0", NodeKind.OTHER),
        ("", NodeKind.OTHER),
    ],
)
def test_node_kinds_from_client_versions(version: str, kind: NodeKind) -> None:
    assert node_kind_of(version) is kind
    assert kind.is_dev_node == (kind in (NodeKind.ANVIL, NodeKind.HARDHAT, NodeKind.GANACHE))


@pytest.mark.parametrize(
    ("code", "message", "data", "location"),
    [
        (3, "execution reverted: x", REASON, "error.data"),
        (-32603, "Error: VM Exception while processing transaction: reverted with reason string 'x'",
         {"message": "...", "data": REASON}, "error.data.data"),
        (-32000, "VM Exception while processing transaction: revert x",
         {"hash": None, "programCounter": 862, "result": REASON, "reason": "x"}, "error.data.result"),
        (-32000, "execution reverted", {"data": {"data": REASON}}, "error.data.data.data"),
    ],
)  # fmt: skip
def test_revert_data_is_found_wherever_the_client_put_it(code: int, message: str, data: object, location: str) -> None:
    reply = RpcErrorReply("eth_call", code, message, data)
    assert reply.revert_data_location == location
    error = translate_rpc_error(reply)
    assert isinstance(error, RevertWithReason) and error.error_args == ("x",) and error.rpc_error is reply


def test_a_transaction_hash_in_data_result_of_a_non_revert_is_not_revert_data() -> None:
    message = "VM Exception while processing transaction: Transaction's maxFeePerGas (1) is less than the block's "
    message += "baseFeePerGas (8) (vm hf=shanghai -> block -> tx)"
    reply = RpcErrorReply("eth_sendRawTransaction", -32000, message, {"hash": TX_HASH, "result": TX_HASH})
    assert reply.revert_data is None and reply.mined_tx_hash is None
    assert reply.conditions == {Condition.UNDERPRICED}
    assert type(translate_rpc_error(reply)) is TransactionError


def test_a_revert_naming_its_transaction_is_a_mined_revert() -> None:
    reply = RpcErrorReply("eth_sendRawTransaction", -32603, "reverted with reason string 'x'",
                          {"message": "...", "txHash": TX_HASH, "data": REASON})  # fmt: skip
    assert reply.mined_tx_hash == TX_HASH
    error = translate_rpc_error(reply)
    assert isinstance(error, RevertWithReason) and error.tx_hash == TX_HASH


def test_hardhats_insufficient_funds_wording_gives_the_numbers() -> None:
    message = "Sender doesn't have enough funds to send tx. The max upfront cost is: 300 and the sender's balance is: 7"
    error = translate_rpc_error(RpcErrorReply("eth_sendRawTransaction", -32000, message))
    assert isinstance(error, InsufficientFundsError) and "needs 300 wei, account has 7 wei" in str(error)


def test_a_method_name_containing_revert_is_not_a_revert() -> None:
    reply = RpcErrorReply("evm_revert", -32004, "Method evm_revert is not supported")
    assert reply.conditions == {Condition.METHOD_UNSUPPORTED} and reply.revert_data is None
