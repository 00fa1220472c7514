"""Shared pieces for the hostile storage tests: the ``tests/ipfs`` emulators, a Kubo that ignores import flags, a
server that answers anything, and an action that saves one artifact."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))
from emulators.kubo_emulator import KuboEmulator
from emulators.storacha_emulator import StorachaEmulator

from anacostia_blockchain.engine import BaseActionNode
from anacostia_blockchain.engine.resource import BaseResourceNode
from anacostia_blockchain.ipfs import ImportOptions

__all__ = ["FlagIgnoringKubo", "HostileHttpServer", "KuboEmulator", "SaveOnce", "StorachaEmulator"]


class FlagIgnoringKubo(KuboEmulator):
    """A daemon that ignores the import flags it is sent (``cid-version``, ``chunker``, ...) and imports with its own
    defaults: everything it stores is genuine, but under CIDs other than the ones the client asked for."""

    def _options(self, params: dict[str, list[str]]) -> ImportOptions:
        return ImportOptions()


class SaveOnce(BaseActionNode):
    """Saves ``payload`` (bytes, as ``model.bin``, or a file by path) into ``target`` once per run (the run is started
    by ``trigger``)."""

    def __init__(self, name: str, trigger: BaseResourceNode, target: Any, payload: bytes | Path) -> None:
        super().__init__(name, [trigger, target])
        self.target, self.payload = target, payload
        self.saved: list[Any] = []

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        if isinstance(self.payload, bytes):
            self.saved.append(self.target.save_artifact("model.bin", self.payload))
        else:  # a path: the store adds the file itself
            self.saved.append(self.target.save_artifact(self.payload))
        return True


class HostileHttpServer:
    """A real HTTP server on loopback answering every request (any method, any path) with ``status`` and ``body``:
    a daemon, bridge or pinning service that has gone wrong in whatever way a test sets."""

    def __init__(self) -> None:
        self.status = 200
        self.body = b""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                self._drain()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(owner.body)))
                self.end_headers()
                self.wfile.write(owner.body)

            def _drain(self) -> None:
                if self.headers.get("Content-Length"):
                    self.rfile.read(int(self.headers["Content-Length"]))
                elif self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        self.rfile.read(size + 2)
                    self.rfile.readline()

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HostileHttpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
