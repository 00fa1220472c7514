"""Credentials for remote services stay secret, even when the remote end is hostile.

Kubo's ``Authorization`` (bearer or basic), the IPFS Pinning Service bearer token and Storacha's two bridge tokens are
sent to servers this library does not trust (see SECURITY.md). A server — or a proxy in front of it — may echo the
request headers back in an error body, an NDJSON error event or Kubo's ``X-Stream-Error`` trailer, and those texts
become exception messages that end up in logs. :class:`EchoServer` is such a server (real HTTP on loopback): it
reads each request whole and answers with every request header echoed, in the shape each protocol uses for errors.
The clients' exceptions (message, repr, attributes, chained traceback), their reprs and every DEBUG log record
(httpx, httpcore, the library) must not contain any of the credentials, in any spelling. The same holds for
credentials that travel inside URLs (database, RPC, Redis, Kubo).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_secrets_scanner import LogRecorder, SecretScanner, exception_text, reachable_reprs

from anacostia_blockchain.chain.dev.devnet import Devnet, free_port
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.errors import AnacostiaError, StorageError
from anacostia_blockchain.ipfs import EmbeddedBlockstore, KuboClient, StorachaClient
from anacostia_blockchain.ipfs.pinning_service import PinningServiceClient
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.service import ServiceConfig

KUBO_TOKEN = "kubo-bearer-9f8e7d6c5b4a39281706"
KUBO_USER, KUBO_PASSWORD = "operator", "basic-password-0a1b2c3d4e5f"
PIN_TOKEN = "pinning-token-1c2d3e4f5a6b7c8d9e0f"
STORACHA_SECRET = "storacha-secret-11223344556677889900"
STORACHA_AUTHORIZATION = "uOqJlcm9vdHOB2CpYJQABcRIg-storacha-ucan"


class EchoHandler(BaseHTTPRequestHandler):
    """Answers every request with its headers echoed, as ``server.mode`` says (see the module docstring)."""

    server: EchoServer
    protocol_version = "HTTP/1.1"

    def _read_body(self) -> None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                self.rfile.read(size + 2)
                if size == 0:
                    return
        self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _handle(self) -> None:
        self._read_body()
        echo = "; ".join(f"{name}: {value}" for name, value in self.headers.items())
        status, mode = self.server.mode
        if mode == "trailer":  # Kubo's streamed failure: 200, an empty chunked body, the error in a trailer
            self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Stream-Error\r\n"
                             b"Connection: close\r\n\r\n0\r\nX-Stream-Error: " + echo.encode() + b"\r\n\r\n")
            self.close_connection = True
            return
        if mode == "ndjson":  # Kubo's add: an error event in a 200 NDJSON stream
            body = json.dumps({"Message": f"add failed for {echo}", "Code": 0, "Type": "error"}).encode() + b"\n"
        elif mode == "storacha-receipt":  # the bridge: 200 with an error receipt
            body = json.dumps([{"p": {"out": {"error": {"name": "Failure", "message": f"bad {echo}"}}}}]).encode()
        else:  # Kubo / pinning-service / plain error bodies, all in one JSON document
            body = json.dumps({"Message": f"denied {echo}", "Code": 0, "Type": "error",
                               "error": {"reason": "UNAUTHORIZED", "details": f"denied {echo}"}}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    do_GET = do_POST = do_PUT = _handle

    def log_message(self, *args: object) -> None:  # the server's own access log is not under test
        return


class EchoServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), EchoHandler)
        self.mode: tuple[int, str] = (400, "json")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, name="echo-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def a_car(tmp_path: Path) -> bytes:
    blocks = EmbeddedBlockstore(tmp_path / "ipfs", fsync=False)
    cid = blocks.add_bytes(b"a model" * 100, cid_version=1).cid
    blocks.export_car(cid, tmp_path / "model.car")
    return (tmp_path / "model.car").read_bytes()


def scanner() -> SecretScanner:
    found = SecretScanner()
    for label, secret in [("Kubo bearer token", KUBO_TOKEN), ("Kubo basic password", KUBO_PASSWORD),
                          ("Kubo basic header", base64.b64encode(f"{KUBO_USER}:{KUBO_PASSWORD}".encode()).decode()),
                          ("pinning token", PIN_TOKEN), ("Storacha auth secret", STORACHA_SECRET),
                          ("Storacha authorization", STORACHA_AUTHORIZATION)]:
        found.add(label, secret.encode())
    return found


def clients(url: str) -> dict[str, object]:
    return {
        "bearer": KuboClient(url, auth=f"Bearer {KUBO_TOKEN}", retries=0),
        "basic": KuboClient(url, auth=(KUBO_USER, KUBO_PASSWORD), retries=0),
        "pins": PinningServiceClient(url, PIN_TOKEN, retries=0, backoff=0.0),
        "storacha": StorachaClient("did:key:z6MkhardeningSpace", auth_secret=STORACHA_SECRET,
                                   authorization=STORACHA_AUTHORIZATION, bridge_url=url, retries=0, backoff=0.0),
    }


def calls(client: dict[str, Any], car: bytes) -> list[tuple[str, tuple[int, str], Callable[[], object]]]:
    """(what, (status, server mode), the call that must fail with a StorageError)."""
    bearer, basic, pins, storacha = client["bearer"], client["basic"], client["pins"], client["storacha"]
    cid = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
    return [
        ("Kubo bearer, 400 JSON error", (400, "json"), lambda: bearer.add_bytes(b"weights")),
        ("Kubo bearer, 500 JSON error", (500, "json"), lambda: bearer.version()),
        ("Kubo bearer, 502 text error", (502, "text"), lambda: bearer.version()),
        ("Kubo basic, 400 JSON error", (400, "json"), lambda: basic.version()),
        ("Kubo bearer, NDJSON error event", (200, "ndjson"), lambda: bearer.add_bytes(b"weights")),
        ("Kubo basic, X-Stream-Error trailer", (200, "trailer"), lambda: basic.cat(cid)),
        ("pinning service, 401", (401, "json"), lambda: pins.list()),
        ("pinning service, 400", (400, "json"), lambda: pins.add(cid, name="model")),
        ("Storacha, 400", (400, "json"), lambda: storacha.upload_car(car)),
        ("Storacha, 500", (500, "json"), lambda: storacha.upload_car(car)),
        ("Storacha, error receipt", (200, "storacha-receipt"), lambda: storacha.upload_car(car)),
    ]


def test_a_server_echoing_credentials_gets_them_into_no_error_repr_or_log(
    echo_server: EchoServer, a_car: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = LogRecorder()
    client = clients(echo_server.url)
    errors: list[tuple[str, str]] = []
    with recorder.active(monkeypatch):
        for what, mode, call in calls(client, a_car):
            echo_server.mode = mode
            with pytest.raises(StorageError) as caught:
                call()
            errors.append((f"{what}: {type(caught.value).__name__}", exception_text(caught.value)))
    reprs = reachable_reprs(client)

    assert len(errors) == 11
    # the server did echo the credentials: the errors still say what it said, minus the secrets
    assert sum("<redacted>" in text for _, text in errors) >= 8, errors
    assert {"repr of KuboClient", "repr of PinningServiceClient", "repr of StorachaClient"} <= {n for n, _ in reprs}
    leaks = scanner().scan([*errors, *reprs, *recorder.texts()])
    assert not leaks, leaks


# --- credentials inside URLs ------------------------------------------------------------------------------------------
DB_PASSWORD, RPC_API_KEY, RPC_PASSWORD = "db-password-5e6f7a8b9c", "rpc-api-key-0d1e2f3a4b5c", "rpc-password-6a7b8c9d"
REDIS_PASSWORD, KUBO_URL_PASSWORD = "redis-password-1f2e3d4c", "kubo-url-password-7b8c9d0e"


def test_credentials_inside_urls_stay_out_of_reprs_and_errors(devnet: Devnet, monkeypatch: pytest.MonkeyPatch) -> None:
    """Database passwords, RPC API keys (in the path or the query, as hosted providers issue them) and passwords,
    Redis passwords and Kubo basic credentials travel inside URLs; objects holding those URLs and the errors they
    raise must not show them."""
    closed = free_port()
    database = f"postgresql+psycopg://svc:{DB_PASSWORD}@127.0.0.1:{closed}/anacostia"
    rpc = f"http://rpc:{RPC_PASSWORD}@127.0.0.1:{devnet.port}/?apikey={RPC_API_KEY}"
    recorder = LogRecorder()
    errors: list[tuple[str, str]] = []
    with recorder.active(monkeypatch):
        config = ServiceConfig(database_url=database, rpc_url=rpc, rate_limit_redis_url=f"redis://:{REDIS_PASSWORD}"
                               f"@127.0.0.1:{closed}/0", content_store=f"http://kubo:{KUBO_URL_PASSWORD}@127.0.0.1:1")
        client = ChainClient(rpc)  # anvil ignores the credentials: the client works, and holds them
        kubo = KuboClient(f"http://kubo:{KUBO_URL_PASSWORD}@127.0.0.1:{closed}", retries=0)
        store = SqliteMetadataStore("metadata", database)
        failing: list[tuple[str, Callable[[], object]]] = [
            ("chain unreachable", lambda: ChainClient(f"http://rpc:{RPC_PASSWORD}@127.0.0.1:{closed}/v3/{RPC_API_KEY}")),
            ("kubo unreachable", kubo.version),
            ("database unreachable", store.runs.get_runs),
        ]
        for what, call in failing:
            with pytest.raises(AnacostiaError) as caught:
                call()
            errors.append((what, exception_text(caught.value)))
    reprs = reachable_reprs([config, client, kubo, store])

    assert client.chain_id == devnet.chain_id
    assert {"repr of ServiceConfig", "repr of ChainClient", "repr of KuboClient", "repr of SqlMetadataStore"} <= {
        name for name, _ in reprs
    }
    secrets = SecretScanner()
    for label, secret in [("database password", DB_PASSWORD), ("RPC API key", RPC_API_KEY),
                          ("RPC password", RPC_PASSWORD), ("Redis password", REDIS_PASSWORD),
                          ("Kubo URL password", KUBO_URL_PASSWORD)]:
        secrets.add(label, secret.encode())
    leaks = secrets.scan([*errors, *reprs, *recorder.texts()])
    assert not leaks, leaks
