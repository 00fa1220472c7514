"""The marketplace index: SQL tables the indexer writes and the API reads (SQLAlchemy Core, own ``MetaData``).

Three kinds of tables, with different rules for reorgs:

- **The log** (``index_events``, ``index_blocks``, ``index_cursor``): every decoded event kept verbatim with its block
  hash, the hashes of recently processed blocks, and the next block to read; ``index_counts`` holds the number of
  rows of the log and of the derived tables, kept in step by the indexer. A reorg deletes the log above the fork
  point; nothing else is trusted to survive it.
- **Entities derived from the log** (``models``, ``runs``, ``purchases``, ``licenses``): each row is a pure function of
  the events of one entity (a token id, a run). On a reorg the affected entities are deleted and rebuilt by replaying
  their surviving events, so derived state never disagrees with the log.
- **Content-addressed data** (``nft_metadata``, ``nft_metrics``): keyed by CID, immutable, fetched from IPFS and
  checked against the CID. Reorgs cannot change what a CID means, so these rows are never rolled back.
  ``model_metrics`` joins the two worlds — each model's verified metrics by token id, for the listing's metric
  filters — and is refreshed by whichever side changes (``model_metrics.py``).

Block numbers, token ids and run ids are 64-bit integers (``BIGINT``; a run id above 2**63 - 1 — RunRegistry allows
uint64 — would not fit and is refused by the database). Wei and 18-decimal USD amounts are stored as decimal strings
for exactness and, where the API sorts or filters on them, also as floats (``price_usd``).

**The listing is served from pre-rendered JSON.** ``GET /models`` is the hot endpoint, so the rows it reads carry
their part of the response already serialized: ``models.listing_json`` (the model's own fields, written by the
indexer from the projection) and ``nft_metadata.name_json`` / ``metrics_json`` (the document's name and its verified
metrics, written by the metadata fetcher). A page is one indexed query whose rows are spliced into the response
(``listing_json.py``) — no per-row ORM objects, dicts or Pydantic validation. Every filter/sort combination the API
offers has a composite index that yields rows already in page order (all ending in ``token_id``, the tie-breaker),
so a page never sorts and ``OFFSET`` skips index entries only. The price sorts order by ``price_usd IS NULL`` first
(unpriced models last in both directions); the expression indexes below make that an index scan on SQLite and
PostgreSQL alike.

``migrations.create_or_upgrade`` creates all this, and upgrades an index database written by an older version.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

index_cursor = Table(
    "index_cursor",
    metadata,
    Column("id", Integer, primary_key=True),  # always 1
    Column("chain_id", Integer, nullable=False),
    Column("next_block", BigInteger, nullable=False),
)

# Rows per counted table (``counts.py``), kept by the indexer in the transaction that changes them: /status and the
# unfiltered listing read their totals here instead of counting every row.
index_counts = Table(
    "index_counts",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

index_blocks = Table(
    "index_blocks",
    metadata,
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(66), nullable=False),
)

index_events = Table(
    "index_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False),
    Column("block_hash", String(66), nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("tx_hash", String(66), nullable=False),
    Column("contract", String(64), nullable=False),
    Column("event", String(64), nullable=False),
    Column("entity_kind", String(16), nullable=False),
    Column("entity_id", String(96), nullable=False),
    Column("args", Text, nullable=False),
    UniqueConstraint("block_hash", "log_index", name="uq_index_events_position"),
    Index("ix_index_events_block", "block_number"),
    Index("ix_index_events_entity", "entity_kind", "entity_id", "block_number", "log_index"),
)

models = Table(
    "models",
    metadata,
    Column("token_id", BigInteger, primary_key=True, autoincrement=False),
    Column("owner", String(42), nullable=False),
    Column("minter", String(42), nullable=False),
    Column("pipeline_id", String(66), nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("anchor_root", String(66), nullable=False),
    Column("manifest_cid", Text, nullable=False),
    Column("token_uri", Text),
    Column("metadata_cid", String(128)),
    Column("ip_id", String(42)),
    Column("license_template", String(42)),
    Column("license_terms_ids", Text, nullable=False, default="[]"),  # JSON list of attached terms ids
    Column("listed", Boolean, nullable=False, default=False),
    Column("seller", String(42)),
    Column("listing_terms_id", String(78)),
    Column("price_usd_units", String(78)),  # 18-decimal USD, exact
    Column("price_usd", Float),  # the same in USD, for sorting and filtering
    Column("sales", Integer, nullable=False, default=0),
    Column("family_id", BigInteger),
    Column("version", Integer),
    Column("stage", String(66)),
    Column("minted_block", BigInteger, nullable=False),
    Column("minted_tx", String(66), nullable=False),
    Column("updated_block", BigInteger, nullable=False),
    # The model's own ModelSummary fields between "name" and "metadata_status", rendered (see the module docstring).
    Column("listing_json", Text),
    Index("ix_models_minted", "minted_block", "token_id"),
    Index("ix_models_owner_minted", "owner", "minted_block", "token_id"),
    Index("ix_models_listed_minted", "listed", "minted_block", "token_id"),
    Index("ix_models_owner_token", "owner", "token_id"),
    Index("ix_models_listed_token", "listed", "token_id"),
    Index("ix_models_metadata_token", "metadata_cid", "token_id"),
    Index("ix_models_ip", "ip_id"),
    Index("ix_models_run", "pipeline_id", "run_id"),
    Index("ix_models_family", "family_id", "version"),
)

runs = Table(
    "runs",
    metadata,
    Column("key", String(96), primary_key=True),  # "<pipelineId hex>-<runId>"
    Column("pipeline_id", String(66), nullable=False),
    Column("run_id", BigInteger, nullable=False),
    Column("merkle_root", String(66), nullable=False),
    Column("manifest_cid", Text, nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Column("tx_hash", String(66), nullable=False),
)
# The order of GET /runs (newest anchor first, then by key): pages are walks of this index.
Index("ix_runs_newest", runs.c.block_number.desc(), runs.c.key)
Index("ix_runs_pipeline_newest", runs.c.pipeline_id, runs.c.block_number.desc(), runs.c.key)

purchases = Table(
    "purchases",
    metadata,
    Column("tx_hash", String(66), primary_key=True),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("token_id", BigInteger, nullable=False),
    Column("buyer", String(42), nullable=False),
    Column("seller", String(42), nullable=False),
    Column("price_usd_units", String(78), nullable=False),
    Column("paid_wei", String(78), nullable=False),
    Column("license_token_id", String(78), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_purchases_token", "token_id"),
    Index("ix_purchases_buyer", "buyer"),
)

licenses = Table(
    "licenses",
    metadata,
    Column("tx_hash", String(66), primary_key=True),
    Column("log_index", Integer, primary_key=True, autoincrement=False),
    Column("token_id", BigInteger, nullable=False),
    Column("licensor_ip_id", String(42), nullable=False),
    Column("license_terms_id", String(78), nullable=False),
    Column("receiver", String(42), nullable=False),
    Column("amount", String(78), nullable=False),
    Column("start_license_token_id", String(78), nullable=False),
    Column("block_number", BigInteger, nullable=False),
    Index("ix_licenses_token", "token_id"),
    Index("ix_licenses_receiver", "receiver"),
)

nft_metadata = Table(
    "nft_metadata",
    metadata,
    Column("cid", String(128), primary_key=True),
    Column("status", String(16), nullable=False),  # "verified" | "invalid" | "unavailable"
    Column("name", Text),
    Column("description", Text),
    Column("document", Text),  # the verified JSON, verbatim
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("fetched_at", Float, nullable=False),
    Column("name_json", Text),  # ``name`` as JSON (``null`` when absent), for the listing
    Column("metrics_json", Text),  # the verified metrics as a JSON object (``{}`` unless verified), for the listing
    # The version of ``metric_values.document_metrics`` that extracted this document's metrics (NULL: an older one;
    # the upgrade extracts them again from ``document``).
    Column("metrics_version", Integer),
)

nft_metrics = Table(
    "nft_metrics",
    metadata,
    Column("cid", String(128), ForeignKey("nft_metadata.cid", ondelete="CASCADE"), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("value", Float, nullable=False),  # the nearest double, for people reading the database
    Column("exact", Text),  # the decimal as the document states it (``metric_values.py``)
    Column("sort_key", LargeBinary),  # byte order = numeric order: what filters and metric sorts compare
    Index("ix_nft_metrics_name_key", "name", "sort_key", "cid"),
)

# Each model's verified metrics, by token (``model_metrics.py``): the metric filters and sorts of GET /models walk
# these indexes alone, instead of joining every matching document to its models.
model_metrics = Table(
    "model_metrics",
    metadata,
    Column("token_id", BigInteger, primary_key=True, autoincrement=False),
    Column("name", String(128), primary_key=True),
    Column("sort_key", LargeBinary, nullable=False),
)
Index("ix_model_metrics_asc", model_metrics.c.name, model_metrics.c.sort_key, model_metrics.c.token_id)
Index("ix_model_metrics_desc", model_metrics.c.name, model_metrics.c.sort_key.desc(), model_metrics.c.token_id)
Index("ix_model_metrics_token", model_metrics.c.name, model_metrics.c.token_id, model_metrics.c.sort_key)

model_keys = Table(
    "model_keys",
    metadata,
    Column("token_id", BigInteger, primary_key=True, autoincrement=False),
    Column("sealed_key", Text, nullable=False),  # hex of the data key sealed with the service key
    Column("key_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)

def _price_order_index(leading: tuple[str, ...], *, descending: bool) -> Index:
    """``(leading..., price_usd IS NULL, price_usd [DESC], token_id)``: the row order of a price sort."""
    name = "ix_models_" + "".join(f"{c}_" for c in leading) + ("price_desc" if descending else "price_asc")
    price = models.c.price_usd.desc() if descending else models.c.price_usd
    # An Index over a table's columns attaches itself to that table (so create_all creates it).
    return Index(name, *(models.c[c] for c in leading), models.c.price_usd.is_(None), price, models.c.token_id)


PRICE_ORDER_INDEXES = tuple(
    _price_order_index(leading, descending=descending)
    for leading in ((), ("listed",), ("owner",))
    for descending in (False, True)
)
