"""``model_metrics``: each model's verified metrics by token id, the table the listing's metric filters walk.

A metric belongs to a metadata document (``nft_metrics``, keyed by CID) and a model points at a document
(``models.metadata_cid``). Filtering 10,000 models by a metric through that join looked every match up in the other
table — most of the cost of such a request. ``model_metrics`` holds the join's result, ``(token_id, name, sort_key)``
for every model whose document is verified, with indexes in both metric orders and in token order, so a metric
filter, sort and count is a walk of one index.

It is derived data, refreshed in the transaction of whichever writer changes one side:

- the indexer, for the tokens whose model rows it wrote or rolled back (:func:`refresh_tokens`);
- the metadata fetcher, for the models pointing at a document it stored (:func:`refresh_document`);
- ``create_or_upgrade``, which fills it when the table is new (:func:`rebuild`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Insert, and_, delete, insert, select
from sqlalchemy.engine import Connection

from . import schema as s

_CHUNK = 500


def _verified_metrics(where: ColumnElement[bool]) -> Insert:
    """``INSERT … SELECT`` of the verified metrics of the models matching ``where``."""
    m, md, mt = s.models, s.nft_metadata, s.nft_metrics
    rows = (
        select(m.c.token_id, mt.c.name, mt.c.sort_key)
        .select_from(m)
        .join(md, and_(md.c.cid == m.c.metadata_cid, md.c.status == "verified"))
        .join(mt, mt.c.cid == m.c.metadata_cid)
        .where(where, mt.c.sort_key.is_not(None))
    )
    return insert(s.model_metrics).from_select(["token_id", "name", "sort_key"], rows)


def refresh_tokens(conn: Connection, token_ids: Sequence[int]) -> None:
    """Rewrite the rows of ``token_ids`` from their current model rows and documents (none for a deleted model)."""
    ids = list(token_ids)
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        conn.execute(delete(s.model_metrics).where(s.model_metrics.c.token_id.in_(chunk)))
        conn.execute(_verified_metrics(s.models.c.token_id.in_(chunk)))


def refresh_document(conn: Connection, cid: str) -> None:
    """Rewrite the rows of every model whose metadata is the document ``cid``."""
    tokens = select(s.models.c.token_id).where(s.models.c.metadata_cid == cid)
    conn.execute(delete(s.model_metrics).where(s.model_metrics.c.token_id.in_(tokens)))
    conn.execute(_verified_metrics(s.models.c.metadata_cid == cid))


def rebuild(conn: Connection) -> None:
    """Fill the table from scratch."""
    conn.execute(delete(s.model_metrics))
    conn.execute(_verified_metrics(s.models.c.token_id.is_not(None)))
