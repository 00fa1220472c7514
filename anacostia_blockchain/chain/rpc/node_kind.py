"""Which node software answers an RPC URL, read from ``web3_clientVersion``.

Development nodes differ in their non-standard methods (``anvil_setCode`` / ``hardhat_setCode`` /
``evm_setAccountCode``, ``anvil_getAutomine`` / ``hardhat_getAutomine``) and in how they word errors; callers that
need such a method pick it by :class:`NodeKind` instead of trying every name. Observed version strings:

- anvil: ``anvil/v1.7.1``
- Hardhat Network 2: ``HardhatNetwork/2.29.1/@nomicfoundation/edr/0.3.8``
- Ganache 7: ``Ganache/v7.9.2/EthereumJS TestRPC/v7.9.2/ethereum-js``
- geth: ``Geth/v1.14.0-stable/linux-amd64/go1.22.2``

Anything else is :attr:`NodeKind.OTHER` (a public RPC, a client this module does not know): callers then fall back
to the standard methods only.
"""

from __future__ import annotations

import enum


class NodeKind(enum.Enum):
    ANVIL = "anvil"
    HARDHAT = "hardhat"
    GANACHE = "ganache"
    GETH = "geth"
    OTHER = "other"

    @property
    def is_dev_node(self) -> bool:
        """A local development node with test controls (set code, snapshots, mining on demand)."""
        return self in (NodeKind.ANVIL, NodeKind.HARDHAT, NodeKind.GANACHE)


_PREFIXES: tuple[tuple[str, NodeKind], ...] = (
    ("anvil/", NodeKind.ANVIL),
    ("hardhatnetwork/", NodeKind.HARDHAT),
    ("ganache/", NodeKind.GANACHE),
    ("geth/", NodeKind.GETH),
)


def node_kind_of(client_version: str) -> NodeKind:
    """The :class:`NodeKind` of a ``web3_clientVersion`` answer."""
    lowered = client_version.strip().lower()
    for prefix, kind in _PREFIXES:
        if lowered.startswith(prefix):
            return kind
    return NodeKind.OTHER
