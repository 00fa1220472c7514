"""``anacostia-chain serve`` as a user runs it: a real uvicorn process bound to 127.0.0.1, secrets from the env."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from anacostia_blockchain.service import free_port


def serve(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "anacostia_blockchain.cli.main", "serve", *args],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_binds_localhost_and_answers(tmp_path: Path) -> None:
    port = free_port()
    secret = "ab" * 32
    process = serve(["--port", str(port), "--db", f"sqlite:///{tmp_path / 'index.db'}", "--chain-id", "31337",
                     "--no-indexer"], {"ANACOSTIA_SERVICE_KEY": secret})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=2) as response:
                    status = json.load(response)
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "serve did not come up"
                time.sleep(0.2)
        assert status["chain_id"] == 31337 and status["models"] == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/service/key", timeout=5) as response:
            assert len(bytes.fromhex(json.load(response)["public_key"])) == 33
        with urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/auth/nonce", method="POST"), timeout=5
        ) as response:
            assert json.load(response)["domain"] == f"127.0.0.1:{port}"  # SIWE domain defaults to where it listens
        other_addresses = [a for a in {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
                           if not a.startswith("127.")]
        for address in other_addresses:  # not reachable on the host's other interfaces
            with socket.socket() as sock:
                sock.settimeout(1)
                assert sock.connect_ex((address, port)) != 0
        # a dashboard left open: its event stream must not keep the server from shutting down
        with socket.create_connection(("127.0.0.1", port), timeout=5) as stream:
            stream.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            assert b"text/event-stream" in stream.recv(4096)
            process.terminate()
            out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            out, err = process.communicate(timeout=30)
    assert f"http://127.0.0.1:{port}/" in out
    assert secret not in out + err


def test_serve_refuses_a_malformed_secret_without_echoing_it(tmp_path: Path) -> None:
    secret = "zz" * 32
    process = serve(["--port", str(free_port()), "--db", f"sqlite:///{tmp_path / 'index.db'}"],
                    {"ANACOSTIA_SERVICE_KEY": secret})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "ANACOSTIA_SERVICE_KEY must be hex" in err and secret not in out + err
