"""``ChainClient``: one connection to one chain, checked on construction.

It verifies the chain id once (so a misconfigured RPC URL fails before anything is signed), exposes raw JSON-RPC
through :class:`~.jsonrpc.JsonRpcTransport` (one round trip per call or per batch), typed reads of accounts and
blocks, and a lazily built ``web3.Web3`` for everything else. It knows nothing about contracts or artifacts: a
contract handle is built on a client (:meth:`~anacostia_blockchain.chain.abi.Contract.at`).

What it learns about the node on first use and keeps: which software it is (:attr:`ChainClient.node_kind`) and
which EVM version it runs (:attr:`ChainClient.evm_version`). Whether it automines is asked each time
(:meth:`ChainClient.automines`), since tests switch it.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...errors import ChainConnectionError, ChainError, ChainIdMismatchError, NoContractCodeError
from ..encoding import block_tag, checksum, hex_to_bytes, quantity
from ..recursion_guard import restore_recursion_limit
from .evm import probe_evm_version
from .jsonrpc import JsonRpcTransport, batch_result
from .node_kind import NodeKind, node_kind_of
from .receipt import Receipt

#: How each kind of node says whether it automines (others have no such method). Ganache's ``eth_mining`` is
#: false once ``miner_stop`` stopped its miner; its instamine and an interval (``--miner.blockTime``) both answer
#: true, and no method tells them apart.
_AUTOMINE_QUERIES: dict[NodeKind, tuple[str, ...]] = {
    NodeKind.ANVIL: ("anvil_getAutomine",),
    NodeKind.HARDHAT: ("hardhat_getAutomine",),
    NodeKind.GANACHE: ("eth_mining",),
    NodeKind.OTHER: ("anvil_getAutomine", "hardhat_getAutomine"),
}

if TYPE_CHECKING:
    from web3 import Web3


@dataclass(frozen=True)
class BlockHeader:
    """The parts of a block header callers compare: its number, hash and timestamp (seconds)."""

    number: int
    hash: str
    timestamp: int

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> BlockHeader:
        return cls(number=quantity(raw["number"]), hash=str(raw["hash"]), timestamp=quantity(raw.get("timestamp")))


class ChainClient:
    """A connection to an EVM JSON-RPC endpoint. Thread-safe."""

    def __init__(self, rpc_url: str, expected_chain_id: int | None = None, timeout: float = 30.0) -> None:
        self.rpc_url = rpc_url
        self.transport = JsonRpcTransport(rpc_url, timeout=timeout)
        try:
            self.chain_id = quantity(self.transport.call("eth_chainId"))
        except ChainConnectionError as exc:
            if exc.http_status is not None:
                raise  # something answered: its message says what the HTTP status means for this URL
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

            restore_recursion_limit()  # web3 imports eth-account, which imports py_ecc
            self._w3 = Web3(Web3.HTTPProvider(self.rpc_url))
        return self._w3

    # --- raw JSON-RPC -------------------------------------------------------------------------------------------------
    def rpc(self, method: str, params: Sequence[Any] = (), timeout: float | None = None) -> Any:
        return self.transport.call(method, params, timeout=timeout)

    def rpc_batch(self, calls: Sequence[tuple[str, Sequence[Any]]], timeout: float | None = None) -> list[Any]:
        return self.transport.batch(calls, timeout=timeout)

    # --- reads --------------------------------------------------------------------------------------------------------
    def block_number(self) -> int:
        return quantity(self.rpc("eth_blockNumber"))

    def balance(self, address: str, block: str = "latest") -> int:
        return quantity(self.rpc("eth_getBalance", [checksum(address), block]))

    def nonce(self, address: str, block: str = "pending") -> int:
        return quantity(self.rpc("eth_getTransactionCount", [checksum(address), block]))

    def nonces(self, address: str, blocks: Sequence[str] = ("latest", "pending")) -> list[int]:
        """The account's transaction count at each block tag, in one batched request (errors raise)."""
        replies = self.rpc_batch([("eth_getTransactionCount", [checksum(address), tag]) for tag in blocks])
        return [quantity(batch_result(reply)) for reply in replies]

    def get_code(self, address: str, block: str = "latest") -> bytes:
        return hex_to_bytes(self.rpc("eth_getCode", [checksum(address), block]) or "0x")

    def get_block(self, block: int | str = "latest") -> dict[str, Any]:
        """The node's block object as it sent it (hex quantities); see :meth:`header` for typed fields."""
        result = self.rpc("eth_getBlockByNumber", [block_tag(block), False])
        if result is None:
            raise ChainConnectionError(f"block {block} not found")
        return dict(result)

    def header(self, block: int | str = "latest") -> BlockHeader:
        """Number, hash and timestamp of a block."""
        return BlockHeader.from_rpc(self.get_block(block))

    def block_hashes(self, numbers: Iterable[int]) -> dict[int, str]:
        """Current hashes of the given blocks (one batched request); blocks the node does not have are omitted."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        replies = self.rpc_batch([("eth_getBlockByNumber", [block_tag(n), False]) for n in wanted])
        return {n: str(reply["hash"]) for n, reply in zip(wanted, map(batch_result, replies), strict=True) if reply}

    def get_receipt(self, tx_hash: str) -> Receipt | None:
        raw = self.rpc("eth_getTransactionReceipt", [tx_hash])
        return Receipt.from_rpc(raw) if raw else None

    @functools.cached_property
    def client_version(self) -> str:
        """``web3_clientVersion`` (``""`` when the node does not answer it, whatever the way it refuses)."""
        try:
            return str(self.rpc("web3_clientVersion"))
        except ChainError:
            return ""

    @functools.cached_property
    def node_kind(self) -> NodeKind:
        """Which software serves this chain (anvil, Hardhat Network, Ganache, geth, other)."""
        return node_kind_of(self.client_version)

    @functools.cached_property
    def evm_version(self) -> str:
        """The newest EVM version the chain executes, probed once (``"cancun"``, ``"shanghai"`` or ``"paris"``)."""
        return probe_evm_version(self.rpc)

    def automines(self) -> bool:
        """True when the node says it mines every transaction at once (anvil / Hardhat automine, Ganache's
        instamine).

        Interval mining answers False on anvil and Hardhat, a stopped miner on Ganache (``miner_stop``); so does a
        node with no way to say (geth, public RPCs), which callers treat as "blocks come when they come" (longer
        timeouts, more confirmations). A Ganache started with ``--miner.blockTime`` answers True: it cannot be told
        from instamine over RPC.
        """
        for method in _AUTOMINE_QUERIES.get(self.node_kind, ()):
            try:
                return self.rpc(method) is True
            except ChainError:
                continue  # not offered by this node (some providers refuse unknown methods with HTTP 4xx)
        return False

    # --- contracts ----------------------------------------------------------------------------------------------------
    def require_code(self, address: str, name: str | None = None) -> str:
        """Return the checksummed address, or raise :class:`NoContractCodeError` when no code lives there."""
        address = checksum(address)
        if not self.get_code(address):
            raise NoContractCodeError(address, name)
        return address

