"""Each client's error wordings and revert-data locations, provoked on real nodes and held against docs/chain.md.

One test per row of the "Node errors" table of docs/chain.md, on anvil, Hardhat Network and Ganache: it provokes
the condition on the real node, checks that the chain layer recognises it (condition, exception raised, where the
revert data sits) and that the table shows what the node said (numbers shown as N, hex as 0x…).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner
from anacostia_blockchain.chain.dev import DevNode
from anacostia_blockchain.chain.encoding import to_hex
from anacostia_blockchain.chain.rpc import Condition, RpcErrorReply, translate_rpc_error
from anacostia_blockchain.errors import ChainConnectionError, ChainError, ContractRevertError

pytestmark = pytest.mark.xdist_group("peer_nodes")

DOCS = Path(__file__).parents[3] / "docs" / "chain.md"
COLUMNS = {"anvil": "anvil", "hardhat": "Hardhat Network", "ganache": "Ganache"}


@dataclass
class Observed:
    """What the node answered: an error object, or a result (the node accepted what was sent)."""

    error: RpcErrorReply | None = None
    result: Any = None


def _ask(client: ChainClient, method: str, params: list[Any], timeout: float | None = None) -> Observed:
    try:
        return Observed(result=client.rpc(method, params, timeout=timeout))
    except ChainConnectionError:
        raise
    except ChainError as exc:
        assert isinstance(exc.rpc_error, RpcErrorReply), exc
        return Observed(error=exc.rpc_error)


class Provoker:
    """Raw transactions and calls against one node, built by hand so nothing repairs them on the way."""

    def __init__(self, node: DevNode, probe: Contract) -> None:
        self.node = node
        self.client = ChainClient(node.rpc_url)
        self.probe = probe
        self.signer = LocalSigner.from_key(node.accounts[0].private_key)
        base_fee = int(self.client.get_block()["baseFeePerGas"], 16)
        self.base: dict[str, Any] = {
            "type": 2, "chainId": self.client.chain_id, "gas": 21_000, "maxFeePerGas": 3 * base_fee + 10**9,
            "maxPriorityFeePerGas": 10**9, "value": 1, "data": b"", "to": node.accounts[1].address,
        }  # fmt: skip

    def fresh_signer(self, funded: bool = True) -> LocalSigner:
        signer = LocalSigner.from_key(os.urandom(32))
        if funded:
            self.node.set_balance(signer.address, 10**18)
        return signer

    def raw(self, signer: LocalSigner, nonce: int, timeout: float | None = None, **fields: Any) -> Observed:
        tx = {"nonce": nonce, **self.base, **fields}
        return _ask(self.client, "eth_sendRawTransaction", [to_hex(signer.sign_transaction(tx).raw)], timeout)

    def call(self, method: str, fn: str, *args: Any) -> Observed:
        request = {"from": self.signer.address, "to": self.probe.address, "data": to_hex(self.probe.encode(fn, *args))}
        return _ask(self.client, method, [request] if method == "eth_estimateGas" else [request, "latest"])


# --- the conditions --------------------------------------------------------------------------------------------------
def nonce_too_low(p: Provoker) -> Observed:
    signer = p.fresh_signer()
    for nonce in range(2):
        assert p.raw(signer, nonce).error is None
    # both mined first (automine answers before it mines): an unmined nonce 1 would be a replacement instead
    deadline = time.monotonic() + 30
    while p.client.nonce(signer.address, "latest") < 2:
        assert time.monotonic() < deadline, "the node did not mine nonces 0 and 1"
        time.sleep(0.01)
    return p.raw(signer, 1, value=2)  # (not nonce 0: Ganache 7 executes a nonce-0 transaction again)


def nonce_too_high(p: Provoker) -> Observed:
    signer = p.fresh_signer()
    try:
        seen = p.raw(signer, 1, timeout=2.0)
    except ChainConnectionError:  # Ganache's eager instamine answers only once nonce 0 arrived
        seen = Observed(result="waited")
    assert p.raw(signer, 0).error is None  # fill the gap (anvil and Ganache then mine both)
    return seen


def insufficient_funds(p: Provoker) -> Observed:
    return p.raw(p.fresh_signer(funded=False), 0)


def fee_below_base_fee(p: Provoker) -> Observed:
    return p.raw(p.fresh_signer(), 0, maxFeePerGas=1, maxPriorityFeePerGas=1)


def intrinsic_gas_too_low(p: Provoker) -> Observed:
    return p.raw(p.fresh_signer(), 0, gas=20_000)


def _in_the_pool(p: Provoker, second: dict[str, Any]) -> Observed:
    signer = p.fresh_signer()
    assert p.raw(signer, 0).error is None  # nonce 0 mined first (Ganache 7 would execute a nonce-0 resend again)
    p.node.set_automine(False)
    try:
        assert p.raw(signer, 1).error is None
        return p.raw(signer, 1, **second)
    finally:
        p.node.set_automine(True)
        p.node.mine()


def already_known(p: Provoker) -> Observed:
    return _in_the_pool(p, {})


def replacement_underpriced(p: Provoker) -> Observed:
    return _in_the_pool(p, {"maxPriorityFeePerGas": 10**9 + 1})


def method_unsupported(p: Provoker) -> Observed:
    return _ask(p.client, "foo_bar", [])


def revert_in_eth_call(p: Provoker) -> Observed:
    return p.call("eth_call", "failWith", "x")


def revert_in_eth_estimate_gas(p: Provoker) -> Observed:
    return p.call("eth_estimateGas", "failWith", "x")


def revert_in_eth_send_raw_transaction(p: Provoker) -> Observed:
    nonce = p.client.nonce(p.signer.address, "pending")
    return p.raw(p.signer, nonce, to=p.probe.address, value=0, gas=100_000, data=p.probe.encode("failWith", "x"))


#: docs row -> (how to provoke it, the condition recognised when the node answers with an error)
ROWS: dict[str, tuple[Callable[[Provoker], Observed], Condition]] = {
    "nonce too low": (nonce_too_low, Condition.NONCE_TOO_LOW),
    "nonce ahead of the account's": (nonce_too_high, Condition.NONCE_TOO_HIGH),
    "insufficient funds": (insufficient_funds, Condition.INSUFFICIENT_FUNDS),
    "max fee below the base fee": (fee_below_base_fee, Condition.UNDERPRICED),
    "gas limit below the intrinsic gas": (intrinsic_gas_too_low, Condition.GAS_TOO_LOW),
    "the same transaction again (in the pool)": (already_known, Condition.ALREADY_KNOWN),
    "replacement with too small a fee bump": (replacement_underpriced, Condition.UNDERPRICED),
    "unknown method": (method_unsupported, Condition.METHOD_UNSUPPORTED),
    "revert in eth_call": (revert_in_eth_call, Condition.REVERT),
    "revert in eth_estimateGas": (revert_in_eth_estimate_gas, Condition.REVERT),
    "revert in eth_sendRawTransaction": (revert_in_eth_send_raw_transaction, Condition.REVERT),
}


# --- the docs table ---------------------------------------------------------------------------------------------
def normalised(message: str) -> str:
    return re.sub(r"\b\d+\b", "N", re.sub(r"0x[0-9a-fA-F]+", "0x…", message))


def docs_table() -> dict[str, dict[str, str]]:
    """The "Node errors" table of docs/chain.md: row name -> column header -> cell."""
    text = DOCS.read_text()
    section = text[text.index("### Node errors") :]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        table[cells[0]] = dict(zip(header, cells, strict=True))
    return table


def test_the_docs_table_has_exactly_these_rows() -> None:
    assert list(docs_table()) == list(ROWS)


#: Where a node words a condition as another one (Ganache answers an identical resend "transaction underpriced").
WORDED_AS: dict[tuple[str, str], Condition] = {
    ("the same transaction again (in the pool)", "ganache"): Condition.UNDERPRICED,
}


@pytest.mark.parametrize("row", list(ROWS))
def test_each_nodes_answer_is_recognised_and_documented(row: str, peer: DevNode, peer_probe: Contract) -> None:
    provoke, condition = ROWS[row]
    condition = WORDED_AS.get((row, peer.kind.value), condition)
    seen = provoke(Provoker(peer, peer_probe))
    cell = docs_table()[row][COLUMNS[peer.kind.value]]
    if seen.error is None:
        assert cell.startswith("*accepted"), f"{peer.kind.value} accepted {row!r} but the docs say {cell!r}"
        return
    reply = seen.error
    assert condition in reply.conditions, (reply.message, reply.conditions)
    assert f"`{normalised(reply.message)}`" in cell, f"docs/chain.md {row!r}/{peer.kind.value}: {reply.message!r}"
    raised = translate_rpc_error(reply)
    assert type(raised).__name__ in docs_table()[row]["raised as"]
    if condition is Condition.REVERT:
        assert f"`{reply.revert_data_location}`" in cell
        assert isinstance(raised, ContractRevertError) and raised.error_name == "Error" and raised.error_args == ("x",)
        if row == "revert in eth_sendRawTransaction":
            assert reply.mined_tx_hash is not None and raised.tx_hash == reply.mined_tx_hash  # mined: nonce used
