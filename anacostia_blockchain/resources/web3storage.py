"""``Web3StorageNode``: an output resource whose artifacts are packed into CARs and uploaded to Storacha.

Storacha is the current Web3.Storage; uploads go through its HTTP bridge (``ipfs.storacha.StorachaClient``). The
node keeps the rule *local first, network later*:

1. ``save_artifact(...)`` (same call forms as :class:`~.ipfs_store.IPFSStoreNode` and ``FilesystemStoreNode``)
   imports the content into a local content store (the embedded blockstore by default), pinned;
2. it exports the DAG as a CARv1 file into ``car_dir`` (written atomically) and computes the CAR's CID (codec
   ``car``, 0x0202) — the shard identity Storacha uses. This happens *before* recording (the ``before_record``
   hook): a CAR that cannot be written (full volume) refuses the artifact with ``ArtifactWriteError``, so no
   artifact is ever recorded without its upload;
3. it records the artifact in the metadata store with sha256, size and root CID, as produced by the executing run
   and node, and enqueues ``(kind="web3storage:<node name>", key=<root CID>, payload={root, car_cid, car_size})`` in the
   persistent SQL outbox (:mod:`anacostia_blockchain.outbox`) in the metadata database.

A background worker (started with the pipeline, stopped with it) claims due entries and uploads them: ``store/add``
-> presigned ``PUT`` -> ``upload/add``. Outcomes:

* success: the entry is ``confirmed`` with the upload facts; the local CAR file is deleted (the blocks stay pinned
  locally, so the CAR can always be re-exported);
* outage (timeouts, 5xx after the client's own retries): the entry is retried with exponential back-off — an outage
  only delays uploads;
* bad credentials or a shard over the size limit: the entry is parked ``failed`` (retrying cannot help);
  :meth:`Web3StorageNode.retry_failed` puts it back after the cause is fixed.

Exactly once: the key is the root CID, so saving the same content twice (or re-enqueuing after a crash) never makes
a second entry, and Storacha's ``store/add`` answers ``done`` for a shard it already holds, so an upload whose
confirmation was lost (the process died after the PUT) is not stored twice when it is retried. After a restart,
entries left ``pending`` are picked up again, entries left ``claimed`` by the dead process are released at once
(one process runs a given node name against a database; ``lease_seconds`` bounds how long a claim blocks other
workers otherwise), and any artifact of this resource that has no outbox entry (a crash between recording and
enqueuing) is enqueued at start-up.

:meth:`Web3StorageNode.upload_status` / :meth:`Web3StorageNode.uploads` report root CID, CAR CID and status
(``pending``, ``claimed``, ``confirmed``, ``failed``) with attempts and the last error; :meth:`Web3StorageNode.flush`
waits until nothing is pending (tests, scripts, a graceful shutdown).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from ..crypto.atomic_file import atomic_output
from ..engine.artifact import Artifact
from ..engine.metadata_store import BaseMetadataStoreNode
from ..errors import (
    ArtifactNotFoundError,
    ArtifactWriteError,
    ConfigurationError,
    OutboxError,
    ResourceError,
    StorachaAuthError,
    StorachaSizeLimitError,
    StorageError,
)
from ..ipfs import CID, ContentStore, EmbeddedBlockstore, StorachaClient, car_cid, default_repo_path
from ..outbox import CLAIMED, CONFIRMED, FAILED, PENDING, Backoff, Outbox, OutboxEntry, OutboxWorker
from .ipfs_store import ArtifactContent, IPFSStoreNode


@dataclass(frozen=True)
class UploadStatus:
    """Where one artifact's upload stands."""

    root: str
    car_cid: str
    car_size: int
    status: str
    attempts: int
    last_error: str | None

    @property
    def uploaded(self) -> bool:
        return self.status == CONFIRMED


class StorachaUploadWorker(OutboxWorker):
    """Delivers ``web3storage`` outbox entries for one node (see the module docstring for the outcomes)."""

    def __init__(self, node: Web3StorageNode, outbox: Outbox, *, batch_size: int = 8) -> None:
        super().__init__(outbox, node.outbox_kind, batch_size=batch_size, name=f"{node.name}-uploads")
        self.node = node

    def deliver(self, entries: list[OutboxEntry]) -> None:
        for entry in entries:
            try:
                result = self.node.upload(entry.payload)
            except (StorachaAuthError, StorachaSizeLimitError) as exc:
                self.node.log(f"upload of {entry.key} cannot succeed as configured: {exc}", level="ERROR")
                self.outbox.mark_failed(entry.id, f"{type(exc).__name__}: {exc}", retry=False)
            except (StorageError, ResourceError) as exc:
                self.node.log(f"upload of {entry.key} failed, will retry: {exc}", level="WARNING")
                self.outbox.mark_failed(entry.id, f"{type(exc).__name__}: {exc}")
            else:
                self.outbox.mark_confirmed(entry.id, result)
                self.node.car_path(entry.payload["root"]).unlink(missing_ok=True)
            finally:
                self.node._record_progress()


