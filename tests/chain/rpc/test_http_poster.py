"""The HTTP layer under JSON-RPC: keep-alive reuse, reconnect, credentials, proxies, redaction."""

from __future__ import annotations

import base64
import itertools
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from anacostia_blockchain.chain.rpc import HttpJsonPoster, redact_url
from anacostia_blockchain.errors import ChainConnectionError, ConfigurationError


class Recorder:
    """A keep-alive HTTP/1.1 server that records what it receives; ``drop_after`` closes the socket silently."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes, int]] = []  # path, headers, body, connection number
        self.drop_after_each = False
        recorder = self
        connection_numbers = itertools.count()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection_number = next(connection_numbers)  # one handler per TCP connection

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.requests.append((self.path, dict(self.headers), body, self.connection_number))
                payload = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
                if recorder.drop_after_each:
                    self.close_connection = True  # closes without telling the client (no Connection: close)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.close()


def test_connection_is_kept_alive_per_thread(recorder: Recorder) -> None:
    poster = HttpJsonPoster(f"http://127.0.0.1:{recorder.port}/rpc?x=1")
    for _ in range(3):
        assert poster.post(b"{}", "test") == (200, b'{"ok": true}')
    other: list[tuple[int, bytes]] = []
    thread = threading.Thread(target=lambda: other.append(poster.post(b"{}", "test")))
    thread.start()
    thread.join()
    connections = [r[3] for r in recorder.requests]
    assert len(set(connections[:3])) == 1 and connections[3] != connections[0]
    assert all(r[0] == "/rpc?x=1" for r in recorder.requests)


def test_reconnects_when_the_server_dropped_the_connection(recorder: Recorder) -> None:
    recorder.drop_after_each = True
    poster = HttpJsonPoster(f"http://127.0.0.1:{recorder.port}")
    for _ in range(3):
        assert poster.post(b"{}", "test")[0] == 200
    assert len(recorder.requests) == 3 and len({r[3] for r in recorder.requests}) == 3


def test_credentials_become_basic_auth_and_never_show(recorder: Recorder) -> None:
    url = f"http://alice:s3cr%40t@127.0.0.1:{recorder.port}/v3/APIKEY123"
    poster = HttpJsonPoster(url)
    poster.post(b"{}", "test")
    headers = recorder.requests[0][1]
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"alice:s3cr@t").decode()
    assert poster.display_url == f"http://127.0.0.1:{recorder.port}"
    assert redact_url(url) == poster.display_url


def test_unreachable_and_bad_urls(recorder: Recorder) -> None:
    port = recorder.port
    recorder.close()
    poster = HttpJsonPoster(f"http://user:pw@127.0.0.1:{port}/KEY", timeout=2)
    with pytest.raises(ChainConnectionError, match="unreachable") as info:
        poster.post(b"{}", "eth_chainId")
    assert "KEY" not in str(info.value) and "pw" not in str(info.value)
    with pytest.raises(ConfigurationError, match="http"):
        HttpJsonPoster("ws://127.0.0.1:8545")
    with pytest.raises(ConfigurationError):
        HttpJsonPoster("http:///nohost")


def test_http_proxy_from_the_environment(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{recorder.port}")
    monkeypatch.setenv("no_proxy", "")
    poster = HttpJsonPoster("http://rpc.example.invalid:8545/path")
    assert poster.post(b"{}", "test")[0] == 200
    assert recorder.requests[0][0] == "http://rpc.example.invalid:8545/path"  # absolute URI: proxied
