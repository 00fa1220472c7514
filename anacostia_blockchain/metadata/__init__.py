"""Metadata stores: the run store (runs, metrics, params, tags, artifacts, lineage in SQL) and its pipeline nodes.

- :class:`RunStore` — a plain object over a SQLAlchemy URL (SQLite or PostgreSQL): everything a run records, and
  the queries over it (``get_runs``, ``get_metrics``, ``lineage``, ``export_run``, ...). Tools open their own.
- :class:`SqlMetadataStore` (``SqliteMetadataStore``, the Anacostia name) — the pipeline's metadata store node; its
  ``runs`` is a :class:`RunStore`.
- :class:`BlockchainMetadataStore` — the same node whose runs are anchored on chain
  (``anacostia_blockchain.anchoring``); imported on first use, since it loads the chain layer.
- :mod:`.mlflow_export` — copies runs into an MLflow tracking store (the only module that imports ``mlflow``, an
  optional extra); imported by ``anacostia-chain export mlflow``, never by this package's ``__init__``.

``from anacostia_blockchain.metadata import SqliteMetadataStore`` is the import path of the Anacostia-Blockchain
README.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .node import SqliteMetadataStore, SqlMetadataStore
from .run_store import RunStore

if TYPE_CHECKING:
    from .blockchain_store import BlockchainMetadataStore

__all__ = ["BlockchainMetadataStore", "RunStore", "SqlMetadataStore", "SqliteMetadataStore"]


def __getattr__(name: str) -> Any:
    if name == "BlockchainMetadataStore":
        value = import_module(".blockchain_store", __name__).BlockchainMetadataStore
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
