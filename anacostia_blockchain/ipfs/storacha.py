"""Storacha (the current Web3.Storage) through its HTTP bridge: ``store/add`` -> presigned ``PUT`` -> ``upload/add``.

The flow, per Storacha's HTTP bridge documentation:

1. ``POST {bridge}`` with ``X-Auth-Secret`` and ``Authorization`` (made by ``storacha bridge generate-tokens``) and
   ``{"tasks": [["store/add", <space DID>, {"link": {"/": <CAR CID>}, "size": <bytes>}]]}``. The receipt says
   ``status: "done"`` (already stored) or ``"upload"`` with a presigned ``url`` and the ``headers`` to send.
2. ``PUT`` the CAR bytes to that URL with ``content-length`` and ``x-amz-checksum-sha256`` (base64 sha2-256).
3. ``upload/add`` links the content root to its shard(s): ``{"root": {"/": <root>}, "shards": [{"/": <CAR CID>}]}``.

Design choices: the CAR CID (CIDv1, codec ``car`` 0x0202, sha2-256) and the checksum header are computed *locally*
in one streaming pass over the CAR, and the checksum the service asks for must agree with ours — so the service
can never be told to store different bytes than we hashed. Every step is idempotent and retried with exponential
back-off on transport errors and 5xx; 401/403 and ``Unauthorized`` receipts raise :class:`StorachaAuthError`, size
limits (local ``max_car_size`` or the service's) :class:`StorachaSizeLimitError`. Secrets never appear in ``repr``
or messages.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import (
    ConfigurationError,
    RemoteUnavailableError,
    StorachaAuthError,
    StorachaError,
    StorachaSizeLimitError,
)
from .car import read_car
from .cid import CID
from .http_transport import (
    SERVER_ERRORS,
    Body,
    HttpResponse,
    HttpTransport,
    Transport,
    TransportClient,
    redact_credentials,
    request_with_retries,
)
from .multiformats import CAR, SHA2_256, multihash_encode

DEFAULT_BRIDGE = "https://up.storacha.network/bridge"
#: The largest single shard Storacha accepts through a presigned PUT (S3's single-PUT limit).
DEFAULT_MAX_CAR_SIZE = 4 * 1024**3
PIECE = 1024 * 1024


class CarExporter(Protocol):
    def export_car(self, cid: CID | str, destination: os.PathLike[str] | str) -> int: ...


@dataclass(frozen=True, slots=True)
class StorachaUpload:
    root: CID
    car_cid: CID
    size: int
    already_stored: bool = False


@dataclass(frozen=True, slots=True)
class _CarFacts:
    cid: CID
    size: int
    checksum: str  # base64 sha2-256, the x-amz-checksum-sha256 header


def _car_facts(car: bytes | Path) -> _CarFacts:
    hasher = hashlib.sha256()
    size = 0
    if isinstance(car, bytes):
        hasher.update(car)
        size = len(car)
    else:
        with car.open("rb") as handle:
            for piece in iter(lambda: handle.read(PIECE), b""):
                hasher.update(piece)
                size += len(piece)
    digest = hasher.digest()
    return _CarFacts(CID(1, CAR, multihash_encode(SHA2_256, digest)), size, base64.b64encode(digest).decode())


class StorachaClient(TransportClient):
    """Uploads CARs to a Storacha space through the HTTP bridge."""

    def __init__(self, space_did: str, *, auth_secret: str, authorization: str, bridge_url: str = DEFAULT_BRIDGE,
                 retries: int = 3, backoff: float = 0.5, timeout: float = 120.0,
                 max_car_size: int = DEFAULT_MAX_CAR_SIZE, transport: Transport | None = None) -> None:
        if not space_did.startswith("did:"):
            raise ConfigurationError(f"Storacha space must be a DID (did:key:...), got {space_did!r}")
        if not auth_secret or not authorization:
            raise ConfigurationError("Storacha needs both the X-Auth-Secret and the Authorization bridge tokens")
        self.space_did = space_did
        self.bridge_url = bridge_url
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.max_car_size = max_car_size
        self._headers = {"X-Auth-Secret": auth_secret, "Authorization": authorization,
                         "Content-Type": "application/json"}
        self._transport = transport or HttpTransport(timeout=timeout)

    @classmethod
    def from_env(cls, **kwargs: object) -> StorachaClient:
        """Configure from ``STORACHA_SPACE_DID``, ``STORACHA_AUTH_SECRET``, ``STORACHA_AUTHORIZATION``
        (and ``STORACHA_BRIDGE_URL`` if set)."""
        missing = [v for v in ("STORACHA_SPACE_DID", "STORACHA_AUTH_SECRET", "STORACHA_AUTHORIZATION")
                   if not os.environ.get(v)]
        if missing:
            raise ConfigurationError(f"set {', '.join(missing)} to upload to Storacha")
        if os.environ.get("STORACHA_BRIDGE_URL"):
            kwargs.setdefault("bridge_url", os.environ["STORACHA_BRIDGE_URL"])
        return cls(os.environ["STORACHA_SPACE_DID"], auth_secret=os.environ["STORACHA_AUTH_SECRET"],
                   authorization=os.environ["STORACHA_AUTHORIZATION"], **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"StorachaClient({self.space_did!r}, bridge_url={self.bridge_url!r})"

    def _redact(self, remote_text: str) -> str:
        """Text from the bridge, without the two tokens this client sent (a server or proxy may echo them)."""
        return redact_credentials(remote_text, [self._headers["X-Auth-Secret"], self._headers["Authorization"]])

    # --- transport with retries -------------------------------------------------------------------------------------
    def _send(self, method: str, url: str, what: str, *, headers: dict[str, str],
              body: Body | Callable[[], Body]) -> HttpResponse:
        response = request_with_retries(
            self._transport, method, url, headers=headers, body=body, timeout=self.timeout,
            attempts=self.retries + 1, backoff=self.backoff, retry_status=SERVER_ERRORS,
        )
        if response.status >= 500:
            text = self._redact(response.read()[:200].decode("utf-8", "replace"))
            raise RemoteUnavailableError(f"Storacha {what}: HTTP {response.status} after "
                                         f"{self.retries + 1} attempts: {text}")
        return response

    def _invoke(self, ability: str, caveats: dict[str, object]) -> dict[str, object]:
        body = json.dumps({"tasks": [[ability, self.space_did, caveats]]}).encode()
        response = self._send("POST", self.bridge_url, ability, headers=self._headers, body=body)
        raw = response.read()
        if response.status in (401, 403):
            raise StorachaAuthError(f"Storacha rejected the bridge credentials for {ability} (HTTP "
                                    f"{response.status}); regenerate them with `storacha bridge generate-tokens`")
        if response.status == 413:
            raise StorachaSizeLimitError(f"Storacha {ability}: request too large (HTTP 413)")
        if response.status >= 400:
            raise StorachaError(f"Storacha {ability}: HTTP {response.status}: "
                                f"{self._redact(raw[:300].decode('utf-8', 'replace'))}")
        try:
            receipts = json.loads(raw)
            out = receipts[0]["p"]["out"]
            if not isinstance(out, dict) or not isinstance(out.get("error") or {}, dict):
                raise TypeError("a receipt's out and error must be objects")
        except (ValueError, LookupError, TypeError, RecursionError) as exc:
            raise StorachaError(f"Storacha {ability}: unexpected bridge response") from exc
        if "error" in out:
            error = out["error"] or {}
            name = str(error.get("name", "Error"))
            message = self._redact(f"Storacha {ability} failed: {name}: {error.get('message', '')}".rstrip(": "))
            if "Unauthorized" in name or "Unauthorised" in name:
                raise StorachaAuthError(message)
            if "Size" in name or "TooLarge" in name:
                raise StorachaSizeLimitError(message)
            raise StorachaError(message)
        ok = out.get("ok")
        if not isinstance(ok, dict):
            raise StorachaError(f"Storacha {ability}: receipt has neither ok nor error")
        return ok

    # --- the flow ---------------------------------------------------------------------------------------------------
    def store_add(self, car_cid: CID, size: int) -> dict[str, object]:
        return self._invoke("store/add", {"link": {"/": str(car_cid)}, "size": size})

    def upload_add(self, root: CID, shards: list[CID]) -> dict[str, object]:
        return self._invoke("upload/add", {"root": {"/": str(root)}, "shards": [{"/": str(s)} for s in shards]})

    def _put(self, url: str, headers: dict[str, str], car: bytes | Path) -> bool:
        """PUT the CAR to a presigned URL; ``False`` when the URL itself is refused (401/403: expired, or already
        used by an earlier attempt whose answer was lost) — the caller asks ``store/add`` again."""

        def body() -> bytes | Iterator[bytes]:
            if isinstance(car, bytes):
                return car
            return _file_pieces(car)

        response = self._send("PUT", url, "PUT", headers=headers, body=body)
        text = response.read()[:500].decode("utf-8", "replace")
        if response.status in (401, 403):
            return False
        if response.status == 413 or "EntityTooLarge" in text:
            raise StorachaSizeLimitError(f"Storacha refused the CAR as too large (HTTP {response.status})")
        if response.status >= 400:
            raise StorachaError(f"Storacha presigned PUT failed (HTTP {response.status}): {text}")
        return True

    def upload_car(self, car: bytes | str | os.PathLike[str], root: CID | str | None = None) -> StorachaUpload:
        """Upload one CAR as a shard and register its root. ``root`` defaults to the CAR header's only root.

        The CAR is read once locally first (every block re-hashed, the root must be inside): a corrupt CAR raises
        :class:`CorruptBlockError` and nothing is sent.
        """
        source: bytes | Path = car if isinstance(car, bytes) else Path(car)
        facts = _car_facts(source)
        if facts.size > self.max_car_size:
            raise StorachaSizeLimitError(f"CAR of {facts.size} bytes exceeds the {self.max_car_size}-byte shard limit")
        with read_car(source) as reader:  # every block re-hashed: a corrupt CAR is never uploaded
            present = {cid.multihash for cid, _ in reader}
            roots = reader.roots
        if root is None:
            if len(roots) != 1:
                raise StorachaError(f"the CAR has {len(roots)} roots; pass root= explicitly")
            root = roots[0]
        root = CID.parse(root)
        if root.multihash not in present:
            raise StorachaError(f"the CAR does not contain the root block {root}")
        # A presigned URL refused on PUT was used up by an attempt whose answer we lost (a timeout after the bytes
        # landed) or has expired: ask store/add once more — "done" if the shard landed, else a fresh URL.
        for allocation_attempt in range(2):
            allocation = self.store_add(facts.cid, facts.size)
            status = allocation.get("status")
            if status == "done":
                break
            if status != "upload":
                raise StorachaError(f"Storacha store/add returned unknown status {status!r}")
            headers = allocation.get("headers")
            wanted = {str(k).lower(): str(v) for k, v in (headers.items() if isinstance(headers, dict) else ())}
            if wanted.get("x-amz-checksum-sha256", facts.checksum) != facts.checksum:
                raise StorachaError("Storacha asked for a checksum that does not match the CAR we hashed")
            headers = {**wanted, "content-length": str(facts.size), "x-amz-checksum-sha256": facts.checksum}
            if self._put(str(allocation["url"]), headers, source):
                break
            if allocation_attempt == 1:
                raise StorachaAuthError("Storacha presigned PUT refused (HTTP 401/403) twice, with a fresh URL: "
                                        "the URLs were not signed for this CAR")
        self.upload_add(root, [facts.cid])
        return StorachaUpload(root, facts.cid, facts.size, already_stored=status == "done")

    def upload_content(self, store: CarExporter, cid: CID | str) -> StorachaUpload:
        """Export the DAG under ``cid`` from any store with ``export_car`` and upload it."""
        root = CID.parse(cid)
        with tempfile.TemporaryDirectory(prefix="anacostia-car-") as folder:
            path = Path(folder) / "upload.car"
            store.export_car(root, path)
            return self.upload_car(path, root)


def _file_pieces(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        yield from iter(lambda: handle.read(PIECE), b"")
