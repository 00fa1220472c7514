"""The remote IPFS clients' HTTP: one connection reused across calls (counted by a TCP relay in front of the Kubo
emulator) and the environment's proxy settings honoured (a real forward proxy, tinyproxy, logs what went through it),
with Kubo's streamed trailers still seen on reused connections."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.kubo_emulator import KuboEmulator

from anacostia_blockchain.errors import KuboError
from anacostia_blockchain.ipfs import KuboClient
from anacostia_blockchain.ipfs.http_transport import HttpTransport

PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
                   "NO_PROXY", "no_proxy")


class CountingRelay:
    """A TCP relay to ``target``: counts the connections clients open through it."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.target)
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                end.close()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A tinyproxy on 127.0.0.1:<free port>; yields its URL and its log file."""
    binary = shutil.which("tinyproxy")
    if binary is None:
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "tinyproxy.log"
    config = tmp_path / "tinyproxy.conf"
    config.write_text(f'Port {port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{log}"\nLogLevel Info\n'
                      "Allow 127.0.0.1\nMaxClients 16\n")
    process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline, "tinyproxy did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", log
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_kubo_client_reuses_one_connection_and_still_reads_trailers(kubo: KuboEmulator, no_proxy_env: None) -> None:
    host, port = kubo.url.removeprefix("http://").split(":")
    relay = CountingRelay((host, int(port)))
    try:
        client = KuboClient(f"http://127.0.0.1:{relay.port}", backoff=0.01)
        cid = client.add_bytes(b"reused connection" * 1000).cid
        for _ in range(5):
            assert client.version()["Version"] == KuboEmulator.VERSION
            assert client.export_car(cid, io.BytesIO()) > 0  # a streamed answer read to its end (and its trailer)
        assert relay.connections == 1
        kubo.fail_stream["dag/export"] = (10, "block was not found locally (offline)")
        with pytest.raises(KuboError, match="failed mid-stream: block was not found"):
            list(client.dag_export(cid))  # the trailer of a failed stream, on the same kept-alive connection
        assert client.version()["Version"] == KuboEmulator.VERSION
        assert relay.connections == 1
        client.close()
    finally:
        relay.close()


def test_the_plain_transport_reuses_one_connection(kubo: KuboEmulator, no_proxy_env: None) -> None:
    host, port = kubo.url.removeprefix("http://").split(":")
    relay = CountingRelay((host, int(port)))
    try:
        transport = HttpTransport()
        for _ in range(5):
            response = transport.request("POST", f"http://127.0.0.1:{relay.port}/api/v0/version")
            assert response.status == 200 and b"Version" in response.read()
        assert relay.connections == 1
        transport.close()
    finally:
        relay.close()


@pytest.mark.parametrize("trailers", [True, False], ids=["kubo-transport", "plain-transport"])
def test_the_environment_proxy_is_used_unless_no_proxy_names_the_host(
    kubo: KuboEmulator, tinyproxy: tuple[str, Path], no_proxy_env: None, monkeypatch: pytest.MonkeyPatch,
    trailers: bool,
) -> None:
    proxy, log = tinyproxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    transport = HttpTransport(trailers=trailers)
    response = transport.request("POST", f"{kubo.url}/api/v0/version")
    assert response.status == 200 and b"Version" in response.read()
    assert f"{kubo.url}/api/v0/version" in log.read_text()  # tinyproxy logged the request it forwarded
    transport.close()

    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    direct = HttpTransport(trailers=trailers)
    assert direct.request("POST", f"{kubo.url}/api/v0/id").status == 200
    assert "/api/v0/id" not in log.read_text()
    direct.close()
