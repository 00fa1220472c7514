"""``S3StoreNode``: the objects under a prefix of an S3 (or S3-compatible) bucket as artifacts, each with its CID.

**Input** (``monitoring=True``, the default). At launch the prefix is listed (``ListObjectsV2``, every page) and
reconciled with the metadata store: objects not recorded yet become ``new`` artifacts (``init_state`` the very first
time), objects gone are marked deleted, and an object whose size and ``LastModified`` (whole seconds) match its
recorded version is not downloaded again. Then the prefix is listed every ``poll_interval`` seconds: every new
object, and every object whose ``ETag`` changed, is downloaded once and recorded as a new ``new`` version — unless
its content (sha256) is the one already recorded, so putting the same bytes again triggers nothing. With
``events_queue`` (the URL of an SQS queue receiving the bucket's ``s3:ObjectCreated:*`` and ``s3:ObjectRemoved:*``
notifications, directly or through SNS) the node long-polls the queue between listings and picks an object up as
soon as its event arrives; the listing stays as the safety net for lost events.

**Output**: ``save_artifact(name, content)`` streams ``content`` (bytes, text, a binary file object or a function
writing to one, as for the folder resources) to ``prefix + name`` — one ``PutObject``, or a multipart upload above
``multipart_threshold`` — and records it as produced by the executing run and node, with its lineage.
``record_current(name)`` records an object something else (a remote worker) already put there.

Every object is read once when it is recorded: its sha256 and its CID (UnixFS, the project's Kubo-identical importer;
``import_options`` choose the profile) are computed in the same streamed pass, so lineage and anchors stay
content-addressed. With ``content_store`` the content is also added there (an embedded blockstore or a Kubo node:
where executors' workers read inputs by CID). Reading an artifact back (``open_artifact``, ``read_bytes``) counts as
a read of the executing node (lineage); it is served by CID from the content store when that holds it, else from the
bucket — the recorded ``VersionId`` in a versioned bucket, else the object's versions are searched for the recorded
content — and its sha256 is checked.

Credentials come from boto3's standard chain (environment, ``profile`` or ``AWS_PROFILE``, shared config and
credentials files, SSO, container and instance roles), or from the ``client`` the caller built; they are never
logged, in a repr or in an error. Every failure of the store is an
:class:`~anacostia_blockchain.errors.ObjectStoreError` naming the bucket, the key and the S3 error code (see
:mod:`._client`, the only module that imports boto3 and botocore).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, BinaryIO, NamedTuple, cast
from urllib.parse import unquote_plus

from ...engine import Artifact, ArtifactState, BaseMetadataStoreNode, BaseResourceNode
from ...errors import (
    ArtifactNotFoundError,
    ConfigurationError,
    ContentMismatchError,
    NoActiveRunError,
    ObjectStoreError,
    StorageError,
)
from ...ipfs import ContentStore
from ...ipfs.importer import import_stream
from ..ipfs_store import open_store
from ._client import is_missing, make_clients, translate_errors, upload

#: What ``save_artifact`` accepts (as ``FilesystemStoreNode.save_artifact``).
ObjectContent = bytes | bytearray | memoryview | str | IO[bytes] | Callable[[IO[bytes]], Any]

_MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """What the store says about one object: its key, ``ETag``, size, ``LastModified`` (whole seconds, in ns) and,
    in a versioned bucket and when the reply carries it, its ``VersionId``."""

    key: str
    etag: str
    size: int
    modified_ns: int
    version: str | None = None


class _Seen(NamedTuple):
    """The object version the node last saw at a location, and the sha256 recorded for that location."""

    version: ObjectVersion
    sha256: str


class _Fetched(NamedTuple):
    location: str
    version: ObjectVersion
    sha256: str
    size: int
    cid: str


class _Hashing(io.RawIOBase):
    """A readable stream computing the sha256 and size of what is read through it."""

    def __init__(self, source: Any) -> None:
        self._source = source
        self.digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        data = self._source.read(len(target))
        self.digest.update(data)
        self.size += len(data)
        target[: len(data)] = data
        return len(data)


class S3StoreNode(BaseResourceNode):
    """Objects under ``prefix`` of ``bucket`` as artifacts (see the module docstring). Locations are the keys
    without the prefix. Give ``client`` (a boto3 S3 client) or let the node make one from the standard credential
    chain with ``endpoint_url`` (an S3-compatible server), ``region`` and ``profile``."""

    def __init__(
        self,
        name: str,
        metadata_store: BaseMetadataStoreNode,
        *,
        bucket: str,
        prefix: str = "",
        client: Any = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        profile: str | None = None,
        content_store: ContentStore | str | None = None,
        import_options: dict[str, Any] | None = None,
        poll_interval: float = 10.0,
        events_queue: str | None = None,
        sqs_client: Any = None,
        events_wait: float = 2.0,
        page_size: int = 1000,
        download_workers: int = 4,
        multipart_threshold: int = 8 * _MIB,
        monitoring: bool = True,
        init_state: str | ArtifactState = ArtifactState.NEW,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        super().__init__(name, metadata_store, loggers, monitoring=monitoring)
        if not isinstance(bucket, str) or not bucket or "/" in bucket:
            raise ConfigurationError(f"{name}: bucket must be a bucket name, got {bucket!r}")
        if not isinstance(prefix, str) or prefix.startswith("/"):
            raise ConfigurationError(f"{name}: prefix must be a key prefix such as 'raw/', got {prefix!r}")
        if poll_interval <= 0 or events_wait < 1 or events_wait > 20:
            raise ConfigurationError(f"{name}: poll_interval must be > 0 and events_wait 1..20 seconds")
        if not 1 <= page_size <= 1000 or download_workers < 1 or multipart_threshold < 5 * _MIB:
            raise ConfigurationError(
                f"{name}: page_size must be 1..1000, download_workers >= 1 and multipart_threshold >= 5 MiB")
        if str(init_state) not in (ArtifactState.NEW.value, ArtifactState.OLD.value):
            raise ConfigurationError(f"{name}: init_state must be 'new' or 'old', got {init_state!r}")
        self.init_state = ArtifactState(init_state)
        self.bucket, self.prefix = bucket, prefix
        self.poll_interval, self.events_wait = float(poll_interval), float(events_wait)
        self.page_size, self.download_workers = int(page_size), int(download_workers)
        self.multipart_threshold = int(multipart_threshold)
        self.events_queue = events_queue
        self.content_store = open_store(content_store) if content_store is not None else None
        self.import_options = dict(import_options or {})
        self.s3: Any = client
        self.sqs: Any = sqs_client
        wants_sqs = events_queue is not None and sqs_client is None
        if client is None or wants_sqs:
            made_s3, made_sqs = make_clients(endpoint_url=endpoint_url, region=region, profile=profile,
                                             events=wants_sqs)
            self.s3 = client if client is not None else made_s3
            self.sqs = sqs_client if sqs_client is not None else made_sqs
        self._seen: dict[str, _Seen] = {}  # location -> the version last seen there and its recorded sha256
        self._versions: dict[int, str] = {}  # artifact id -> the VersionId holding its content
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, 's3://{self.bucket}/{self.prefix}')"

    def uri(self, location: str = "") -> str:
        """``s3://bucket/prefix<location>``."""
        return f"s3://{self.bucket}/{self.prefix}{location}"

    @contextmanager
    def _request(self, operation: str, key: str | None = None) -> Iterator[None]:
        with translate_errors(operation, bucket=self.bucket, key=key, prefix=self.prefix, node=self.name):
            yield

    # --- detection -------------------------------------------------------------------------------------------------
    def setup(self) -> None:
        with self._request("open"):
            self.s3.head_bucket(Bucket=self.bucket)
        if self.monitoring:
            self.reconcile()

    def listing(self) -> dict[str, ObjectVersion]:
        """The objects under the prefix now, by location (every page of ``ListObjectsV2``; "folder" keys ending in
        ``/`` are skipped)."""
        found: dict[str, ObjectVersion] = {}
        with self._request("list"):
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix, PaginationConfig={"PageSize": self.page_size})
            for page in pages:
                for item in page.get("Contents", []):
                    location = item["Key"][len(self.prefix):]
                    if location and not location.endswith("/"):
                        found[location] = ObjectVersion(item["Key"], item["ETag"], int(item["Size"]),
                                                        _ns(item["LastModified"]))
        return found

    def reconcile(self) -> int:
        """Bring the metadata store in line with the bucket (see the module docstring); returns how many versions
        were recorded."""
        present = self.metadata_store.runs.present_artifacts(self.name)
        first_time = not present and not self.list_artifacts()
        listed = self.listing()
        todo: list[tuple[str, str]] = []
        for location, version in listed.items():
            known = present.get(location)
            if known is not None and known.size == version.size and known.mtime_ns == version.modified_ns:
                with self._lock:
                    self._seen[location] = _Seen(version, known.sha256)
            else:
                todo.append((location, version.key))
        recorded = {location: artifact.sha256 for location, artifact in present.items()}
        added = self._ingest(todo, self.init_state if first_time else ArtifactState.NEW, recorded)
        gone = [location for location in present if location not in listed]
        if gone:
            self.metadata_store.runs.mark_artifacts_deleted(self.name, gone)
        return added

    def poll(self) -> int:
        """One listing: record new and changed objects, mark vanished ones deleted; returns how many versions were
        recorded."""
        listed = self.listing()
        with self._lock:
            seen = dict(self._seen)
        todo = [(location, version.key) for location, version in listed.items()
                if location not in seen or seen[location].version.etag != version.etag]
        added = self._ingest(todo, ArtifactState.NEW, {location: s.sha256 for location, s in seen.items()})
        with self._lock:
            gone = [location for location in self._seen if location not in listed]
            for location in gone:
                del self._seen[location]
        if gone:
            self.metadata_store.runs.mark_artifacts_deleted(self.name, gone)
        return added

    def serve(self) -> None:
        next_listing = time.monotonic() + self.poll_interval
        while not self.stopping:
            try:
                remaining = next_listing - time.monotonic()
                if remaining > 0:
                    if self.sqs is not None and self.events_queue is not None:
                        self._drain_events(min(remaining, self.events_wait))
                    else:
                        self._halt.wait(remaining)
                    continue
                next_listing = time.monotonic() + self.poll_interval
                self.poll()
            except ObjectStoreError as exc:  # keep watching: the store may come back
                self.log(f"{exc}; retrying", level="ERROR")
                self._halt.wait(min(self.poll_interval, 30.0))

    def _ingest(self, todo: list[tuple[str, str]], state: ArtifactState, recorded: dict[str, str]) -> int:
        """Download each ``(location, key)`` (``download_workers`` at a time) and record those whose content is not
        the one ``recorded`` for their location. An object that cannot be read is logged and tried again at the next
        listing: one unreadable object never stops the others."""
        if not todo:
            return 0
        if len(todo) == 1 or self.download_workers == 1:
            fetched = [self._try_fetch(location, key) for location, key in todo]
        else:
            with ThreadPoolExecutor(min(self.download_workers, len(todo)),
                                    thread_name_prefix=f"{self.name}-download") as pool:
                fetched = list(pool.map(lambda item: self._try_fetch(*item), todo))
        return sum(self._record(item, state, recorded.get(item.location)) for item in fetched if item is not None)

    def _try_fetch(self, location: str, key: str) -> _Fetched | None:
        try:
            return self._fetch(location, key)
        except (ObjectStoreError, StorageError) as exc:  # the bucket, or the content store (a full disk)
            self.log(f"{exc}; not recorded, tried again at the next listing", level="ERROR")
            return None

    def _record(self, fetched: _Fetched, state: ArtifactState, recorded_sha256: str | None) -> bool:
        with self._lock:
            self._seen[fetched.location] = _Seen(fetched.version, fetched.sha256)
        if fetched.sha256 == recorded_sha256:
            return False  # the same bytes put again: nothing new
        artifact = self.record_detected(fetched.location, fetched.sha256, fetched.size, state=state,
                                        mtime_ns=fetched.version.modified_ns, cid=fetched.cid)
        self._remember_version(artifact, fetched.version)
        return True

    def _fetch(self, location: str, key: str, version_id: str | None = None) -> _Fetched | None:
        """Download an object once: its version as the reply describes it, sha256, size and CID; ``None`` if it is
        gone."""
        options = {"VersionId": version_id} if version_id else {}
        try:
            with self._request("download", key):
                reply = self.s3.get_object(Bucket=self.bucket, Key=key, **options)
                version = ObjectVersion(key, reply["ETag"], int(reply["ContentLength"]), _ns(reply["LastModified"]),
                                        reply.get("VersionId"))
                with reply["Body"] as body:
                    sha256, size, cid = self._fingerprint(body)
        except ObjectStoreError as exc:
            if is_missing(exc):
                return None
            raise
        return _Fetched(location, version, sha256, size, cid)

    def _head(self, key: str) -> ObjectVersion | None:
        try:
            with self._request("read the metadata of", key):
                head = self.s3.head_object(Bucket=self.bucket, Key=key)
        except ObjectStoreError as exc:
            if is_missing(exc):
                return None
            raise
        return ObjectVersion(key, head["ETag"], int(head["ContentLength"]), _ns(head["LastModified"]),
                             head.get("VersionId"))

    def _fingerprint(self, stream: Any) -> tuple[str, int, str]:
        """sha256, size and CID of a stream, in one pass (the content added to the content store when there is
        one)."""
        hashing = _Hashing(stream)
        reader = cast(BinaryIO, io.BufferedReader(hashing, buffer_size=_MIB))
        store = self.content_store
        if store is None:
            cid = import_stream(reader, None, **self.import_options).cid
        elif hasattr(store, "add_stream"):
            cid = store.add_stream(reader, pin=True, **self.import_options).cid
        else:
            cid = store.add_bytes(reader.read(), pin=True, **self.import_options).cid
        return hashing.digest.hexdigest(), hashing.size, str(cid)

    def _remember_version(self, artifact: Artifact, version: ObjectVersion) -> None:
        if version.version and version.version != "null":
            with self._lock:
                self._versions[artifact.id] = version.version

    # --- bucket notifications --------------------------------------------------------------------------------------
    def _drain_events(self, seconds: float) -> None:
        """Long-poll the queue (``seconds``, 1..20) and apply the bucket notifications received."""
        with self._request("receive the bucket notifications (SQS) of"):
            reply = self.sqs.receive_message(QueueUrl=self.events_queue, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=max(1, min(int(seconds), 20)))
        for message in reply.get("Messages", []):
            for record in _records(message.get("Body", "")):
                self._apply_event(record)
            with self._request("delete a bucket notification (SQS) of"):
                self.sqs.delete_message(QueueUrl=self.events_queue, ReceiptHandle=message["ReceiptHandle"])

    def _apply_event(self, record: dict[str, Any]) -> None:
        """An object under the prefix was created or removed: check it, record a new version or mark it deleted."""
        s3 = record.get("s3") or {}
        obj = s3.get("object") or {}
        key = unquote_plus(str(obj.get("key", "")))
        location = key[len(self.prefix):]
        if (s3.get("bucket") or {}).get("name") != self.bucket or not key.startswith(self.prefix) \
                or not location or location.endswith("/"):
            return
        with self._lock:
            seen = self._seen.get(location)
        if str(record.get("eventName", "")).startswith("ObjectRemoved"):
            version = self._head(key)  # removing one version of a versioned object may leave the object there
            if version is None:
                with self._lock:
                    self._seen.pop(location, None)
                if seen is not None:
                    self.metadata_store.runs.mark_artifacts_deleted(self.name, [location])
                return
            if seen is not None and seen.version.etag == version.etag:
                return
        elif seen is not None and seen.version.etag.strip('"') == str(obj.get("eTag", "")).strip('"'):
            return  # the version already recorded
        self._ingest([(location, key)], ArtifactState.NEW, {location: seen.sha256} if seen else {})

    # --- reading ---------------------------------------------------------------------------------------------------
    def open_artifact(self, artifact: Artifact) -> BinaryIO:
        """The artifact's content (checked against its sha256); counts as read by the executing node."""
        self.record_reads([artifact])
        if self.content_store is not None and artifact.cid is not None and self.content_store.has(artifact.cid):
            data = self.content_store.cat(artifact.cid)
            if hashlib.sha256(data).hexdigest() == artifact.sha256:
                return io.BytesIO(data)
        return io.BytesIO(self._download_recorded(artifact))

    def read_bytes(self, artifact: Artifact) -> bytes:
        """The artifact's content as bytes (see :meth:`open_artifact`)."""
        with self.open_artifact(artifact) as handle:
            return handle.read()

    def _download_recorded(self, artifact: Artifact) -> bytes:
        """The recorded content from the bucket: the remembered version, else the current object, else any version
        of the key holding that content (a versioned bucket keeps them)."""
        key = self.prefix + artifact.location
        with self._lock:
            version_id = self._versions.get(artifact.id)
        tried: set[str] = set()
        data = self._get(key, version_id)
        if data is not None:
            if hashlib.sha256(data).hexdigest() == artifact.sha256:
                return data
            tried.add(hashlib.md5(data, usedforsecurity=False).hexdigest())
        for candidate in self._versions_of(key):
            if candidate.size != artifact.size or candidate.etag.strip('"') in tried or candidate.version is None:
                continue
            data = self._get(key, candidate.version)
            if data is not None and hashlib.sha256(data).hexdigest() == artifact.sha256:
                with self._lock:
                    self._versions[artifact.id] = candidate.version
                return data
        raise ArtifactNotFoundError(f"{self.name}: {self.uri(artifact.location)} no longer holds the recorded content "
                                    f"(sha256 {artifact.sha256[:12]}...) and no version of it does")

    def _get(self, key: str, version_id: str | None) -> bytes | None:
        options = {"VersionId": version_id} if version_id else {}
        try:
            with self._request("download", key), \
                    self.s3.get_object(Bucket=self.bucket, Key=key, **options)["Body"] as body:
                return cast(bytes, body.read())
        except ObjectStoreError as exc:
            if is_missing(exc):
                return None
            raise

    def _versions_of(self, key: str) -> Iterator[ObjectVersion]:
        with self._request("list the versions of", key):
            for page in self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key):
                for item in page.get("Versions", []):
                    if item["Key"] == key:
                        yield ObjectVersion(key, item["ETag"], int(item["Size"]), _ns(item["LastModified"]),
                                            item.get("VersionId"))

    # --- writing ---------------------------------------------------------------------------------------------------
    def save_artifact(self, name: str, content: ObjectContent, *,
                      derived_from: Iterable[Artifact | int] | None = None) -> Artifact:
        """Put ``content`` at ``prefix + name`` and record it as produced by the executing run and node.
        ``derived_from``: its lineage (each must have been read by the executing node; checked before anything is
        written); default: everything the execution read so far. If the upload fails nothing is recorded."""
        if not isinstance(name, str) or not name or name.startswith("/") or name.endswith("/"):
            raise ConfigurationError(f"{self.name}: an object name must be a relative key, got {name!r}")
        if self.metadata_store.current_run_id is None:
            raise NoActiveRunError(f"{self.name}: save_artifact() is for actions executing in a run")
        lineage = self.checked_lineage(derived_from)
        key = self.prefix + name
        with self._staged(content) as stream:
            start = stream.tell()
            sha256, size, cid = self._fingerprint(stream)
            stream.seek(start)
            with self._request("upload", key):
                upload(self.s3, stream, bucket=self.bucket, key=key, multipart_threshold=self.multipart_threshold)
        version = self._head(key)
        if version is None:
            raise ObjectStoreError(f"{self.name}: upload {self.uri(name)} failed: NoSuchKey: the object is not "
                                   "there after the upload", bucket=self.bucket, key=key, code="NoSuchKey")
        return self._record_produced(name, version, sha256, size, cid, lineage)

    def record_current(self, name: str, *, derived_from: Iterable[Artifact | int] | None = None,
                       sha256: str | None = None) -> Artifact:
        """Record the object something else (a remote worker) already put at ``prefix + name`` as produced by the
        executing run and node. ``sha256``: what its content must hash to, else nothing is recorded
        (:class:`~anacostia_blockchain.errors.ContentMismatchError`)."""
        if self.metadata_store.current_run_id is None:
            raise NoActiveRunError(f"{self.name}: record_current() is for actions executing in a run")
        lineage = self.checked_lineage(derived_from)
        fetched = self._fetch(name, self.prefix + name)
        if fetched is None:
            raise ArtifactNotFoundError(f"{self.name}: no object at {self.uri(name)}")
        if sha256 is not None and fetched.sha256 != sha256:
            raise ContentMismatchError(f"{self.name}: {self.uri(name)} has sha256 {fetched.sha256}, not the "
                                       f"{sha256} it was sent with")
        return self._record_produced(name, fetched.version, fetched.sha256, fetched.size, fetched.cid, lineage)

    def _record_produced(self, name: str, version: ObjectVersion, sha256: str, size: int, cid: str,
                         lineage: list[Artifact] | None) -> Artifact:
        with self._lock:
            self._seen[name] = _Seen(version, sha256)
        artifact = self.record_produced(name, sha256, size, mtime_ns=version.modified_ns, cid=cid,
                                        derived_from=lineage)
        self._remember_version(artifact, version)
        return artifact

    @contextmanager
    def _staged(self, content: ObjectContent) -> Iterator[BinaryIO]:
        """``content`` as a seekable binary stream (file objects that cannot seek, and writer functions, are spooled:
        in memory up to ``multipart_threshold``, then in a temporary file)."""
        if isinstance(content, bytes | bytearray | memoryview):
            yield io.BytesIO(content)
        elif isinstance(content, str):
            yield io.BytesIO(content.encode())
        elif hasattr(content, "read") and getattr(content, "seekable", lambda: False)():
            yield cast(BinaryIO, content)
        elif hasattr(content, "read") or callable(content):
            with tempfile.SpooledTemporaryFile(max_size=self.multipart_threshold) as spool:
                if hasattr(content, "read"):
                    shutil.copyfileobj(cast(IO[bytes], content), spool, _MIB)
                else:
                    content(cast(IO[bytes], spool))
                spool.seek(0)
                yield cast(BinaryIO, spool)
        else:
            raise ConfigurationError(f"{self.name}: save_artifact content must be bytes, str, a binary file object "
                                     f"or a writer function, got {type(content).__name__}")


def _records(body: str) -> list[dict[str, Any]]:
    """The S3 event records of one SQS message body: an S3 notification, or one wrapped by SNS; nothing for the test
    event S3 sends when notifications are configured, or a body that is not one."""
    try:
        message = json.loads(body)
        if isinstance(message, dict) and "Records" not in message and isinstance(message.get("Message"), str):
            message = json.loads(message["Message"])  # S3 -> SNS -> SQS
    except ValueError:
        return []
    records = message.get("Records") if isinstance(message, dict) else None
    return [record for record in records if isinstance(record, dict)] if isinstance(records, list) else []


def _ns(moment: Any) -> int:
    """A ``LastModified`` datetime as nanoseconds since the epoch, in whole seconds (listings carry milliseconds,
    ``HEAD`` and ``GET`` replies whole seconds)."""
    return int(moment.timestamp()) * 1_000_000_000
