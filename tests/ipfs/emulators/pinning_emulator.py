"""An IPFS Pinning Service API emulator (``/pins``) backed by a blockstore standing in for the IPFS network.

A pin request starts ``queued``; each ``GET /pins/{id}`` advances it: ``pinning``, then ``pinned`` if the whole DAG
is retrievable (every block re-hashed) from ``network``, else ``failed``. Bearer-token auth (401 otherwise), spec
error bodies ``{"error": {"reason", "details"}}``, 202 for create/replace/delete, 404 for unknown request ids.
"""

from __future__ import annotations

import json
import secrets
import urllib.parse
from datetime import UTC, datetime

from anacostia_blockchain.errors import AnacostiaError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore

from .http_server import EmulatorHandler, EmulatorServer


class PinningServiceEmulator:
    def __init__(self, network: EmbeddedBlockstore, *, token: str) -> None:
        self.network = network
        self.token = token
        self.pins: dict[str, dict] = {}
        self.unavailable = 0
        self._server = EmulatorServer(_PinningHandler, self)

    def start(self) -> str:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url

    def advance(self, pin: dict) -> None:
        if pin["status"] == "queued":
            pin["status"] = "pinning"
        elif pin["status"] == "pinning":
            ok = False
            try:
                ok = self.network.has_dag(pin["pin"]["cid"])
            except AnacostiaError as exc:
                pin["info"] = {"status_details": str(exc)}
            pin["status"] = "pinned" if ok else "failed"

    def create(self, body: dict, requestid: str | None = None) -> dict:
        CID.parse(body["cid"])
        status = {"requestid": requestid or secrets.token_hex(8), "status": "queued",
                  "created": datetime.now(UTC).isoformat(), "pin": body, "delegates": ["/dnsaddr/emulator"],
                  "info": {}}
        self.pins[status["requestid"]] = status
        return status


class _PinningHandler(EmulatorHandler):
    def _owner(self) -> PinningServiceEmulator:
        return self.server.owner  # type: ignore[attr-defined]

    def _fail(self, status: int, reason: str, details: str) -> None:
        self.send_json(status, {"error": {"reason": reason, "details": details}})

    def _route(self, method: str) -> None:
        owner = self._owner()
        url = urllib.parse.urlsplit(self.path)
        body = self.read_body()
        if owner.unavailable:
            owner.unavailable -= 1
            self._fail(503, "UNAVAILABLE", "try again")
            return
        if self.headers.get("Authorization") != f"Bearer {owner.token}":
            self._fail(401, "UNAUTHORIZED", "access token is missing or invalid")
            return
        parts = [p for p in url.path.split("/") if p]
        if not parts or parts[0] != "pins" or len(parts) > 2:
            self._fail(404, "NOT_FOUND", url.path)
            return
        try:
            payload = json.loads(body) if body else {}
            if len(parts) == 1 and method == "GET":
                query = urllib.parse.parse_qs(url.query)
                wanted = set(query.get("status", ["pinned"])[0].split(","))
                cids = set(query["cid"][0].split(",")) if "cid" in query else None
                results = [p for p in owner.pins.values() if p["status"] in wanted
                           and (cids is None or p["pin"]["cid"] in cids)]
                limit = int(query.get("limit", ["10"])[0])
                self.send_json(200, {"count": len(results), "results": results[:limit]})
            elif len(parts) == 1 and method == "POST":
                self.send_json(202, owner.create(payload))
            elif parts[1] not in owner.pins:
                self._fail(404, "NOT_FOUND", f"no pin request {parts[1]}")
            elif method == "GET":
                pin = owner.pins[parts[1]]
                owner.advance(pin)
                self.send_json(200, pin)
            elif method == "POST":
                del owner.pins[parts[1]]
                self.send_json(202, owner.create(payload))
            elif method == "DELETE":
                del owner.pins[parts[1]]
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._fail(405, "METHOD_NOT_ALLOWED", method)
        except (ValueError, KeyError, AnacostiaError) as exc:
            self._fail(400, "BAD_REQUEST", str(exc))

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_DELETE(self) -> None:
        self._route("DELETE")