class Web3StorageNode(IPFSStoreNode):
    """Output resource uploading CARs to Storacha through a persistent outbox (see the module docstring)."""

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        *,
        client: StorachaClient,
        store: ContentStore | str | os.PathLike[str] | None = None,
        car_dir: str | os.PathLike[str] | None = None,
        import_options: dict[str, Any] | None = None,
        backoff: Backoff | None = None,
        lease_seconds: float = 900.0,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        super().__init__(
            name, metadata_store, store=store, monitoring=False, import_options=import_options, loggers=loggers
        )
        if not isinstance(client, StorachaClient):
            raise ConfigurationError(f"{name}: client must be a StorachaClient, got {type(client).__name__}")
        self.client = client
        repo = self.store.path if isinstance(self.store, EmbeddedBlockstore) else default_repo_path()
        self.car_dir = Path(car_dir) if car_dir is not None else repo / "car-outbox" / name
        self.backoff = backoff or Backoff(base=1.0, factor=2.0, cap=300.0)
        self.lease_seconds = lease_seconds
        self.outbox_kind = f"web3storage:{name}"
        self._outbox: Outbox | None = None
        self._worker: StorachaUploadWorker | None = None
        self._progress = threading.Condition()
        self._delivered = 0

    # --- lifecycle -----------------------------------------------------------------------------------------------
    def setup(self) -> None:
        """Open the outbox in the metadata database, enqueue anything a crash left out, start the uploader."""
        engine = getattr(self.metadata_store.runs, "engine", None)
        if engine is None:
            raise ConfigurationError(f"{self.name}: the metadata store has no SQL engine for the upload outbox")
        try:
            self.car_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ResourceError(f"{self.name}: cannot create {self.car_dir}: {exc.strerror or exc}") from exc
        self._outbox = Outbox(engine, backoff=self.backoff, lease_seconds=self.lease_seconds)
        self._release_stale_claims()
        self._enqueue_missing()
        self._worker = StorachaUploadWorker(self, self._outbox)
        self._worker.start()

    def teardown(self) -> None:
        try:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None
        finally:
            super().teardown()

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise ConfigurationError(f"{self.name}: the upload outbox opens when the pipeline launches")
        return self._outbox

    # --- producing -----------------------------------------------------------------------------------------------
    def save_artifact(
        self,
        content_or_name: bytes | str | os.PathLike[str],
        content: ArtifactContent | None = None,
        *,
        name: str | None = None,
        derived_from: Iterable[Artifact | int] | None = None,
    ) -> Artifact:
        """Store locally and record (as :meth:`IPFSStoreNode.save_artifact`), then queue the CAR for upload."""
        artifact = super().save_artifact(content_or_name, content, name=name, derived_from=derived_from)
        self._enqueue(artifact)
        return artifact

    def record_current(
        self, cid: str, *, name: str | None = None, derived_from: Iterable[Artifact | int] | None = None,
        sha256: str | None = None,
    ) -> Artifact:
        artifact = super().record_current(cid, name=name, derived_from=derived_from, sha256=sha256)
        self._enqueue(artifact)
        return artifact

    def before_record(self, cid: str) -> None:
        """Pack the upload's CAR *before* the artifact is recorded: if it cannot be written (a full volume), the
        artifact is refused (:class:`ArtifactWriteError`, nothing recorded, nothing queued) instead of being recorded
        without an upload. The content stays pinned in the local store, where saving it again finds it."""
        if self.outbox.get(self.outbox_kind, cid) is None:
            self._export_car(cid)

    def _enqueue(self, artifact: Artifact) -> OutboxEntry:
        if artifact.cid is None:
            raise ArtifactWriteError(f"{self.name}: {artifact.location} has no CID to upload")
        existing = self.outbox.get(self.outbox_kind, artifact.cid)
        if existing is not None:
            return existing
        car_file = self._export_car(artifact.cid)
        payload = {"root": artifact.cid, "car_cid": str(car_cid(car_file)), "car_size": car_file.stat().st_size}
        try:
            return self.outbox.enqueue(self.outbox_kind, artifact.cid, payload)
        except OutboxError as exc:
            raise ArtifactWriteError(f"{self.name}: could not queue the upload of {artifact.cid}: {exc}") from exc

    def _release_stale_claims(self) -> None:
        """Claims still held when this node starts belong to a process that died: take them back at once."""
        for entry in self.outbox.entries(self.outbox_kind, CLAIMED):
            self.log(f"resuming the upload of {entry.key}, interrupted in an earlier process", level="WARNING")
            self.outbox.release(entry.id)

    def _enqueue_missing(self) -> None:
        for artifact in self.list_artifacts():
            if artifact.cid is not None and self.outbox.get(self.outbox_kind, artifact.cid) is None:
                self.log(f"queueing {artifact.location} ({artifact.cid}), recorded but never queued", level="WARNING")
                self._enqueue(artifact)

    # --- CARs and uploads (the worker calls upload) --------------------------------------------------------------
    def car_path(self, root: str) -> Path:
        return self.car_dir / f"{root}.car"

    def _export_car(self, root: str) -> Path:
        path = self.car_path(root)
        if path.exists():
            return path
        try:
            with atomic_output(path) as handle:
                self.store.export_car(CID.parse(root), handle)  # type: ignore[arg-type]
        except StorageError as exc:
            raise ArtifactWriteError(f"{self.name}: could not pack {root} into a CAR: {exc}") from exc
        return path

    def upload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Upload one queued CAR (re-exported from the local store if its file is gone); returns the facts."""
        path = self._export_car(payload["root"])
        upload = self.client.upload_car(path, payload["root"])
        if str(upload.car_cid) != payload["car_cid"]:
            raise ArtifactWriteError(
                f"{self.name}: the CAR of {payload['root']} changed ({upload.car_cid} != {payload['car_cid']})"
            )
        self.log(f"uploaded {payload['root']} (CAR {upload.car_cid}, {upload.size} bytes)")
        return {"root": str(upload.root), "car_cid": str(upload.car_cid), "size": upload.size,
                "already_stored": upload.already_stored}  # fmt: skip

    # --- status --------------------------------------------------------------------------------------------------
    def upload_status(self, artifact_or_root: Artifact | str) -> UploadStatus:
        root = artifact_or_root.cid if isinstance(artifact_or_root, Artifact) else artifact_or_root
        entry = self.outbox.get(self.outbox_kind, str(root)) if root is not None else None
        if entry is None:
            raise ArtifactNotFoundError(f"{self.name}: no upload queued for {root}")
        return _status(entry)

    def uploads(self) -> list[UploadStatus]:
        return [_status(entry) for entry in self.outbox.entries(self.outbox_kind)]

    def flush(self, timeout: float = 30.0) -> bool:
        """Upload what is due and wait until nothing is pending or in flight; ``True`` when every upload is
        ``confirmed`` or parked as ``failed``, ``False`` at ``timeout``. Wakes on each finished upload (no polling)."""
        worker = self._worker
        if worker is None:
            raise ConfigurationError(f"{self.name}: the uploader runs while the pipeline is launched")
        deadline = time.monotonic() + timeout
        while True:
            with self._progress:
                seen = self._delivered
            worker.run_once()
            counts = self.outbox.counts(self.outbox_kind)
            if counts[PENDING] + counts[CLAIMED] == 0:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            due = None if counts[CLAIMED] else self.outbox.seconds_until_due(self.outbox_kind)
            wait = remaining if due is None else min(remaining, due)
            with self._progress:
                self._progress.wait_for(partial(self._delivered_since, seen), wait)

    def _delivered_since(self, seen: int) -> bool:
        return self._delivered != seen

    def _record_progress(self) -> None:
        """Called by the uploader after each entry it marked (confirmed, failed or retried)."""
        with self._progress:
            self._delivered += 1
            self._progress.notify_all()

    def retry_failed(self) -> int:
        """Put uploads parked as ``failed`` back in the queue (after fixing credentials or limits)."""
        failed = self.outbox.entries(self.outbox_kind, FAILED)
        for entry in failed:
            self.outbox.requeue(entry.id)
        return len(failed)


def _status(entry: OutboxEntry) -> UploadStatus:
    payload = entry.payload
    return UploadStatus(
        root=payload["root"],
        car_cid=payload["car_cid"],
        car_size=int(payload["car_size"]),
        status=entry.status,
        attempts=entry.attempts,
        last_error=entry.last_error,
    )
