"""A Kubo RPC (``/api/v0``) client: POST only, streamed uploads and downloads, everything verified.

Design choices a user should know:

- Content is *never* trusted from the daemon. ``cat``/``cat_stream`` read one ``dag/export`` CAR stream and
  re-hash every block against its CID before a byte of it is returned (blocks Kubo de-duplicated out of the
  stream are re-fetched with a verified ``block/get``); ``export_car`` re-parses and re-hashes the CAR Kubo
  streams (and checks its root). A lying or corrupted daemon raises :class:`CorruptBlockError`.
- ``add`` streams a ``multipart/form-data`` body as Kubo's own client does (files read in 1 MiB pieces,
  directories ``application/x-directory``, symlinks ``application/symlink``; URL-escaped names), sends every
  CID-shaping option explicitly and settles directory roots to the local importer's (see :mod:`.kubo_add`).
- Errors: Kubo's ``{"Message","Code","Type"}`` body (HTTP 4xx/5xx), an error object inside an NDJSON stream, and
  the ``X-Stream-Error`` trailer of a streamed response all raise :class:`KuboError` with ``.code``/``.type``.
  Transport failures and 502/503/504 (retried ``retries`` times with back-off, for idempotent calls only — for
  those, a response body cut short is retried too) raise :class:`RemoteUnavailableError`.
- ``auth`` is sent as the ``Authorization`` header (``"Bearer …"``/``"Basic …"`` or a ``(user, password)`` pair,
  Kubo's ``API.Authorizations``); it never appears in ``repr`` or messages.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from ..errors import ContentNotFoundError, CorruptBlockError, KuboError, RemoteUnavailableError, StorageError
from .car import CarWriter, write_car, write_car_file
from .cid import CID
from .http_transport import (
    HttpResponse,
    HttpTransport,
    Transport,
    TransportClient,
    _safe,
    redact_credentials,
    request_with_retries,
)
from .importer import ImportResult
from .kubo_add import DirectoryPlan, add_params, multipart, needs_version_check, parse_version, require_support, walk
from .kubo_export import ExportedBlocks, open_exported_car
from .profiles import ImportOptions, resolve_options
from .unixfs_reader import get_to_path, iter_directory, iter_file_content, resolve_path

_RETRY_STATUS = {502, 503, 504}


class _CountingReader:
    """Counts the bytes read through it (the file size of a streamed upload)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.count += len(data)
        return data


