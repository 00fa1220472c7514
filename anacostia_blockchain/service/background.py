"""Serve an app from a background thread (the demo's ``--serve``, tests that need a real HTTP server).

``anacostia-chain serve`` runs uvicorn in the foreground; this is the same server on a daemon thread, bound to
127.0.0.1 and a free port unless told otherwise, with a start that returns only once the socket accepts requests
and a stop that lets in-flight requests finish.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from ..errors import ConfigurationError


def free_port(host: str = "127.0.0.1") -> int:
    """A port on ``host`` that is free now (the server binds it moments later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class BackgroundServer:
    """``with BackgroundServer(app) as server: ... server.url ...``"""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int | None = None, startup_timeout: float = 15.0):
        self.host = host
        self.port = port or free_port(host)
        self.startup_timeout = startup_timeout
        self._server = uvicorn.Server(
            uvicorn.Config(app, host=host, port=self.port, log_level="warning", timeout_graceful_shutdown=5)
        )
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
