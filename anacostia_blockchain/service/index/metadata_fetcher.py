"""Fetches ERC-721 metadata JSON of indexed models from IPFS, verifying every byte against its CID.

Runs beside the indexer rather than inside it: an IPFS outage must delay metadata, never stall the chain index. The
``ContentStore`` it reads from (``EmbeddedBlockstore`` or ``KuboClient``) re-hashes each block against its CID, so
what lands in ``nft_metadata`` is exactly what the token URI committed to; content that fails verification is
recorded as ``invalid`` and never retried, content that cannot be reached is ``unavailable`` and retried with
backoff (``attempts`` counts them).

The metadata document is expected to follow the ERC-721 metadata JSON schema (``name``, ``description``, ``image``)
with the model's metrics as the project's writer puts them (``"properties": {"metrics": {"accuracy": "0.93"}}``,
exact decimal strings), as ``"metrics": {"accuracy": 0.93}`` or as OpenSea-style
``"attributes": [{"trait_type": "accuracy", "value": 0.93}]``; they are indexed exactly (``metric_values.py``).

Documents are untrusted: they are read as a stream and abandoned past :data:`MAX_DOCUMENT_BYTES`, and anything that
is not a plain JSON object of finite numbers and valid Unicode (NaN/Infinity, numbers beyond a double's range, nesting
deeper than the parser's recursion limit, unpaired surrogates) is ``invalid`` with the reason — it never reaches the
index or an API response, and it never stops the fetcher.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, insert, select

from ...errors import CorruptBlockError, InvalidCIDError, MetadataStoreError, StorageError, ValidationError
from ...sql import translate_errors
from ..background_loop import BackgroundLoop
from . import schema as s
from .listing_json import metadata_name_json
from .metric_values import document_metrics
from .migrations import create_or_upgrade, write_metrics

if TYPE_CHECKING:
    from ...ipfs import ContentStore

log = logging.getLogger(__name__)

MAX_DOCUMENT_BYTES = 1 << 20


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:32]} does not fit in a double")
    return value


def _bounded_int(text: str) -> int:
    value = int(text)  # ValueError past Python's 4,300-digit limit
    if not -_MAX_DOUBLE <= value <= _MAX_DOUBLE:
        raise ValueError(f"integer {text[:32]}... does not fit in a double")
    return value


_MAX_DOUBLE = int(sys.float_info.max)


def parse_metadata_document(raw: bytes) -> dict[str, Any]:
    """An untrusted metadata document as a JSON object, or :class:`ValidationError` saying why it is not one."""
    try:
        document = json.loads(raw, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_bounded_int)
        # lone surrogates ("\ud800") parse but cannot be stored or served as UTF-8
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except RecursionError as exc:
        raise ValidationError("metadata JSON is nested too deeply") from exc
    except (ValueError, UnicodeError) as exc:  # JSONDecodeError, UnicodeDecodeError/EncodeError are ValueErrors
        raise ValidationError(str(exc)) from exc
    if not isinstance(document, dict):
        raise ValidationError(f"metadata JSON is a {type(document).__name__}, not an object")
    return document


class MetadataFetcher(BackgroundLoop):
    """Resolves pending metadata CIDs of indexed models (see the module docstring)."""

    thread_name = "marketplace-metadata"

    def __init__(
        self, engine: Engine, store: ContentStore, *, retry_seconds: float = 30.0, poll_seconds: float = 1.0
    ) -> None:
        self.engine = engine
        self.store = store
        self.retry_seconds = retry_seconds
        self.poll_seconds = poll_seconds
        super().__init__()  # listeners hear ``{"type": "metadata", "resolved": n}`` after documents were stored
        create_or_upgrade(engine)

    def pending(self, limit: int = 100) -> list[str]:
        """Metadata CIDs referenced by models and not yet verified (unavailable ones once their backoff passed)."""
        now = time.time()
        with self.engine.connect() as conn:
            referenced = conn.execute(
                select(s.models.c.metadata_cid)
                .where(s.models.c.metadata_cid.is_not(None))
                .where(
                    ~s.models.c.metadata_cid.in_(
                        select(s.nft_metadata.c.cid).where(
                            (s.nft_metadata.c.status != "unavailable")
                            | (s.nft_metadata.c.fetched_at > now - self.retry_seconds)
                        )
                    )
                )
                .distinct()
                .limit(limit)
            ).scalars()
            return [str(cid) for cid in referenced]

    def fetch_once(self, limit: int = 100) -> int:
        """Fetch up to ``limit`` pending documents; returns how many were resolved (verified or invalid)."""
        resolved = 0
        with translate_errors("fetching metadata", detail=False):
            for cid in self.pending(limit):
                resolved += self._fetch(cid)
        if resolved:
            self.notify({"type": "metadata", "resolved": resolved})
        return resolved

    def _read(self, cid: str) -> bytes:
        """The document's bytes, streamed (every block verified by the store) and cut off past the size limit."""
        chunks: list[bytes] = []
        size = 0
        for chunk in self.store.cat_stream(cid):
            size += len(chunk)
            if size > MAX_DOCUMENT_BYTES:
                raise ValidationError(f"metadata is more than {MAX_DOCUMENT_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _fetch(self, cid: str) -> int:
        status, document, error = "verified", None, None
        try:
            document = parse_metadata_document(self._read(cid))
        except (CorruptBlockError, InvalidCIDError) as exc:
            status, error = "invalid", f"{type(exc).__name__}: {exc}"
        except ValidationError as exc:
            status, error = "invalid", f"not ERC-721 metadata JSON: {exc}"
        except StorageError as exc:
            status, error = "unavailable", f"{type(exc).__name__}: {exc}"
        name = str(document.get("name"))[:500] if document and document.get("name") is not None else None
        metrics = document_metrics(document) if document is not None else {}
        with self.engine.begin() as conn:
            previous = conn.execute(select(s.nft_metadata.c.attempts).where(s.nft_metadata.c.cid == cid)).scalar()
            conn.execute(delete(s.nft_metrics).where(s.nft_metrics.c.cid == cid))
            conn.execute(delete(s.nft_metadata).where(s.nft_metadata.c.cid == cid))
            conn.execute(
                insert(s.nft_metadata).values(
                    cid=cid,
                    status=status,
                    name=name,
                    name_json=metadata_name_json(name),  # the listing's pre-rendered parts (listing_json.py)
                    description=str(document.get("description")) if document and document.get("description") else None,
                    document=json.dumps(document) if document is not None else None,
                    error=error,
                    attempts=(previous or 0) + 1,
                    fetched_at=time.time(),
                )
            )
            write_metrics(conn, cid, metrics, verified=status == "verified")
        if status == "unavailable":
            log.info("metadata %s unavailable, will retry: %s", cid, error)
            return 0
        return 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.fetch_once() > 0
            except MetadataStoreError as exc:
                log.warning("metadata fetch failed: %s", exc)
                busy = False
            if not busy:
                self._stop.wait(self.poll_seconds)
