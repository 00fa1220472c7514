"""anacostia-blockchain: MLOps pipelines as a DAG of node threads, anchored on an EVM chain.

The import surface of the Anacostia README::

    from anacostia_blockchain import (Pipeline, BaseNode, BaseMetadataStoreNode, BaseResourceNode,
                                      BaseActionNode, SqliteMetadataStore, FilesystemStoreNode)

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
    "FilesystemStoreNode": "anacostia_blockchain.resources",
}

__all__ = [
    "Artifact",
    "ArtifactState",
    "BaseActionNode",
    "BaseMetadataStoreNode",
    "BaseNode",
    "BaseResourceNode",
    "FilesystemStoreNode",
    "NodeStatus",
    "Pipeline",
    "RunStatus",
    "SqliteMetadataStore",
]

if TYPE_CHECKING:
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
    from .metadata import SqliteMetadataStore
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
