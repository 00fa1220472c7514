"""Metadata stores: the SQL store every pipeline needs (and the blockchain store builds on).

``from anacostia_blockchain.metadata import SqliteMetadataStore`` is the import path of the Anacostia-Blockchain
README. This package is the only user of SQLAlchemy (besides ``service/`` for its own index).
"""

from .sql_store import SqliteMetadataStore

__all__ = ["SqliteMetadataStore"]
