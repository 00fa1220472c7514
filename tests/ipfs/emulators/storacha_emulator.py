"""A Storacha HTTP-bridge emulator: ``POST /bridge`` (store/add, upload/add) and presigned ``PUT /s3/<car-cid>``.

What it checks, as the real service does:

- Bridge calls need the exact ``X-Auth-Secret`` and ``Authorization`` tokens (else 401) and a task whose resource
  is the configured space DID (else an ``Unauthorized`` receipt).
- ``store/add`` needs a CIDv1 with codec ``car`` (0x0202) and a size within ``max_size`` (else a
  ``StoreItemSizeExceeded`` receipt); it answers ``done`` for a shard it already holds, otherwise ``upload`` with a
  one-time presigned URL and the ``content-length``/``x-amz-checksum-sha256`` headers derived from the CAR CID.
- The PUT must not be chunked (S3: 501) and must carry that exact length and checksum header; the body is
  re-hashed (S3 ``BadDigest`` if it does not match the header, 400 if it does not match the CAR CID) and parsed
  as a CAR whose every block is re-hashed.
- ``upload/add`` needs every shard stored and the root to be a block inside one of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.parse

from anacostia_blockchain.errors import AnacostiaError
from anacostia_blockchain.ipfs import CID, read_car
from anacostia_blockchain.ipfs.multiformats import CAR

from .http_server import EmulatorHandler, EmulatorServer

#: The space DID the test fixtures use.
TEST_SPACE = "did:key:z6MkwEmulatedSpaceForTests"


def _error(name: str, message: str) -> dict[str, object]:
    return {"error": {"name": name, "message": message}}


class StorachaEmulator:
    def __init__(self, *, space_did: str, auth_secret: str, authorization: str, max_size: int = 4 * 1024**3) -> None:
        self.space_did = space_did
        self.auth_secret = auth_secret
        self.authorization = authorization
        self.max_size = max_size
        self.shards: dict[str, bytes] = {}
        self.shard_blocks: dict[str, set[bytes]] = {}
        self.uploads: dict[str, set[str]] = {}
        self.allocations: dict[str, tuple[str, int]] = {}  # token -> (car cid, size)
        self.unavailable: dict[str, int] = {}  # "bridge" / "put" -> how many 503s to answer first
        self.puts = 0
        self._server = EmulatorServer(_StorachaHandler, self)

    def start(self) -> str:
        self._server.start()
        return self.url

    @property
    def url(self) -> str:
        """The bridge endpoint (``POST``)."""
        return self._server.url + "/bridge"

    def stop(self) -> None:
        self._server.stop()

    # --- abilities ---------------------------------------------------------------------------------------------
    def store_add(self, nb: dict) -> dict[str, object]:
        try:
            car_cid = CID.parse(nb["link"]["/"])
            size = int(nb["size"])
        except (KeyError, TypeError, ValueError, AnacostiaError) as exc:
            return _error("InvalidArgument", f"store/add needs link and size: {exc}")
        if car_cid.version != 1 or car_cid.codec != CAR:
            return _error("InvalidArgument", f"{car_cid} is not a CAR CID (codec 0x0202)")
        if size > self.max_size:
            return _error("StoreItemSizeExceeded", f"Maximum size exceeded: {self.max_size}, got {size}")
        if str(car_cid) in self.shards:
            return {"ok": {"status": "done", "with": self.space_did, "link": {"/": str(car_cid)}}}
        token = secrets.token_hex(16)
        self.allocations[token] = (str(car_cid), size)
        checksum = base64.b64encode(car_cid.digest).decode()
        url = f"{self._server.url}/s3/{car_cid}?X-Amz-Signature={token}"
        return {"ok": {"status": "upload", "url": url, "with": self.space_did, "link": {"/": str(car_cid)},
                       "headers": {"content-length": str(size), "x-amz-checksum-sha256": checksum}}}

    def upload_add(self, nb: dict) -> dict[str, object]:
        try:
            root = CID.parse(nb["root"]["/"])
            shards = [str(CID.parse(s["/"])) for s in nb["shards"]]
        except (KeyError, TypeError, AnacostiaError) as exc:
            return _error("InvalidArgument", f"upload/add needs root and shards: {exc}")
        missing = [s for s in shards if s not in self.shards]
        if missing:
            return _error("ShardNotFound", f"shards not stored: {missing}")
        if not any(root.multihash in self.shard_blocks[s] for s in shards):
            return _error("RootNotFound", f"{root} is not a block of the given shards")
        self.uploads.setdefault(str(root), set()).update(shards)
        return {"ok": {"root": {"/": str(root)}, "shards": [{"/": s} for s in shards]}}

    def accept_put(self, car_cid_text: str, token: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        allocation = self.allocations.get(token)
        if allocation is None or allocation[0] != car_cid_text:
            return 403, "<Error><Code>AccessDenied</Code><Message>Invalid or used signature</Message></Error>"
        car_cid = CID.parse(car_cid_text)
        expected = base64.b64encode(car_cid.digest).decode()
        if headers.get("x-amz-checksum-sha256") != expected:
            return 403, "<Error><Code>SignatureDoesNotMatch</Code><Message>checksum header not signed</Message></Error>"
        if int(headers.get("content-length", "-1")) != allocation[1] or len(body) != allocation[1]:
            return 400, "<Error><Code>IncompleteBody</Code><Message>length differs from allocation</Message></Error>"
        if base64.b64encode(hashlib.sha256(body).digest()).decode() != expected:
            return 400, "<Error><Code>BadDigest</Code><Message>The sha256 you specified did not match</Message></Error>"
        try:
            with read_car(body) as reader:
                blocks = {cid.multihash for cid, _ in reader}
        except AnacostiaError as exc:
            return 400, f"<Error><Code>InvalidCar</Code><Message>{exc}</Message></Error>"
        del self.allocations[token]
        self.shards[car_cid_text] = body
        self.shard_blocks[car_cid_text] = blocks
        self.puts += 1
        return 200, ""


class _StorachaHandler(EmulatorHandler):
    def _owner(self) -> StorachaEmulator:
        return self.server.owner  # type: ignore[attr-defined]

    def _maybe_unavailable(self, key: str) -> bool:
        owner = self._owner()
        if owner.unavailable.get(key):
            owner.unavailable[key] -= 1
            self.read_body()
            self.send_bytes(503, b"Service Unavailable")
            return True
        return False

    def do_POST(self) -> None:
        owner = self._owner()
        if urllib.parse.urlsplit(self.path).path != "/bridge":
            self.read_body()
            self.send_json(404, {"error": "not found"})
            return
        if self._maybe_unavailable("bridge"):
            return
        body = self.read_body()
        if (self.headers.get("X-Auth-Secret") != owner.auth_secret
                or self.headers.get("Authorization") != owner.authorization):
            self.send_json(401, {"error": "invalid X-Auth-Secret or Authorization"})
            return
        try:
            tasks = json.loads(body)["tasks"]
        except (ValueError, KeyError, TypeError):
            self.send_json(400, {"error": "body must be {\"tasks\": [[ability, resource, caveats], ...]}"})
            return
        receipts = []
        for ability, resource, nb in tasks:
            if resource != owner.space_did:
                out = _error("Unauthorized", f"the tokens do not grant {ability} on {resource}")
            elif ability == "store/add":
                out = owner.store_add(nb)
            elif ability == "upload/add":
                out = owner.upload_add(nb)
            else:
                out = _error("UnknownAbility", f"{ability} is not supported by the bridge")
            receipts.append({"p": {"out": out, "fx": {"fork": []}}})
        self.send_json(200, receipts)

    def do_PUT(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if self._maybe_unavailable("put"):
            return
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        body = self.read_body()
        if chunked:  # S3 presigned PUTs need a Content-Length; it refuses chunked uploads
            self.send_bytes(501, b"<Error><Code>NotImplemented</Code><Message>Transfer-Encoding</Message></Error>",
                            "application/xml")
            return
        if not url.path.startswith("/s3/"):
            self.send_bytes(404, b"<Error><Code>NoSuchBucket</Code></Error>", "application/xml")
            return
        token = urllib.parse.parse_qs(url.query).get("X-Amz-Signature", [""])[0]
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, text = self._owner().accept_put(url.path[len("/s3/"):], token, headers, body)
        self.send_bytes(status, text.encode(), "application/xml")
