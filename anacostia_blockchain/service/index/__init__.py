"""The marketplace index: chain events projected into SQL, NFT metadata verified against its CID, and the queries
the API answers from.

- :class:`Indexer` follows the contracts' events (reorg-safe, resumable) through the pure functions of
  ``projection``; :class:`MetadataFetcher` resolves the models' metadata documents from IPFS;
- ``schema`` declares the tables, :func:`create_or_upgrade` creates or upgrades them, :func:`open_index` opens the
  database through the shared SQL engine factory;
- ``queries`` and ``listing`` (``GET /models``, served from JSON fragments pre-rendered by ``listing_json``) read it.
"""

from . import queries, schema
from .database import create_index_engine, create_read_engine, open_index
from .indexer import BatchResult, Indexer
from .listing import ModelFilter, model_page_json, runs_on_event_loop
from .metadata_fetcher import MetadataFetcher, parse_metadata_document
from .metric_values import document_metrics, metric_decimal, metrics_json, sort_key
from .migrations import create_or_upgrade
from .projection import FOLLOWED_EVENTS, run_key

__all__ = [
    "FOLLOWED_EVENTS",
    "BatchResult",
    "Indexer",
    "MetadataFetcher",
    "ModelFilter",
    "create_index_engine",
    "create_or_upgrade",
    "create_read_engine",
    "document_metrics",
    "metric_decimal",
    "metrics_json",
    "model_page_json",
    "open_index",
    "parse_metadata_document",
    "queries",
    "run_key",
    "runs_on_event_loop",
    "schema",
    "sort_key",
]
