"""Which EVM version a chain runs, found by executing an opcode each version introduced.

``eth_call`` without a ``to`` runs its ``data`` as creation code. A few bytes that use one new opcode and stop
succeed on a chain that has the opcode and fail with "invalid opcode" on one that does not:

- Cancun: ``MCOPY`` (``PUSH1 0 PUSH1 0 PUSH1 0 MCOPY STOP``);
- Shanghai: ``PUSH0`` (``PUSH0 STOP``).

Solidity 0.8.25+ emits MCOPY for a Cancun target and PUSH0 for Shanghai and later, so these two probes tell which
artifact set a chain can run (Ganache 7 stops at Shanghai). A node's hardfork name would say the same but no
standard method reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ...errors import ChainConnectionError, ChainError

#: EVM versions this package recognises, newest first.
EVM_VERSIONS: tuple[str, ...] = ("cancun", "shanghai", "paris")

#: (version, creation code that only runs from that version on)
_PROBES: tuple[tuple[str, str], ...] = (
    ("cancun", "0x6000600060005e00"),
    ("shanghai", "0x5f00"),
)

Rpc = Callable[[str, Sequence[Any]], Any]


def probe_evm_version(rpc: Rpc) -> str:
    """The newest of :data:`EVM_VERSIONS` whose opcode the chain executes (``"paris"``: neither probe ran)."""
    for version, code in _PROBES:
        try:
            rpc("eth_call", [{"data": code}, "latest"])
        except ChainConnectionError:
            raise
        except ChainError:
            continue  # invalid opcode: older than this version
        return version
    return EVM_VERSIONS[-1]