class KuboClient(TransportClient):
    """Talks to a Kubo daemon's RPC API; implements the :class:`~.store.ContentStore` protocol."""

    def __init__(self, base_url: str = "http://127.0.0.1:5001", *, auth: str | tuple[str, str] | None = None,
                 timeout: float = 60.0, retries: int = 2, backoff: float = 0.2,
                 transport: Transport | None = None, default_options: ImportOptions | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        if isinstance(auth, tuple):
            auth = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        self._auth = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._transport = transport or HttpTransport(timeout=timeout, trailers=True)
        self.default_options = default_options or ImportOptions()
        self._daemon: dict[str, object] | None = None

    def __repr__(self) -> str:
        # _safe: no user info or query in the URL shown (httpx sends user info as Basic credentials)
        return f"KuboClient({_safe(self.base_url)!r}, auth={'set' if self._auth else None})"

    # --- the RPC call -------------------------------------------------------------------------------------------
    def _call(self, command: str, params: Iterable[tuple[str, str]] = (), *,
              body: bytes | Iterable[bytes] | None = None, content_type: str | None = None,
              idempotent: bool = True) -> HttpResponse:
        headers = {}
        if self._auth:
            headers["Authorization"] = self._auth
        if content_type:
            headers["Content-Type"] = content_type
        response = request_with_retries(
            self._transport, "POST", f"{self.base_url}/api/v0/{command}", params=list(params), headers=headers,
            body=body, timeout=self.timeout, attempts=1 + (self.retries if idempotent else 0), backoff=self.backoff,
            retry_status=_RETRY_STATUS,
        )
        if response.status >= 400:
            raise self._error(command, response)
        return response

    def _error(self, command: str, response: HttpResponse) -> StorageError:
        raw = response.read()
        if response.status in (401, 403):
            return KuboError(f"Kubo RPC {command}: credentials rejected (HTTP {response.status}); check the "
                             "Authorization configured for this daemon", code=response.status, type="auth")
        try:
            payload = json.loads(raw)
            message, code, kind = self._redact(str(payload["Message"])), payload.get("Code"), payload.get("Type")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            text = self._redact(raw.decode("utf-8", "replace").strip()[:300])
            if response.status in _RETRY_STATUS:
                return RemoteUnavailableError(f"Kubo RPC {command}: HTTP {response.status} {text}")
            return KuboError(f"Kubo RPC {command}: HTTP {response.status} {text}", code=None, type=None)
        if response.status in _RETRY_STATUS:
            return RemoteUnavailableError(f"Kubo RPC {command}: HTTP {response.status}: {message}")
        return KuboError(f"Kubo RPC {command}: {message}", code=code, type=kind)

    def _redact(self, remote_text: str) -> str:
        """Text from the daemon, without the Authorization this client sent (a daemon or proxy may echo it)."""
        return redact_credentials(remote_text, [self._auth])

    def _check_trailer(self, command: str, response: HttpResponse) -> None:
        failure = response.trailers.get("x-stream-error")
        if failure:
            raise KuboError(f"Kubo RPC {command} failed mid-stream: {self._redact(failure)}", code=0, type="error")

    def _fetch(self, command: str, params: Iterable[tuple[str, str]] = ()) -> bytes:
        """An idempotent call whose answer is read whole: a body cut short (connection dropped, read timeout) is
        retried like a failed request, with the same back-off."""
        params = list(params)
        for attempt in range(self.retries + 1):
            response = self._call(command, params)
            try:
                data = response.read()
            except RemoteUnavailableError:
                if attempt == self.retries:
                    raise
                time.sleep(self.backoff * 2**attempt)
                continue
            self._check_trailer(command, response)
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def _json(self, command: str, params: Iterable[tuple[str, str]] = ()) -> dict[str, object]:
        raw = self._fetch(command, params)
        return _decode_object(command, raw, "JSON")

    def _ndjson(self, command: str, response: HttpResponse) -> Iterator[dict[str, object]]:
        pending = b""
        for chunk in response.iter_bytes():
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip():
                    yield self._event(command, line)
        if pending.strip():
            yield self._event(command, pending)
        self._check_trailer(command, response)

    def _event(self, command: str, line: bytes) -> dict[str, object]:
        event = _decode_object(command, line, "NDJSON line")
        if event.get("Type") == "error" and "Message" in event:
            code = event.get("Code")
            raise KuboError(f"Kubo RPC {command}: {self._redact(str(event['Message']))}",
                            code=code if isinstance(code, int) else None,
                            type="error")
        return event

    # --- node info ------------------------------------------------------------------------------------------------
    def version(self) -> dict[str, object]:
        return self._json("version")

    def id(self) -> dict[str, object]:
        return self._json("id")

    # --- add ------------------------------------------------------------------------------------------------------
    def _add_params(self, options: ImportOptions, *, pin: bool, only_hash: bool, wrap: bool,
                    hidden: bool = False) -> list[tuple[str, str]]:
        params = add_params(options, pin=pin, only_hash=only_hash, wrap=wrap, hidden=hidden)
        if needs_version_check(params):
            require_support(params, self.daemon_version(), _safe(self.base_url))
        return params

    def _daemon_info(self) -> dict[str, object]:
        if self._daemon is None:
            self._daemon = self.version()
        return self._daemon

    def daemon_version(self) -> tuple[int, int]:
        """``(major, minor)`` of the daemon's ``version`` (asked once per client)."""
        return parse_version(str(self._daemon_info().get("Version", "")))

    def _is_js_ipfs(self) -> bool:
        """js-ipfs answers ``version`` with an ``ipfs-core`` field; it refuses directory parts and drops
        symlinks, so only file parts go to it (its directories are then settled like any differing root)."""
        return "ipfs-core" in self._daemon_info()

    def _options(self, options: ImportOptions | None, flags: dict[str, object]) -> ImportOptions:
        if options is None and not any(v is not None for v in flags.values()):
            return self.default_options
        return resolve_options(options, **flags)

    def add_events(self, parts: Iterable[tuple[str, str, BinaryIO | bytes | None]], *, pin: bool = True,
                   only_hash: bool = False, wrap: bool = False, options: ImportOptions | None = None,
                   **flags: Any) -> Iterator[dict[str, object]]:
        """Raw ``add``: ``parts`` are ``(name, kind, content)`` with kind ``"file"``, ``"dir"`` or ``"symlink"``
        (content: the link target); yields the daemon's events as they come."""
        boundary = uuid.uuid4().hex
        opts = self._options(options, flags)
        response = self._call("add", self._add_params(opts, pin=pin, only_hash=only_hash, wrap=wrap),
                              body=multipart(parts, boundary),
                              content_type=f"multipart/form-data; boundary={boundary}", idempotent=False)
        reported = 0
        for event in self._ndjson("add", response):
            reported += 1
            yield event
        if not reported:  # a 200 with an empty body (a proxy in between, a daemon cut off cleanly): nothing is known
            raise KuboError("Kubo RPC add: the daemon answered without naming any added entry", code=0, type="error")

    def add_bytes(self, data: bytes | bytearray | memoryview, *, pin: bool = True, only_hash: bool = False,
                  name: str = "", options: ImportOptions | None = None, **flags: Any) -> ImportResult:
        events = list(self.add_events([(name or "file", "file", bytes(data))], pin=pin, only_hash=only_hash,
                                      options=options, **flags))
        return _result(events[-1], len(data), name)

    def add_stream(self, stream: BinaryIO, *, pin: bool = True, only_hash: bool = False, name: str = "",
                   options: ImportOptions | None = None, **flags: Any) -> ImportResult:
        """Upload everything readable from ``stream`` as one file (streamed, never held in memory)."""
        counter = _CountingReader(stream)
        part = (name or "stdin", "file", cast(BinaryIO, counter))
        events = list(self.add_events([part], pin=pin, only_hash=only_hash, options=options, **flags))
        return _result(events[-1], counter.count, name)

    def add_paths(self, paths: list[str | os.PathLike[str]], *, pin: bool = True, recursive: bool = False,
                  wrap: bool = False, hidden: bool = False, only_hash: bool = False,
                  options: ImportOptions | None = None, **flags: Any) -> list[ImportResult]:
        """``ipfs add [-r] [-w] PATH...`` in one request; every entry as the local importer prints them, root last.

        Directory roots are the local importer's whatever the daemon's config (see :mod:`.kubo_add`)."""
        roots = [Path(p) for p in paths]
        for root in roots:
            if not root.exists() and not root.is_symlink():
                raise StorageError(f"no such file or directory: {root}")
            if root.is_dir() and not root.is_symlink() and not recursive:
                raise StorageError(f"{root} is a directory, use recursive add")
        opts = self._options(options, flags)
        plan = DirectoryPlan([list(walk(root, hidden)) for root in roots], opts, wrap)
        handles: list[BinaryIO] = []
        sizes: dict[str, int] = {}

        files_only = plan.has_directories and self._is_js_ipfs()

        def parts() -> Iterator[tuple[str, str, BinaryIO | bytes | None]]:
            for top in plan.tops:
                for entry in top:
                    if entry.kind == "file":
                        handle = entry.path.open("rb")
                        handles.append(handle)
                        sizes[entry.rel] = os.fstat(handle.fileno()).st_size
                        yield entry.rel, "file", handle
                    elif not files_only:
                        yield entry.rel, entry.kind, entry.target.encode("utf-8") if entry.kind == "symlink" else None

        settle = plan.has_directories
        try:
            if files_only and not any(e.kind == "file" for top in plan.tops for e in top):
                events = []  # nothing for the daemon to import: the settled directory blocks are all there is
            else:
                events = list(self.add_events(parts(), pin=pin and not settle, only_hash=only_hash, wrap=wrap,
                                              options=opts))
        finally:
            for handle in handles:
                handle.close()
        reported = {str(e.get("Name", "")): _result(e, 0, str(e.get("Name", ""))) for e in events if "Hash" in e}
        results, root_cids = plan.settle(reported, sizes)
        if settle and not only_hash:
            self._store_roots(plan, reported, root_cids, pin)
        return results

    def _store_roots(self, plan: DirectoryPlan, reported: dict[str, ImportResult], root_cids: list[CID],
                     pin: bool) -> None:
        """Make the daemon hold (and pin) the importer's roots: upload our directory blocks if its own differ."""
        theirs = [reported.get(name) for name in plan.root_names]
        if [r.cid if r is not None else None for r in theirs] == root_cids:
            if pin:
                for cid in root_cids:
                    self.pin(cid)
            return
        car = io.BytesIO()
        write_car(car, root_cids, plan.collected.blocks.items())
        self.dag_import(car.getvalue(), pin=pin)

    def add_path_all(self, path: str | os.PathLike[str], *, pin: bool = True, recursive: bool = False,
                     wrap: bool = False, hidden: bool = False, only_hash: bool = False,
                     options: ImportOptions | None = None, **flags: Any) -> list[ImportResult]:
        return self.add_paths([path], pin=pin, recursive=recursive, wrap=wrap, hidden=hidden, only_hash=only_hash,
                              options=options, **flags)

    def add_path(self, path: str | os.PathLike[str], *, pin: bool = True, recursive: bool | None = None,
                 wrap: bool = False, hidden: bool = False, options: ImportOptions | None = None,
                 **flags: Any) -> ImportResult:
        if recursive is None:
            recursive = Path(path).is_dir()
        return self.add_path_all(path, pin=pin, recursive=recursive, wrap=wrap, hidden=hidden, options=options,
                                 **flags)[-1]

    # --- blocks and content ---------------------------------------------------------------------------------------
    def get_block(self, cid: CID | str) -> bytes:
        """One block via ``block/get``, verified against its CID."""
        cid = CID.parse(cid)
        data = self._fetch("block/get", [("arg", str(cid))])
        if not cid.matches(data):
            raise CorruptBlockError(f"the Kubo daemon at {self.base_url} returned a block that does not hash to {cid}")
        return data

    def block_stat(self, cid: CID | str) -> dict[str, object]:
        return self._json("block/stat", [("arg", str(CID.parse(cid))), ("offline", "true")])

    def has(self, cid: CID | str) -> bool:
        """Whether the daemon has the block locally (asked offline, so it does not go looking on the network)."""
        try:
            self.block_stat(cid)
        except KuboError as exc:
            if "not found" in str(exc) or "could not find" in str(exc):
                return False
            raise
        return True

    def resolve(self, cid_or_path: CID | str) -> CID:
        return resolve_path(self.get_block, cid_or_path)

    def cat_stream(self, cid_or_path: CID | str) -> Iterator[bytes]:
        """The file's bytes, leaf by leaf, from one ``dag/export`` stream; every block is verified."""
        root = self.resolve(cid_or_path)
        return iter_file_content(ExportedBlocks(self, root).get, root)

    def cat(self, cid_or_path: CID | str) -> bytes:
        return b"".join(self.cat_stream(cid_or_path))

    def ls(self, cid_or_path: CID | str) -> list[tuple[str, CID, int]]:
        """The entries ``(name, cid, tsize)`` of a directory, basic or HAMT-sharded (every block verified)."""
        return list(iter_directory(self.get_block, self.resolve(cid_or_path)))

    def get(self, cid_or_path: CID | str, destination: str | os.PathLike[str]) -> Path:
        """``ipfs get``: write a file, symlink or directory tree (sharded directories too) to ``destination``."""
        return get_to_path(self.get_block, cid_or_path, destination)

    # --- pins -----------------------------------------------------------------------------------------------------
    def pin(self, cid: CID | str) -> CID:
        cid = CID.parse(cid)
        self._json("pin/add", [("arg", str(cid)), ("recursive", "true")])
        return cid

    def unpin(self, cid: CID | str) -> None:
        cid = CID.parse(cid)
        try:
            self._json("pin/rm", [("arg", str(cid)), ("recursive", "true")])
        except KuboError as exc:
            if "not pinned" in str(exc):
                raise ContentNotFoundError(f"{cid} is not pinned") from exc
            raise

    def pins(self) -> set[CID]:
        keys = self._json("pin/ls", [("type", "recursive")]).get("Keys") or {}
        if not isinstance(keys, dict):
            raise KuboError(f"Kubo RPC pin/ls: Keys is a JSON {type(keys).__name__}, not an object")
        return {CID.parse(str(key)) for key in keys}

    # --- CAR ------------------------------------------------------------------------------------------------------
    def dag_import(self, car: bytes | str | os.PathLike[str] | BinaryIO, *, pin: bool = True) -> list[CID]:
        if isinstance(car, str | os.PathLike):
            with Path(car).open("rb") as handle:
                return self.dag_import(handle, pin=pin)
        boundary = uuid.uuid4().hex
        response = self._call("dag/import", [("pin-roots", str(pin).lower())],
                              body=multipart([("upload.car", "file", car)], boundary),
                              content_type=f"multipart/form-data; boundary={boundary}", idempotent=False)
        roots = []
        for event in self._ndjson("dag/import", response):
            root = event.get("Root")
            if isinstance(root, dict):
                if root.get("PinErrorMsg"):
                    raise KuboError(f"Kubo could not pin imported root: {root['PinErrorMsg']}")
                try:
                    roots.append(CID.parse(str(root["Cid"]["/"])))
                except (KeyError, TypeError) as exc:
                    raise KuboError(f"Kubo RPC dag/import: unexpected root entry {str(root)[:200]}") from exc
        return roots

    def dag_export(self, cid: CID | str) -> Iterator[bytes]:
        """The raw CAR stream Kubo sends (unverified; :meth:`export_car` verifies)."""
        response = self._call("dag/export", [("arg", str(CID.parse(cid)))])
        yield from response.iter_bytes()
        self._check_trailer("dag/export", response)

    def export_car(self, cid: CID | str, destination: str | os.PathLike[str] | BinaryIO) -> int:
        """Stream Kubo's CAR for ``cid`` into ``destination``, verifying the root and every block on the way."""
        cid = CID.parse(cid)
        if isinstance(destination, str | os.PathLike):
            return write_car_file(destination, lambda handle: self.export_car(cid, handle))
        reader = open_exported_car(self.dag_export(cid), cid)
        writer = CarWriter(destination, reader.roots)
        for block_cid, data in reader:
            writer.put(block_cid, data)
        return writer.bytes_written


# --- helpers ---------------------------------------------------------------------------------------------------------
def _result(event: dict[str, object], size: int, name: str) -> ImportResult:
    try:
        return ImportResult(CID.parse(str(event["Hash"])), size, int(str(event["Size"])), name)
    except (KeyError, ValueError, TypeError) as exc:
        raise KuboError(f"unexpected add event from Kubo: {sorted(event)}") from exc


def _decode_object(command: str, raw: bytes, what: str) -> dict[str, object]:
    """One JSON object from the daemon; anything else (invalid JSON, absurd nesting, an array or a scalar where Kubo
    sends an object) is a :class:`KuboError` rather than a ``ValueError`` or ``AttributeError`` further on."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise KuboError(f"Kubo RPC {command}: the daemon sent invalid {what}") from exc
    if not isinstance(value, dict):
        raise KuboError(f"Kubo RPC {command}: the daemon sent a JSON {type(value).__name__} where an object belongs")
    return value
