"""The Kubo and Storacha emulators (``tests/ipfs/emulators``) with programmable transport faults.

The emulators already speak the documented wire protocols and re-hash everything; this module adds what a flaky
network or an overloaded daemon does to a request, decided per request by a :class:`FaultPlan`:

- ``"500"``: an HTTP 500 with the service's error body (Kubo: ``{"Message","Code":0,"Type":"error"}``; Storacha's
  bridge / S3: a plain 500) — the request is *not* processed;
- ``"timeout"``: the request is processed, but the answer is delayed past the client's timeout (the server did the
  work, the client never learns the result — the dangerous case for "recorded as stored");
- ``"truncate"``: the request is processed and its real answer is cut (after the headers and less than half of the
  body; inside the headers when the body is empty), then the connection is closed;
- ``"empty"``: the request is *not* processed and the answer is a well-formed ``200`` with an empty body (what a
  misconfigured proxy in front of the service can send).

Faults apply to requests whose path contains the plan's ``match`` text (``"/api/v0/add"``, ``"/bridge"``,
``"/s3/"``), in order, one fault per matching request (``"pass"`` lets one through, to aim at a later call);
requests beyond the list pass untouched.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))  # the emulators package lives there

from emulators.http_server import EmulatorServer
from emulators.kubo_emulator import KuboEmulator, _KuboHandler
from emulators.storacha_emulator import TEST_SPACE, StorachaEmulator, _StorachaHandler

__all__ = ["TEST_SPACE", "FaultPlan", "FaultyKubo", "FaultyStoracha", "KuboEmulator", "StorachaEmulator"]

FAULTS = ("pass", "500", "timeout", "truncate", "empty")


@dataclass
class FaultPlan:
    """Faults to inject, in order, into requests whose path contains ``match``; ``injected`` records what fired."""

    delay: float = 1.0  # seconds a "timeout" answer is held back (set it above the client's timeout)
    rules: dict[str, list[str]] = field(default_factory=dict)
    injected: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, match: str, faults: Iterable[str]) -> None:
        faults = list(faults)
        unknown = [f for f in faults if f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown faults {unknown}; use {FAULTS}")
        with self._lock:
            self.rules.setdefault(match, []).extend(faults)

    def take(self, path: str) -> str | None:
        with self._lock:
            for match, faults in self.rules.items():
                if match in path and faults:
                    fault = faults.pop(0)
                    self.injected.append((match, fault))
                    return fault
        return None

    def pending(self) -> int:
        with self._lock:
            return sum(len(faults) for faults in self.rules.values())


class _TruncatingWriter:
    """Collects a whole response, then :meth:`finish` sends only part of it: the headers and less than half of the
    body, or — for an empty body — half of the headers. Either way the client's framing promised more."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self._response = b""

    def write(self, data: bytes) -> int:
        self._response += bytes(data)
        return len(data)

    def flush(self) -> None:
        return

    def finish(self) -> None:
        end = self._response.find(b"\r\n\r\n")
        head, body = self._response[: end + 4], self._response[end + 4 :]
        if body:
            self._inner.write(head + body[: max(0, len(body) // 2 - 1)])
        else:
            self._inner.write(head[: len(head) // 2])
        self._inner.flush()


class _FaultMixin:
    """Wraps a handler's ``do_POST``/``do_PUT`` with the owner's fault plan."""

    server: Any
    path: str
    wfile: Any
    connection: socket.socket
    close_connection: bool

    def _plan(self) -> FaultPlan:
        return self.server.owner.faults  # type: ignore[no-any-return]

    def _faulted(self, handle: Any) -> None:
        plan = self._plan()
        fault = plan.take(self.path)
        if fault is None or fault == "pass":
            handle()
        elif fault == "500":
            self.read_body()  # type: ignore[attr-defined]
            self._send_500()
        elif fault == "empty":
            self.read_body()  # type: ignore[attr-defined]
            self.send_bytes(200, b"", "application/json")  # type: ignore[attr-defined]
        elif fault == "timeout":
            real = self.wfile
            self.wfile = _Buffer()
            handle()
            time.sleep(plan.delay)  # the client gave up by now; it never sees the answer
            self.wfile = real
            self.close_connection = True
        else:
            real = self.wfile
            truncating = _TruncatingWriter(real)
            self.wfile = truncating
            handle()
            truncating.finish()
            self.wfile = real
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send_500(self) -> None:
        self.send_bytes(500, b"Internal Server Error")  # type: ignore[attr-defined]


class _Buffer:
    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return


class _FaultyKuboHandler(_FaultMixin, _KuboHandler):
    def _send_500(self) -> None:
        self.send_json(500, {"Message": "injected internal error", "Code": 0, "Type": "error"})

    def do_POST(self) -> None:
        self._faulted(super().do_POST)


class _FaultyStorachaHandler(_FaultMixin, _StorachaHandler):
    def do_POST(self) -> None:
        self._faulted(super().do_POST)

    def do_PUT(self) -> None:
        self._faulted(super().do_PUT)


class FaultyKubo(KuboEmulator):
    """:class:`KuboEmulator` whose requests go through ``self.faults`` first."""

    def __init__(self, repo: Path, **kwargs: Any) -> None:
        super().__init__(repo, **kwargs)
        self.faults = FaultPlan()
        self._server = EmulatorServer(_FaultyKuboHandler, self)


class FaultyStoracha(StorachaEmulator):
    """:class:`StorachaEmulator` whose bridge calls and presigned PUTs go through ``self.faults`` first."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.faults = FaultPlan()
        self._server = EmulatorServer(_FaultyStorachaHandler, self)
