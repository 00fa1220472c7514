"""A Kubo RPC emulator: ``POST /api/v0/<command>`` with Kubo's documented wire format.

- Any other method: ``405 Method Not Allowed``; an unknown command: ``404 page not found``.
- Errors before streaming: ``{"Message","Code","Type":"error"}`` with 400 (Code 1, client error: missing argument,
  bad option) or 500 (Code 0). With ``authorization`` set, a missing/wrong ``Authorization`` header gets 403.
- Streamed responses (``add`` NDJSON, ``cat``, ``dag/export``, ``dag/import``) are chunked with
  ``Trailer: X-Stream-Error``; a failure mid-stream ends the body and sets that trailer.
- Storage is an embedded blockstore: uploads are re-hashed (imported with the requested options; CAR blocks
  verified), and every served block is re-read and re-hashed. ``config`` plays Kubo's ``Import.*`` config: it
  supplies every option a request leaves out, and — as in Kubo — the HAMT threshold and its estimation, which
  ``add`` has no option for. ``application/symlink`` parts become UnixFS symlinks; ``add_requests`` records the
  query of every ``add``. Its CIDs come from this package's importer, which
  ``test_ipfs_reference_crosscheck.py`` independently checks against the npm reference implementation.
- Faults for tests: ``tamper`` (serve other bytes for a CID), ``fail_stream`` (cut a command's stream after N bytes
  with an X-Stream-Error), ``unavailable`` (answer the next N calls of a command with 503).
"""

from __future__ import annotations

import io
import json
import ssl
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from anacostia_blockchain.errors import AnacostiaError, ContentNotFoundError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, ImportOptions, build_directory, import_bytes
from anacostia_blockchain.ipfs.car import CarWriter
from anacostia_blockchain.ipfs.importer import symlink_node
from anacostia_blockchain.ipfs.profiles import parse_chunker

from .http_server import EmulatorHandler, EmulatorServer, disposition_param, parse_multipart


class KuboRpcError(Exception):
    def __init__(self, message: str, code: int = 0, status: int = 500) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


def _bool(params: dict[str, list[str]], name: str, default: bool) -> bool:
    values = params.get(name)
    if not values:
        return default
    value = values[-1].lower()
    if value in ("true", "1", ""):
        return True
    if value in ("false", "0"):
        return False
    raise KuboRpcError(f'invalid value "{values[-1]}" for option "{name}": expected boolean', code=1, status=400)


def _arg(params: dict[str, list[str]], name: str = "ipfs-path") -> str:
    values = params.get("arg")
    if not values:
        raise KuboRpcError(f'argument "{name}" is required', code=1, status=400)
    return values[0]


