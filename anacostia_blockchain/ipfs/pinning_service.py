"""A client for the IPFS Pinning Service API (``/pins``), the vendor-neutral remote pinning protocol.

Endpoints (spec v1.0.0): ``GET /pins`` (list, filtered by cid/name/status), ``POST /pins`` (request a pin, 202),
``GET /pins/{requestid}``, ``POST /pins/{requestid}`` (replace), ``DELETE /pins/{requestid}`` (202). Auth is a
bearer token. Failures come back as ``{"error": {"reason", "details"}}`` and raise :class:`PinningServiceError`
with ``.status`` and ``.reason``; transport failures and 5xx (retried) raise :class:`RemoteUnavailableError`.
Pinning is asynchronous on the service side: :meth:`PinningServiceClient.wait` polls until ``pinned`` or
``failed``. The token never appears in ``repr`` or messages.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError, PinningServiceError, RemoteUnavailableError
from .cid import CID
from .http_transport import (
    SERVER_ERRORS,
    HttpTransport,
    Transport,
    TransportClient,
    redact_credentials,
    request_with_retries,
)

STATUSES = ("queued", "pinning", "pinned", "failed")


@dataclass(frozen=True, slots=True)
class PinStatus:
    requestid: str
    status: str
    cid: CID
    name: str | None = None
    created: str = ""
    delegates: tuple[str, ...] = ()
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> PinStatus:
        try:
            pin = payload["pin"]
            status = payload["status"]
            if status not in STATUSES:
                raise ValueError(f"unknown pin status {status!r}")
            return cls(str(payload["requestid"]), status, CID.parse(pin["cid"]), pin.get("name"),
                       str(payload.get("created", "")), tuple(payload.get("delegates") or ()),
                       dict(payload.get("info") or {}))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:  # AttributeError: "pin" is not an object
            raise PinningServiceError(f"malformed PinStatus from the pinning service: {exc}") from exc


class PinningServiceClient(TransportClient):
    def __init__(self, endpoint: str, token: str, *, timeout: float = 30.0, retries: int = 2, backoff: float = 0.5,
                 transport: Transport | None = None) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ConfigurationError(f"pinning service endpoint must be an http(s) URL, got {endpoint!r}")
        if not token:
            raise ConfigurationError("pinning service access token is empty")
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._transport = transport or HttpTransport(timeout=timeout)

    def __repr__(self) -> str:
        return f"PinningServiceClient({self.endpoint!r})"

    def _request(self, method: str, path: str, *, params: list[tuple[str, str]] | None = None,
                 payload: dict[str, Any] | None = None) -> dict[str, Any] | None:
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        body = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            body = json.dumps(payload).encode()
        response = request_with_retries(
            self._transport, method, self.endpoint + path, params=params, headers=headers, body=body,
            timeout=self.timeout, attempts=self.retries + 1, backoff=self.backoff, retry_status=SERVER_ERRORS,
        )
        raw = response.read()
        if response.status >= 500:
            raise RemoteUnavailableError(f"pinning service {method} {path}: HTTP {response.status}")
        if response.status >= 400:
            reason, details = "HTTP_ERROR", raw[:200].decode("utf-8", "replace")
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError, RecursionError):
                error = json.loads(raw)["error"]
                reason, details = str(error.get("reason", reason)), str(error.get("details", ""))
            details = redact_credentials(details, [self._token])  # a server may echo the token back
            raise PinningServiceError(f"pinning service {method} {path}: {reason}: {details}".rstrip(": "),
                                      status=response.status, reason=reason)
        if not raw.strip():
            return None
        try:
            answer = json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise PinningServiceError(f"pinning service {method} {path}: the answer is not JSON",
                                      status=response.status, reason="BAD_RESPONSE") from exc
        if not isinstance(answer, dict):
            raise PinningServiceError(f"pinning service {method} {path}: the answer is a JSON "
                                      f"{type(answer).__name__}, not an object", status=response.status,
                                      reason="BAD_RESPONSE")
        return answer

    def add(self, cid: CID | str, *, name: str | None = None, origins: tuple[str, ...] = (),
            meta: dict[str, str] | None = None) -> PinStatus:
        pin: dict[str, Any] = {"cid": str(CID.parse(cid))}
        if name:
            pin["name"] = name
        if origins:
            pin["origins"] = list(origins)
        if meta:
            pin["meta"] = meta
        return PinStatus.from_json(self._request("POST", "/pins", payload=pin) or {})

    def get(self, requestid: str) -> PinStatus:
        return PinStatus.from_json(self._request("GET", f"/pins/{requestid}") or {})

    def list(self, *, cid: CID | str | None = None, name: str | None = None,
             status: tuple[str, ...] = ("pinned",), limit: int = 10) -> list[PinStatus]:
        params = [("status", ",".join(status)), ("limit", str(limit))]
        if cid is not None:
            params.append(("cid", str(CID.parse(cid))))
        if name is not None:
            params.append(("name", name))
        answer = self._request("GET", "/pins", params=params) or {}
        results = answer.get("results", [])
        if not isinstance(results, list):
            raise PinningServiceError(f"pinning service GET /pins: results is a JSON {type(results).__name__}, "
                                      "not an array", reason="BAD_RESPONSE")
        return [PinStatus.from_json(item) for item in results]

    def replace(self, requestid: str, cid: CID | str, *, name: str | None = None) -> PinStatus:
        pin: dict[str, Any] = {"cid": str(CID.parse(cid))}
        if name:
            pin["name"] = name
        return PinStatus.from_json(self._request("POST", f"/pins/{requestid}", payload=pin) or {})

    def remove(self, requestid: str) -> None:
        self._request("DELETE", f"/pins/{requestid}")

    def wait(self, requestid: str, *, timeout: float = 300.0, interval: float = 2.0) -> PinStatus:
        """Poll until the pin is ``pinned`` (returned) or ``failed`` (:class:`PinningServiceError`)."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.get(requestid)
            if status.status == "pinned":
                return status
            if status.status == "failed":
                raise PinningServiceError(f"the pinning service failed to pin {status.cid}: {status.info}",
                                          reason="PIN_FAILED")
            if time.monotonic() >= deadline:
                raise RemoteUnavailableError(f"{status.cid} still {status.status} after {timeout:.0f} s")
            time.sleep(interval)
