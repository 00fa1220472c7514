"""The chain layer: the only package that imports web3 / eth-account / eth-abi / eth-utils.

Sub-packages, one concept each (the public API is documented in ``docs/chain.md``):

- :mod:`.rpc` — the connection: :class:`ChainClient`, JSON-RPC with typed errors, :class:`Receipt`;
- :mod:`.abi` — :class:`Contract` handles, the event decoder (:class:`EventLog`), :func:`decode_revert`, artifacts;
- :mod:`.tx` — :class:`LocalSigner`, :class:`TxSender` / :class:`PendingTx`, fees, nonces, EIP-191 messages;
- :mod:`.contracts` — typed clients of the project's contracts and the :class:`DeploymentManifest` reader;
- :mod:`.story` — Story Protocol's core contracts and PIL terms;
- :mod:`.dev` — local chains (:class:`Devnet`), the compiler, deployments and the pytest plugin. Its names below
  (``Devnet``, ``deploy_all``, ...) load on first use, so importing this package does not load the launcher.

:mod:`.encoding` is the one home of hex, quantity and address helpers.
"""

from __future__ import annotations

import warnings
from importlib import import_module
from typing import TYPE_CHECKING, Any

from .abi import (
    Contract,
    ContractArtifact,
    EventLog,
    EventReader,
    decode_revert,
    deployment_data,
    load_artifact,
    register_abi,
)
from .contracts import (
    ChainlinkPriceFeed,
    DeploymentManifest,
    DeploymentRecord,
    MarketplaceClient,
    ModelNFTClient,
    ModelVersionsClient,
    RunRegistryClient,
)
from .encoding import checksum
from .rpc import BlockHeader, ChainClient, Receipt
from .story import StoryClient
from .tx import FeeOracle, Fees, LocalSigner, PendingTx, TxSender

if TYPE_CHECKING:
    from .dev import DeploymentResult, DevAccount, Devnet, deploy_all, ensure_deployed

#: Names of the development tooling, imported from :mod:`.dev` when first used.
_DEV_EXPORTS = ("DevAccount", "DeploymentResult", "Devnet", "deploy_all", "ensure_deployed")

#: Old names kept for one release: ``Artifact`` is now :class:`ContractArtifact` (the engine has an ``Artifact``).
_DEPRECATED = {"Artifact": "ContractArtifact"}

__all__ = [
    "BlockHeader",
    "ChainClient",
    "ChainlinkPriceFeed",
    "Contract",
    "ContractArtifact",
    "DeploymentManifest",
    "DeploymentRecord",
    "DeploymentResult",
    "DevAccount",
    "Devnet",
    "EventLog",
    "EventReader",
    "FeeOracle",
    "Fees",
    "LocalSigner",
    "MarketplaceClient",
    "ModelNFTClient",
    "ModelVersionsClient",
    "PendingTx",
    "Receipt",
    "RunRegistryClient",
    "StoryClient",
    "TxSender",
    "checksum",
    "decode_revert",
    "deploy_all",
    "deployment_data",
    "ensure_deployed",
    "load_artifact",
    "register_abi",
]


def __getattr__(name: str) -> Any:
    if name in _DEV_EXPORTS:
        value = getattr(import_module(".dev", __name__), name)
        globals()[name] = value
        return value
    if name in _DEPRECATED:
        new = _DEPRECATED[name]
        warnings.warn(
            f"anacostia_blockchain.chain.{name} is now {new}; the old name will be removed in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_DEV_EXPORTS])
