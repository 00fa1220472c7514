"""Failed transactions explained: every error is built with the receipt, transaction hash and node reply it is about."""

from __future__ import annotations

from typing import Any

from eth_abi import encode
from eth_utils import keccak

from anacostia_blockchain.chain.rpc import Receipt, RpcErrorReply, translate_rpc_error
from anacostia_blockchain.chain.tx import Fees, TxRequest
from anacostia_blockchain.chain.tx.failed_tx import insufficient_funds_error, revert_of_receipt
from anacostia_blockchain.errors import ChainError, ContractRevertError, InsufficientFundsError, RevertWithReason

TX = "0x" + "ab" * 32
REQUEST = TxRequest(to="0x" + "11" * 20, data=b"\x01\x02\x03\x04", value=0, gas=50_000, label="Probe.fail")
RECEIPT = Receipt.from_rpc({"transactionHash": TX, "blockNumber": "0x10", "status": "0x0", "gasUsed": "0x100"})
REASON = keccak(text="Error(string)")[:4] + encode(["string"], ["no way"])


class FakeNode:
    """Answers ``rpc`` from a table; a ``ChainError`` value is raised."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    def rpc(self, method: str, params: Any = ()) -> Any:
        self.calls.append(method)
        answer = self.answers[method]
        if isinstance(answer, ChainError):
            raise answer
        return answer

    def balance(self, address: str) -> int:
        return int(self.answers["balance"])


def test_revert_from_the_call_trace() -> None:
    node = FakeNode({"debug_traceTransaction": {"output": "0x" + REASON.hex()}})
    error = revert_of_receipt(node, "0x" + "22" * 20, REQUEST, RECEIPT)  # type: ignore[arg-type]
    assert isinstance(error, RevertWithReason) and error.error_args == ("no way",)
    assert error.receipt is RECEIPT and error.tx_hash == TX


def test_revert_from_the_replay_keeps_the_node_reply() -> None:
    reply = RpcErrorReply("eth_call", 3, "execution reverted: no way", "0x" + REASON.hex())
    node = FakeNode({"debug_traceTransaction": ChainError("no tracing here"), "eth_call": translate_rpc_error(reply)})
    error = revert_of_receipt(node, "0x" + "22" * 20, REQUEST, RECEIPT)  # type: ignore[arg-type]
    assert node.calls == ["debug_traceTransaction", "eth_call"]
    assert isinstance(error, RevertWithReason) and str(error) == "execution reverted: no way"
    assert (error.receipt, error.tx_hash, error.rpc_error) == (RECEIPT, TX, reply)


def test_nothing_recovered_still_names_the_transaction() -> None:
    node = FakeNode({"debug_traceTransaction": ChainError("no tracing"), "eth_call": ChainError("pruned")})
    error = revert_of_receipt(node, "0x" + "22" * 20, REQUEST, RECEIPT)  # type: ignore[arg-type]
    assert type(error) is ContractRevertError and "no revert data available" in str(error)
    assert error.receipt is RECEIPT and error.tx_hash == TX


def test_insufficient_funds_carries_the_numbers() -> None:
    class Pending:
        request = REQUEST
        fees = Fees(max_fee_per_gas=10, max_priority_fee_per_gas=1)

    reply = RpcErrorReply("eth_sendRawTransaction", -32000, "insufficient funds for gas * price + value")
    original = translate_rpc_error(reply)
    assert isinstance(original, InsufficientFundsError)
    error = insufficient_funds_error(FakeNode({"balance": 7}), "0x" + "22" * 20, Pending(), original)  # type: ignore[arg-type]
    assert (error.needed, error.available, error.rpc_error) == (500_000, 7, reply)
    assert "needs up to 500000 wei" in str(error) and "account has 7 wei" in str(error)
