"""``ManifestArchive``: the local copy of every anchored manifest (a table in the metadata database).

The manifest is written here *before* its anchor is enqueued, so verification works offline and does not depend on
IPFS: the bytes, their CID and their Merkle root are all in the same database as the run itself. The table has its
own ``MetaData`` (the engine's schema is never touched) and works on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import time
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    Engine,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    bindparam,
    select,
)
from sqlalchemy.exc import IntegrityError

from ..errors import MetadataStoreError
from ..sql import translate_errors
from .manifest import RunManifest


@dataclass(frozen=True)
class StoredManifest:
    """A manifest as archived: its exact bytes, CID and root at the time the run ended."""

    pipeline_id: bytes
    run_id: int
    root: bytes
    cid: str
    data: bytes
    created_at: float

    def manifest(self) -> RunManifest:
        return RunManifest.from_bytes(self.data)


class ManifestArchive:
    """Save/load manifests by ``(pipeline_id, run_id)``; saving the same manifest twice is a no-op."""

    def __init__(self, engine: Engine, table_name: str = "anacostia_run_manifests") -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.table = Table(
            table_name,
            self.metadata,
            Column("pipeline_id", String(66), nullable=False),
            Column("run_id", Integer, nullable=False),
            Column("root", String(66), nullable=False),
            Column("cid", Text, nullable=False),
            Column("manifest", LargeBinary, nullable=False),
            Column("created_at", Float, nullable=False),
            PrimaryKeyConstraint("pipeline_id", "run_id", name=f"pk_{table_name}"),
        )
        with self._translate("create the manifest table"):
            self.metadata.create_all(engine)
        # built once: every ended run saves and loads its manifest
        self._insert = self.table.insert()
        self._by_run = select(self.table).where(
            self.table.c.pipeline_id == bindparam("w_pipeline"), self.table.c.run_id == bindparam("w_run")
        )

    @staticmethod
    def _translate(what: str) -> AbstractContextManager[None]:
        return translate_errors(f"manifest archive: could not {what}", detail=False)

    def save(self, manifest: RunManifest, cid: str) -> StoredManifest:
        """Archive ``manifest``; an existing, identical entry is returned as is, a different one is an error."""
        data = manifest.to_bytes()
        pid = "0x" + manifest.pipeline_id.hex()
        written = StoredManifest(manifest.pipeline_id, manifest.run_id, manifest.root, cid, data, time.time())
        try:
            with self._translate("save a manifest"), self.engine.begin() as conn:
                conn.execute(self._insert, {
                    "pipeline_id": pid, "run_id": written.run_id, "root": "0x" + written.root.hex(), "cid": cid,
                    "manifest": data, "created_at": written.created_at,
                })
            return written  # committed: the archived row is exactly this one
        except MetadataStoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        stored = self.load(manifest.pipeline_id, manifest.run_id)
        if stored is None:  # pragma: no cover - the row that refused ours exists
            raise MetadataStoreError(f"manifest of run {manifest.run_id} vanished after saving")
        if stored.data != data:
            raise MetadataStoreError(
                f"run {manifest.run_id} already has a different archived manifest (root 0x{stored.root.hex()}); "
                "a run is anchored once — verify it with `anacostia-chain verify`"
            )
        return stored

    def load(self, pipeline_id: bytes, run_id: int) -> StoredManifest | None:
        with self._translate("load a manifest"), self.engine.connect() as conn:
            row = conn.execute(self._by_run, {"w_pipeline": "0x" + pipeline_id.hex(), "w_run": run_id}).first()
        if row is None:
            return None
        return StoredManifest(
            pipeline_id=pipeline_id,
            run_id=row.run_id,
            root=bytes.fromhex(row.root[2:]),
            cid=row.cid,
            data=bytes(row.manifest),
            created_at=row.created_at,
        )

    def run_ids(self, pipeline_id: bytes) -> set[int]:
        query = select(self.table.c.run_id).where(self.table.c.pipeline_id == "0x" + pipeline_id.hex())
        with self._translate("list manifests"), self.engine.connect() as conn:
            return {int(r) for r in conn.execute(query).scalars()}
