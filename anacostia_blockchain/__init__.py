"""anacostia-blockchain: MLOps pipelines as a DAG of node threads, anchored on an EVM chain.

The import surface of the Anacostia README, plus what anchors its runs::

    from anacostia_blockchain import (Pipeline, BaseNode, BaseMetadataStoreNode, BaseResourceNode,
                                      BaseActionNode, SqliteMetadataStore, FilesystemStoreNode)
    from anacostia_blockchain import BlockchainMetadataStore, LocalSigner

Names are resolved lazily (PEP 562), so ``import anacostia_blockchain.chain`` does not load SQLAlchemy or watchdog.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from . import _compat

_compat.install()

__version__ = "0.1.0"

_EXPORTS = {
    "Pipeline": "anacostia_blockchain.engine",
    "BaseNode": "anacostia_blockchain.engine",
    "BaseMetadataStoreNode": "anacostia_blockchain.engine",
    "BaseResourceNode": "anacostia_blockchain.engine",
    "BaseActionNode": "anacostia_blockchain.engine",
    "Artifact": "anacostia_blockchain.engine",
    "ArtifactState": "anacostia_blockchain.engine",
    "RunStatus": "anacostia_blockchain.engine",
    "NodeStatus": "anacostia_blockchain.engine",
    "SqliteMetadataStore": "anacostia_blockchain.metadata",
    "BlockchainMetadataStore": "anacostia_blockchain.metadata",
    "LocalSigner": "anacostia_blockchain.chain",
    "FilesystemStoreNode": "anacostia_blockchain.resources",
}

__all__ = [
    "Artifact",
    "ArtifactState",
    "BaseActionNode",
    "BaseMetadataStoreNode",
    "BaseNode",
    "BaseResourceNode",
    "BlockchainMetadataStore",
    "FilesystemStoreNode",
    "LocalSigner",
    "NodeStatus",
    "Pipeline",
    "RunStatus",
    "SqliteMetadataStore",
]

if TYPE_CHECKING:
    from .chain import LocalSigner
    from .engine import (
        Artifact,
        ArtifactState,
        BaseActionNode,
        BaseMetadataStoreNode,
        BaseNode,
        BaseResourceNode,
        NodeStatus,
        Pipeline,
        RunStatus,
    )
    from .metadata import BlockchainMetadataStore, SqliteMetadataStore
    from .resources import FilesystemStoreNode


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'anacostia_blockchain' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
