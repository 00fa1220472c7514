"""Test controls of development nodes, one table for anvil, Hardhat Network and Ganache.

Each node names its non-standard methods differently; this is the one place that knows the names:

============== ========================== ============================= ===============================
operation      anvil                      Hardhat Network               Ganache
============== ========================== ============================= ===============================
set code       ``anvil_setCode``          ``hardhat_setCode``           ``evm_setAccountCode``
set balance    ``anvil_setBalance``       ``hardhat_setBalance``        ``evm_setAccountBalance``
mine n blocks  ``anvil_mine [n]``         ``hardhat_mine [n]``          ``evm_mine [{"blocks": n}]``
automine       ``evm_setAutomine``        ``evm_setAutomine``           ``miner_start`` / ``miner_stop``
next base fee  ``anvil_setNext...``       ``hardhat_setNext...``        (none)
snapshots      ``evm_snapshot`` / ``evm_revert`` on all three; ``evm_increaseTime`` on all three
============== ========================== ============================= ===============================

The node's kind comes from ``web3_clientVersion`` (:mod:`..rpc.node_kind`). A node of unknown kind gets every
candidate in turn until one is not refused as an unknown method. When none works the operation raises
:class:`~anacostia_blockchain.errors.ChainError` naming what was tried (callers such as the canonical-address
placement turn it into their own error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import ChainError
from ..encoding import checksum, to_hex
from ..rpc.node_kind import NodeKind
from ..rpc.rpc_errors import RpcErrorReply

#: ``(method, params)`` of one way to do an operation.
RpcCall = tuple[str, list[Any]]
Rpc = Callable[[str, Sequence[Any]], Any]

ANVIL, HARDHAT, GANACHE = NodeKind.ANVIL, NodeKind.HARDHAT, NodeKind.GANACHE


def _set_code(address: str, code: str) -> dict[NodeKind, RpcCall]:
    return {
        ANVIL: ("anvil_setCode", [address, code]),
        HARDHAT: ("hardhat_setCode", [address, code]),
        GANACHE: ("evm_setAccountCode", [address, code]),
    }


def _set_balance(address: str, wei: int) -> dict[NodeKind, RpcCall]:
    return {
        ANVIL: ("anvil_setBalance", [address, hex(wei)]),
        HARDHAT: ("hardhat_setBalance", [address, hex(wei)]),
        GANACHE: ("evm_setAccountBalance", [address, hex(wei)]),
    }


def _mine(blocks: int) -> dict[NodeKind, RpcCall]:
    return {
        ANVIL: ("anvil_mine", [hex(blocks)]),
        HARDHAT: ("hardhat_mine", [hex(blocks)]),
        GANACHE: ("evm_mine", [{"blocks": blocks}]),
    }


def _set_next_base_fee(wei: int) -> dict[NodeKind, RpcCall]:
    return {
        ANVIL: ("anvil_setNextBlockBaseFeePerGas", [hex(wei)]),
        HARDHAT: ("hardhat_setNextBlockBaseFeePerGas", [hex(wei)]),
    }


class NodeControl:
    """Development-node operations through a JSON-RPC call function (a ``ChainClient.rpc`` or ``DevNode.rpc``)."""

    def __init__(self, rpc: Rpc, kind: NodeKind) -> None:
        self._rpc = rpc
        self.kind = kind

    def __repr__(self) -> str:
        return f"NodeControl({self.kind.value})"

    def set_code(self, address: str, code: bytes | str) -> str:
        """Write runtime code at ``address``; returns the method that did it."""
        text = code if isinstance(code, str) else to_hex(code)
        return self._run("set code", _set_code(checksum(address), text))

    def set_balance(self, address: str, wei: int) -> None:
        self._run("set balance", _set_balance(checksum(address), wei))

    def mine(self, blocks: int = 1) -> None:
        self._run("mine", _mine(blocks))

    def set_next_base_fee(self, wei: int) -> None:
        self._run("set the next base fee", _set_next_base_fee(wei))

    def set_automine(self, enabled: bool) -> None:
        if self.kind is GANACHE:
            self._rpc("miner_start" if enabled else "miner_stop", [])
        else:
            self._rpc("evm_setAutomine", [enabled])

    def snapshot(self) -> str:
        return str(self._rpc("evm_snapshot", []))

    def revert(self, snapshot_id: str) -> bool:
        return bool(self._rpc("evm_revert", [snapshot_id]))

    def increase_time(self, seconds: int) -> None:
        self._rpc("evm_increaseTime", [seconds if self.kind is GANACHE else hex(seconds)])
        self.mine()

    def _run(self, operation: str, ways: dict[NodeKind, RpcCall]) -> str:
        """Call this node's way of doing ``operation`` (every known way, in turn, on a node of unknown kind)."""
        candidates = [ways[self.kind]] if self.kind in ways else list(ways.values())
        refused: list[str] = []
        for method, params in candidates:
            try:
                self._rpc(method, params)
                return method
            except ChainError as exc:
                reply = exc.rpc_error
                if not isinstance(reply, RpcErrorReply) or not reply.is_method_unsupported:
                    raise
                refused.append(method)
        raise ChainError(f"{operation}: this node ({self.kind.value}) does not offer {' / '.join(refused) or 'it'}")