class KuboEmulator:
    VERSION = "0.38.1"

    def __init__(self, repo: Path, *, authorization: str | None = None, ssl_context: ssl.SSLContext | None = None,
                 config: ImportOptions | None = None, version: str | None = None) -> None:
        self.store = EmbeddedBlockstore(repo, fsync=False)
        self.config = config or ImportOptions()
        self.add_requests: list[dict[str, list[str]]] = []
        if version is not None:
            self.VERSION = version
        self.authorization = authorization
        self.calls: list[str] = []
        self.tamper: dict[bytes, bytes] = {}
        self.fail_stream: dict[str, tuple[int, str]] = {}
        self.unavailable: dict[str, int] = {}
        self._server = EmulatorServer(_KuboHandler, self, ssl_context=ssl_context)

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    def block(self, cid: CID) -> bytes:
        """A stored block, re-hashed on read; ``tamper`` substitutes bytes for tests."""
        if cid.multihash in self.tamper:
            return self.tamper[cid.multihash]
        try:
            return self.store.get_block(cid)
        except ContentNotFoundError:
            raise KuboRpcError(f"block was not found locally (offline): ipld: could not find {cid}") from None

    def parse_cid(self, text: str) -> CID:
        try:
            return self.store.resolve(text)
        except AnacostiaError as exc:
            raise KuboRpcError(f'invalid path "{text}": {exc}') from exc

    # --- commands ----------------------------------------------------------------------------------------------
    def cmd_version(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        h.send_json(200, {"Version": self.VERSION, "Commit": "", "Repo": "16", "System": "amd64/linux",
                          "Golang": "go1.24.6"})

    def cmd_id(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        h.send_json(200, {"ID": "12D3KooWEmuLatorPeer", "PublicKey": "", "Addresses": [],
                          "AgentVersion": f"kubo/{self.VERSION}/", "Protocols": []})

    def _options(self, params: dict[str, list[str]]) -> ImportOptions:
        config = self.config

        def value(name: str, default: object) -> str:
            return (params.get(name) or [str(default)])[-1]

        if value("hash", "sha2-256") != "sha2-256" or _bool(params, "trickle", False) or _bool(params, "inline", False):
            raise KuboRpcError("the emulator imports sha2-256, balanced, non-inlined DAGs only", code=1, status=400)
        try:
            version = int(value("cid-version", config.cid_version))
            raw = _bool(params, "raw-leaves", version == 1 if "cid-version" in params else config.raw_leaves)
            return ImportOptions(
                cid_version=version, raw_leaves=raw,
                chunk_size=parse_chunker(value("chunker", f"size-{config.chunk_size}")),
                max_links=int(value("max-file-links", config.max_links)),
                max_directory_links=int(value("max-directory-links", config.max_directory_links)),
                hamt_fanout=int(value("max-hamt-fanout", config.hamt_fanout)),
                empty_dirs=_bool(params, "empty-dirs", config.empty_dirs),
                hamt_threshold=config.hamt_threshold, hamt_estimation=config.hamt_estimation,
                shard_at_threshold=config.shard_at_threshold,
            )
        except (AnacostiaError, ValueError) as exc:
            raise KuboRpcError(str(exc), code=1, status=400) from exc

    def cmd_add(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        self.add_requests.append(params)
        options = self._options(params)
        pin = _bool(params, "pin", True)
        only_hash = _bool(params, "only-hash", False)
        wrap = _bool(params, "wrap-with-directory", False)
        try:
            parts = parse_multipart(h.read_body(), h.headers.get("Content-Type", ""))
        except ValueError as exc:
            raise KuboRpcError(str(exc), code=1, status=400) from exc
        sink = None if only_hash else self.store
        events: list[dict[str, str]] = []
        tree: dict[str, dict] = {}
        for headers, content in parts:
            # Kubo decodes part names with Go's url.QueryUnescape ("+" is a space, %XX escapes)
            disposition = headers.get("content-disposition", "")
            name = urllib.parse.unquote_plus(disposition_param(disposition, "filename") or "")
            if headers.get("content-type", "").startswith("application/x-directory"):
                node = tree
                for piece in name.split("/"):
                    node = node.setdefault(piece, {})
                continue
            if headers.get("content-type", "").startswith("application/symlink"):
                result = symlink_node(content.decode("utf-8"), sink, options, name)
            else:
                result = import_bytes(content, sink, options=options, name=name)
            node = tree
            *dirs, leaf = name.split("/")
            for piece in dirs:
                node = node.setdefault(piece, {})
            node[leaf] = result  # type: ignore[assignment]
            events.append({"Name": name, "Hash": str(result.cid), "Size": str(result.cumulative_size)})

        def build(prefix: str, node: dict) -> object:
            entries = {}
            for key, value in node.items():
                path = f"{prefix}/{key}" if prefix else key
                if isinstance(value, dict) and not value and not options.empty_dirs:
                    continue
                entries[key] = build(path, value) if isinstance(value, dict) else value
            directory = build_directory(entries, sink, options=options, name=prefix)
            events.append({"Name": prefix, "Hash": str(directory.cid), "Size": str(directory.cumulative_size)})
            return directory

        top = {}
        for key, value in tree.items():
            top[key] = build(key, value) if isinstance(value, dict) else value
        if wrap:
            wrapper = build_directory(top, sink, options=options)  # type: ignore[arg-type]
            events.append({"Name": "", "Hash": str(wrapper.cid), "Size": str(wrapper.cumulative_size)})
            roots = [wrapper.cid]
        else:
            roots = [entry.cid for entry in top.values()]  # type: ignore[attr-defined]
        if pin and not only_hash:
            for root in roots:
                self.store.pin(root)
        lines = (json.dumps(event).encode() + b"\n" for event in events)
        self._stream(h, "add", lines, "application/json")

    def cmd_block_get(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        data = self.block(self.parse_cid(_arg(params, "cid")))
        h.send_bytes(200, data, "application/octet-stream")

    def cmd_block_stat(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        cid = self.parse_cid(_arg(params, "cid"))
        h.send_json(200, {"Key": str(cid), "Size": len(self.block(cid))})

    def cmd_cat(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        cid = self.parse_cid(_arg(params))
        self._stream(h, "cat", self.store.cat_stream(cid), "text/plain")

    def cmd_pin_add(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        cid = self.parse_cid(_arg(params))
        try:
            self.store.pin(cid)
        except ContentNotFoundError:
            raise KuboRpcError(f"pin: block was not found locally (offline): ipld: could not find {cid}") from None
        except AnacostiaError as exc:
            raise KuboRpcError(f"pin: {exc}") from exc
        h.send_json(200, {"Pins": [str(cid)]})

    def cmd_pin_rm(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        cid = self.parse_cid(_arg(params))
        try:
            self.store.unpin(cid)
        except ContentNotFoundError:
            raise KuboRpcError(f"{cid} is not pinned or pinned indirectly") from None
        h.send_json(200, {"Pins": [str(cid)]})

    def cmd_pin_ls(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        h.send_json(200, {"Keys": {str(c): {"Type": "recursive"} for c in self.store.pins()}})

    def cmd_dag_import(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        pin = _bool(params, "pin-roots", True)
        try:
            parts = parse_multipart(h.read_body(), h.headers.get("Content-Type", ""))
        except ValueError as exc:
            raise KuboRpcError(str(exc), code=1, status=400) from exc
        events = []
        for _, content in parts:
            try:
                roots = self.store.import_car(io.BytesIO(content), pin=pin)
            except AnacostiaError as exc:
                raise KuboRpcError(f"dag import: {exc}") from exc
            events += [{"Root": {"Cid": {"/": str(r)}, "PinErrorMsg": ""}} for r in roots]
        self._stream(h, "dag/import", (json.dumps(e).encode() + b"\n" for e in events), "application/json")

    def cmd_dag_export(self, h: _KuboHandler, params: dict[str, list[str]]) -> None:
        root = self.parse_cid(_arg(params, "root"))

        def car() -> Iterator[bytes]:
            out = io.BytesIO()
            writer = CarWriter(out, [root])
            for cid, _ in self.store.iter_car(root):
                writer.put(cid, self.block(cid))
                yield out.getvalue()
                out.seek(0)
                out.truncate()
            yield out.getvalue()

        self._stream(h, "dag/export", car(), "application/vnd.ipld.car")

    def _stream(self, h: _KuboHandler, command: str, chunks: Iterator[bytes], content_type: str) -> None:
        fail_after, failure = self.fail_stream.pop(command, (None, ""))
        h.send_chunked(200, chunks, content_type=content_type, fail_after=fail_after, failure=failure)


class _KuboHandler(EmulatorHandler):
    def _owner(self) -> KuboEmulator:
        return self.server.owner  # type: ignore[attr-defined]

    def _not_allowed(self) -> None:
        self.send_bytes(405, b"405 - Method Not Allowed\n")

    do_GET = do_PUT = do_DELETE = do_PATCH = _not_allowed

    def do_POST(self) -> None:
        owner = self._owner()
        url = urllib.parse.urlsplit(self.path)
        if not url.path.startswith("/api/v0/"):
            self.send_bytes(404, b"404 page not found\n")
            return
        command = url.path[len("/api/v0/") :]
        handler = getattr(owner, "cmd_" + command.replace("/", "_"), None)
        if handler is None:
            self.send_bytes(404, b"404 page not found\n")
            return
        if owner.authorization is not None and self.headers.get("Authorization") != owner.authorization:
            self.read_body()  # drain it so the client sees the answer, not a reset
            self.send_bytes(403, b"403 - Forbidden\n")
            return
        owner.calls.append(command)
        if owner.unavailable.get(command):
            owner.unavailable[command] -= 1
            self.read_body()
            self.send_bytes(503, b"503 Service Unavailable\n")
            return
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            handler(self, params)
        except KuboRpcError as exc:
            self.send_json(exc.status, {"Message": str(exc), "Code": exc.code, "Type": "error"})
