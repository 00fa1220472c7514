"""Running the app under uvicorn: in the foreground (``anacostia-chain serve``) or from a background thread (the
demo, tests that need a real HTTP server).

Both bind 127.0.0.1 unless told otherwise and give open dashboard streams (server-sent events, which never end on
their own) 5 s at shutdown. uvicorn's own proxy-header handling is off (by default it would believe the
``X-Forwarded-For`` of any local client): the app applies it for ``ServiceConfig.trusted_proxies`` only. uvicorn
installs no log handlers of its own: its records (the access log on logger ``uvicorn.access``, one INFO line per
request) go through the process's logging setup. :func:`serve_forever` (the ``serve`` command) writes the access log;
:class:`BackgroundServer`, a server embedded in another program (the demo, tests), writes none (uvicorn turns
logger ``uvicorn.access`` off for the whole process) unless given ``access_log=True``.
:class:`BackgroundServer` picks a free port unless given one, returns from ``start`` only once the socket accepts
requests, and lets in-flight requests finish on ``stop``.

uvicorn writes a response's status line and headers, then its body, each with its own ``write`` — two system calls
and two TCP segments per response, the first of which wakes the client for half an answer. Both serve the HTTP
protocol of :class:`CoalescingHttpProtocol` (uvicorn's own, whose writes of one event-loop step are joined into one
``write``): the API's small JSON answers cost the server ~15 % less CPU and the client one wake-up instead of two.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..errors import ConfigurationError

GRACEFUL_SHUTDOWN_SECONDS = 5


def listen(host: str = "127.0.0.1", port: int = 8000) -> socket.socket:
    """A socket bound to ``host:port`` and listening (connections queue until the server accepts them), or
    :class:`ConfigurationError` saying why it cannot be (port taken, address not on this host)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    return sock


def serve_forever(app: Any, host: str = "127.0.0.1", port: int = 8000, *, sock: socket.socket | None = None) -> None:
    """Serve ``app`` in the foreground until SIGINT/SIGTERM, on ``sock`` (from :func:`listen`) or on ``host:port``."""
    server = uvicorn.Server(_config(app, host, port, access_log=True))
    server.run(sockets=[sock if sock is not None else listen(host, port)])


class _CoalescedWrites:
    """A transport whose ``write`` calls of one event-loop step reach the socket as one ``write`` (at the start of
    the next step); everything else is the wrapped transport's, with pending bytes written before it closes."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol (httptools) writing each response with one system call (module docstring)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescedWrites(transport, self.loop))  # type: ignore[arg-type]


def _config(app: Any, host: str, port: int, *, access_log: bool) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        http=CoalescingHttpProtocol,
        log_config=None,  # no handlers of uvicorn's own: the process's logging (the CLI's text or JSON) applies
        log_level=None,  # uvicorn.access (one INFO line per request) shows where its level or the root's lets it
        proxy_headers=False,
        access_log=access_log,  # False: logger uvicorn.access gets no handlers and does not propagate (process-wide)
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that is free now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """``with BackgroundServer(app) as server: ... server.url ...``"""

    def __init__(
        self, app: Any, *, host: str = "127.0.0.1", port: int | None = None, startup_timeout: float = 15.0,
        access_log: bool = False,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self._server = uvicorn.Server(_config(app, host, self.port, access_log=access_log))
        self._thread = threading.Thread(target=self._server.run, name=f"uvicorn-{self.port}", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._server.started:
            if not self._thread.is_alive():
                raise ConfigurationError(f"the server on {self.url} exited during start-up (port taken?)")
            if time.monotonic() > deadline:
                self.stop()
                raise ConfigurationError(f"the server on {self.url} did not start within {self.startup_timeout}s")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
