"""SQL plumbing shared by the metadata stores and the marketplace service.

- :func:`create_store_engine` is the one SQLAlchemy ``Engine`` factory (SQLite files, in-memory SQLite, PostgreSQL).
- :func:`translate_errors` is the one boundary where SQLAlchemy errors become :class:`MetadataStoreError`.

Schemas and queries stay with the package that owns the tables (``metadata/``, ``outbox/``, ``service/``).
"""

from ._engine import create_store_engine, is_memory_sqlite, parse_store_url
from ._errors import DatabaseError, store_error, translate_errors

__all__ = [
    "DatabaseError",
    "create_store_engine",
    "is_memory_sqlite",
    "parse_store_url",
    "store_error",
    "translate_errors",
]
