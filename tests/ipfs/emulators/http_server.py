"""The HTTP plumbing the emulators share: a threaded HTTP/1.1 server, chunked request bodies, chunked responses
with trailers (Kubo's ``X-Stream-Error``), and JSON replies."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    # --- request ---------------------------------------------------------------------------------------------------
    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    trailer = self.rfile.readline()
                    while trailer not in (b"\r\n", b"\n", b""):  # skip request trailers
                        trailer = self.rfile.readline()
                    return bytes(out)
                out += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    # --- responses -------------------------------------------------------------------------------------------------
    def send_bytes(self, status: int, body: bytes, content_type: str = "text/plain; charset=utf-8",
                   headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status: int, payload: object, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def send_chunked(self, status: int, chunks: Iterable[bytes], *, content_type: str,
                     headers: dict[str, str] | None = None, fail_after: int | None = None,
                     failure: str = "") -> None:
        """Stream ``chunks``; an exception while producing them, or ``fail_after`` bytes, ends the body early with
        the ``X-Stream-Error`` trailer, as Kubo's go-ipfs-cmds does."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Stream-Error")
        self.send_header("X-Stream-Output", "1")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        sent = 0
        error = ""
        try:
            for chunk in chunks:
                if fail_after is not None and sent + len(chunk) > fail_after:
                    chunk = chunk[: fail_after - sent]
                    error = failure
                if chunk:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    sent += len(chunk)
                if error:
                    break
        except Exception as exc:
            error = str(exc)
        self.wfile.write(b"0\r\n")
        if error:
            self.wfile.write(f"X-Stream-Error: {error}\r\n".encode())
        self.wfile.write(b"\r\n")
        self.wfile.flush()


class EmulatorServer:
    """Runs a handler class on 127.0.0.1:<free port> in a background thread; ``owner`` is reachable from it."""

    def __init__(self, handler: type[EmulatorHandler], owner: object, *,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._scheme = "http"
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
            self._scheme = "https"
        self._server.daemon_threads = True
        self._server.owner = owner  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(owner).__name__, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def parse_multipart(body: bytes, content_type: str) -> list[tuple[dict[str, str], bytes]]:
    """Split a multipart/form-data body into ``(headers, content)`` parts (headers lower-cased)."""
    marker = "boundary="
    if marker not in content_type:
        raise ValueError("multipart request without a boundary")
    boundary = content_type.split(marker, 1)[1].split(";")[0].strip().strip('"').encode()
    delimiter = b"--" + boundary
    if not body.startswith(delimiter):
        raise ValueError("multipart body does not start with the boundary")
    parts = []
    for raw in body.split(b"\r\n" + delimiter):
        raw = raw[len(delimiter):] if raw.startswith(delimiter) else raw
        if raw.startswith(b"--"):
            break
        raw = raw.removeprefix(b"\r\n")
        head, sep, content = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("multipart part without a header block")
        headers = {}
        for line in head.decode("utf-8").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        parts.append((headers, content))
    return parts


def disposition_param(header: str, name: str) -> str | None:
    for item in header.split(";"):
        key, _, value = item.strip().partition("=")
        if key == name:
            return value.strip('"')
    return None

