"""Contracts at canonical addresses: the node's own set-code method, else a deterministic CREATE2 deployer.

Some contracts only work at one address every tool knows (the ERC-6551 registry at
0x000000006551c19487814612e58FE06813775758, Story's suite at its Aeneid addresses). :func:`place_contract` puts
runtime code there, trying in order:

1. the node's set-code method, picked by node kind (``anvil_setCode``, ``hardhat_setCode``, Ganache's
   ``evm_setAccountCode``; :class:`~.node_control.NodeControl`);
2. a CREATE2 deployment through the deterministic deployment proxy (:data:`CREATE2_DEPLOYER`, "Nick's factory":
   calldata = salt ‖ init code), when the caller gives the init code and salt, the proxy is deployed on the chain
   (anvil pre-deploys it; most public chains have it) and the address it yields is the canonical one.

Where neither works, :class:`~anacostia_blockchain.errors.CodePlacementError` names the contract, the address and
what each way said.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eth_utils import keccak

from ...errors import ChainError, CodePlacementError
from ..encoding import checksum, to_hex
from .node_control import NodeControl

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from ..tx.sender import TxSender

#: The deterministic deployment proxy (Arachnid's, "Nick's factory"): CREATE2 with calldata ``salt ‖ init code``.
CREATE2_DEPLOYER = "0x4e59b44847b379578588920cA78FbF26c0B4956C"

#: The ways :func:`place_contract` knows, in the order it tries them.
WAYS = ("set-code", "create2")


def create2_address(init_code: bytes, salt: bytes, deployer: str = CREATE2_DEPLOYER) -> str:
    """Where ``deployer`` puts ``init_code`` with ``salt`` (EIP-1014)."""
    if len(salt) != 32:
        raise ValueError(f"a CREATE2 salt is 32 bytes, got {len(salt)}")
    digest = keccak(b"\xff" + bytes.fromhex(deployer[2:]) + salt + keccak(init_code))
    return checksum(to_hex(digest[12:]))


def set_code_at(client: ChainClient, address: str, code: bytes) -> str:
    """Write runtime code at ``address`` with the node's set-code method; returns the method used (ChainError
    when the node has none)."""
    return NodeControl(client.rpc, client.node_kind).set_code(address, code)


def place_contract(
    sender: TxSender,
    name: str,
    address: str,
    runtime_code: bytes,
    *,
    init_code: bytes | None = None,
    salt: bytes | None = None,
    ways: tuple[str, ...] = WAYS,
) -> str:
    """Put ``name``'s code at ``address``; returns how (a method name or ``"create2"``). See the module docs."""
    client = sender.client
    address = checksum(address)
    tried: list[str] = []
    if "set-code" in ways:
        try:
            return set_code_at(client, address, runtime_code)
        except ChainError as exc:
            tried.append(str(exc))
    if "create2" in ways:
        reason = _create2(sender, address, init_code, salt)
        if reason is None:
            return "create2"
        tried.append(reason)
    raise CodePlacementError(name, address, client.chain_id, tried)


def _create2(sender: TxSender, address: str, init_code: bytes | None, salt: bytes | None) -> str | None:
    """Deploy through the CREATE2 proxy; ``None`` on success, else why it cannot."""
    client = sender.client
    if init_code is None or salt is None:
        return "CREATE2: no init code and salt given"
    if not client.get_code(CREATE2_DEPLOYER):
        return f"CREATE2: no deterministic deployment proxy at {CREATE2_DEPLOYER}"
    lands_at = create2_address(init_code, salt)
    if lands_at != address:
        return f"CREATE2: this build with that salt lands at {lands_at}"
    sender.send_raw_call(CREATE2_DEPLOYER, salt + init_code, label="CREATE2 deployment").wait()
    if not client.get_code(address):
        return f"CREATE2: the proxy deployed nothing at {address}"
    return None
