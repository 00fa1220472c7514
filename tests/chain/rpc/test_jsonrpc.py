"""The JSON-RPC transport and the one translation boundary: HTTP failures and node error objects -> typed errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from eth_abi import encode
from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Devnet
from anacostia_blockchain.chain.rpc import JsonRpcTransport, RpcErrorReply, translate_rpc_error
from anacostia_blockchain.errors import (
    ChainConnectionError,
    ChainError,
    InsufficientFundsError,
    NonceError,
    RevertWithReason,
    TransactionError,
)

Responder = Callable[[bytes], tuple[int, bytes]]  # as in conftest.fake_node


def test_http_errors_and_garbage_are_connection_errors(fake_node: Callable[[Responder], str]) -> None:
    down = JsonRpcTransport(fake_node(lambda body: (503, b"maintenance")))
    with pytest.raises(ChainConnectionError, match="HTTP 503"):
        down.call("eth_chainId")
    garbage = JsonRpcTransport(fake_node(lambda body: (200, b"<html>proxy error</html>")))
    with pytest.raises(ChainConnectionError, match="not JSON"):
        garbage.call("eth_chainId")
    with pytest.raises(ChainConnectionError, match="not JSON"):
        garbage.batch([("eth_chainId", []), ("eth_blockNumber", [])])


def test_a_404_says_the_path_reaches_no_endpoint_and_hides_the_path(fake_node: Callable[[Responder], str]) -> None:
    url = fake_node(lambda body: (404, b"Not Found")) + "/v3/s3cr3t-project-key"
    with pytest.raises(ChainConnectionError) as info:
        ChainClient(url)
    message = str(info.value)
    assert info.value.http_status == 404 and "\n" not in message
    assert "answered HTTP 404 Not Found: nothing answers JSON-RPC at this URL's path; check the path" in message
    assert "s3cr3t" not in message and "is the node running" not in message
    with pytest.raises(ChainConnectionError, match="HTTP 401 Unauthorized: the endpoint wants credentials") as denied:
        JsonRpcTransport(fake_node(lambda body: (401, b""))).batch([("eth_chainId", [])])
    assert denied.value.http_status == 401


def test_batch_items_fail_individually(fake_node: Callable[[Responder], str]) -> None:
    def respond(body: bytes) -> tuple[int, bytes]:
        calls = json.loads(body)
        replies = [
            {"jsonrpc": "2.0", "id": c["id"], "result": "0x1"}
            if c["method"] == "ok"
            else {"jsonrpc": "2.0", "id": c["id"], "error": {"code": -32000, "message": "nonce too low"}}
            for c in calls
            if c["method"] != "lost"
        ]
        return 200, json.dumps(list(reversed(replies))).encode()  # out of order, as batches may be

    transport = JsonRpcTransport(fake_node(respond))
    ok, bad, lost = transport.batch([("ok", []), ("bad", []), ("lost", [])])
    assert ok == "0x1"
    assert isinstance(bad, NonceError) and bad.rpc_error.is_nonce_too_low
    assert isinstance(lost, ChainConnectionError) and "no reply" in str(lost)


def test_whole_batch_rejected_with_one_error_object(fake_node: Callable[[Responder], str]) -> None:
    reply = {"jsonrpc": "2.0", "id": None, "error": {"code": -32600, "message": "batch too large"}}
    transport = JsonRpcTransport(fake_node(lambda body: (200, json.dumps(reply).encode())))
    results = transport.batch([("a", []), ("b", [])])
    assert all(isinstance(r, ChainError) and "batch too large" in str(r) for r in results)


def test_client_reads_the_chain_id_of_any_node(fake_node: Callable[[Responder], str]) -> None:
    reply = {"jsonrpc": "2.0", "id": 1, "result": "0x5"}
    url = fake_node(lambda body: (200, json.dumps(reply).encode()))
    assert ChainClient(url).chain_id == 5


@pytest.mark.parametrize(
    ("message", "data", "expected", "text"),
    [
        ("insufficient funds for gas * price + value: have 10 want 99", None, InsufficientFundsError,
         "needs 99 wei, account has 10 wei"),
        ("nonce too low: next nonce 5, tx nonce 3", None, NonceError, "nonce too low"),
        ("replacement transaction underpriced", None, TransactionError, "underpriced"),
        ("already known", None, TransactionError, "already known"),
        ("execution reverted: not yours",
         "0x08c379a0" + encode(["string"], ["not yours"]).hex(), RevertWithReason, "not yours"),
        ("header not found", None, ChainError, "header not found"),
    ],
)  # fmt: skip
def test_translation_of_node_errors(message: str, data: str | None, expected: type, text: str) -> None:
    error = translate_rpc_error(RpcErrorReply("eth_x", 3 if data else -32000, message, data))
    assert type(error) is expected and text in str(error)
    assert error.rpc_error.message == message


def test_revert_data_nested_in_an_object_and_bare_reverts() -> None:
    nested = {"data": "0x08c379a0" + encode(["string"], ["deep"]).hex(), "message": "x"}
    assert str(translate_rpc_error(RpcErrorReply("eth_call", 3, "execution reverted", nested))).endswith("deep")
    bare = translate_rpc_error(RpcErrorReply("eth_call", 3, "execution reverted: custom message", None))
    assert "custom message" in str(bare)


def test_real_node_errors_round_trip(fresh_chain: Devnet) -> None:
    client = ChainClient(fresh_chain.rpc_url)
    with pytest.raises(ChainError, match="eth_noSuchMethod"):
        client.rpc("eth_noSuchMethod")
    assert client.get_receipt("0x" + keccak(text="nothing").hex()) is None
    assert client.rpc_batch([]) == []
