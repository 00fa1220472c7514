"""``ChainClient``: one connection to one chain, checked on construction.

It verifies the chain id once (so a misconfigured RPC URL fails before anything is signed), exposes raw JSON-RPC
through :class:`~.rpc.JsonRpcTransport` (one round trip per call or per batch) and a lazily built ``web3.Web3``
for everything else, and hands out :class:`~.contract.Contract` handles after checking that code exists at the
address.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from eth_utils import is_address, to_checksum_address

from ..errors import (
    ChainConnectionError,
    ChainError,
    ChainIdMismatchError,
    ConfigurationError,
    NoContractCodeError,
    TransactionTimeoutError,
)
from .compiler import Artifact, load_artifact
from .contract import Contract
from .receipt import Receipt
from .rpc import JsonRpcTransport

if TYPE_CHECKING:
    from web3 import Web3


def checksum(address: str) -> str:
    """A checksummed address or :class:`ConfigurationError` (never a bare ValueError)."""
    if not isinstance(address, str) or not is_address(address):
        raise ConfigurationError(f"not an Ethereum address: {address!r}")
    return to_checksum_address(address)


class ChainClient:
    """A connection to an EVM JSON-RPC endpoint. Thread-safe."""

    def __init__(self, rpc_url: str, expected_chain_id: int | None = None, timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        self.transport = JsonRpcTransport(rpc_url, timeout=timeout)
        try:
            self.chain_id = int(self.transport.call("eth_chainId"), 16)
        except ChainConnectionError as exc:
            raise ChainConnectionError(f"cannot reach the chain at {self.transport.url}: is the node running?") from exc
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise ChainIdMismatchError(expected_chain_id, self.chain_id)
        self._w3: Web3 | None = None

    def __repr__(self) -> str:
        return f"ChainClient({self.transport.url!r}, chain_id={self.chain_id})"

    @property
    def w3(self) -> Web3:
        """A web3.py object on the same URL, for reads this class does not cover (not for hot paths)."""
        if self._w3 is None:
            from web3 import Web3

            self._w3 = Web3(Web3.HTTPProvider(self.rpc_url))
        return self._w3

    # --- raw JSON-RPC -------------------------------------------------------------------------------------------------
    def rpc(self, method: str, params: Sequence[Any] = (), timeout: float | None = None) -> Any:
        return self.transport.call(method, params, timeout=timeout)

    def rpc_batch(self, calls: Sequence[tuple[str, Sequence[Any]]], timeout: float | None = None) -> list[Any]:
        return self.transport.batch(calls, timeout=timeout)

    # --- reads --------------------------------------------------------------------------------------------------------
    def block_number(self) -> int:
        return int(self.rpc("eth_blockNumber"), 16)

    def balance(self, address: str, block: str = "latest") -> int:
        return int(self.rpc("eth_getBalance", [checksum(address), block]), 16)

    def nonce(self, address: str, block: str = "pending") -> int:
        return int(self.rpc("eth_getTransactionCount", [checksum(address), block]), 16)

    def get_code(self, address: str, block: str = "latest") -> bytes:
        code = self.rpc("eth_getCode", [checksum(address), block]) or "0x"
        return bytes.fromhex(code[2:])

    def get_block(self, block: int | str = "latest") -> dict[str, Any]:
        tag = hex(block) if isinstance(block, int) else block
        result = self.rpc("eth_getBlockByNumber", [tag, False])
        if result is None:
            raise ChainConnectionError(f"block {block} not found")
        return dict(result)

    def get_receipt(self, tx_hash: str) -> Receipt | None:
        raw = self.rpc("eth_getTransactionReceipt", [tx_hash])
        return Receipt.from_rpc(raw) if raw else None

    def wait_for_receipt(self, tx_hash: str, timeout: float = 120.0, poll: float = 0.05) -> Receipt:
        """Poll for a receipt (for transactions not sent through a :class:`TxSender`)."""
        deadline = time.monotonic() + timeout
        while True:
            receipt = self.get_receipt(tx_hash)
            if receipt is not None:
                return receipt
            if time.monotonic() > deadline:
                raise TransactionTimeoutError(f"no receipt for {tx_hash} after {timeout:.0f}s")
            time.sleep(poll)

    def automines(self) -> bool:
        """True when the node says it mines every transaction at once (anvil / hardhat automine)."""
        for method in ("anvil_getAutomine", "hardhat_getAutomine"):
            try:
                if self.rpc(method) is True:
                    return True
            except ChainError:
                continue  # not that kind of node
        return False

    # --- contracts ----------------------------------------------------------------------------------------------------
    def require_code(self, address: str, name: str | None = None) -> str:
        """Return the checksummed address, or raise :class:`NoContractCodeError` when no code lives there."""
        address = checksum(address)
        if not self.get_code(address):
            raise NoContractCodeError(address, name)
        return address

    def contract(self, name_or_artifact: str | Artifact, address: str, check_code: bool = True) -> Contract:
        artifact = load_artifact(name_or_artifact) if isinstance(name_or_artifact, str) else name_or_artifact
        address = self.require_code(address, artifact.name) if check_code else checksum(address)
        return Contract(self, artifact.name, artifact.abi, address)
