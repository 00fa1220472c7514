"""``anacostia-chain serve`` as a user runs it: a real uvicorn process bound to 127.0.0.1, secrets from the env."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, inspect

from anacostia_blockchain.metadata import RunStore
from anacostia_blockchain.service import free_port


def serve(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ANACOSTIA_")}
    return subprocess.Popen(
        [sys.executable, "-m", "anacostia_blockchain", "serve", *args],
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
    )


def test_serve_binds_localhost_and_answers(tmp_path: Path) -> None:
    port = free_port()
    secret = "ab" * 32
    process = serve(["--port", str(port), "--db", f"sqlite:///{tmp_path / 'index.db'}", "--chain-id", "31337",
                     "--no-indexer"], {"ANACOSTIA_SERVICE_KEY": secret}, cwd=tmp_path)
    try:
        assert process.stdout is not None
        announced = process.stdout.readline()  # printed only once the port is bound: no retry needed
        assert f"http://127.0.0.1:{port}/" in announced, (announced, process.poll())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=30) as response:
            status = json.load(response)
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
    assert "the index sqlite:///" in err and "is empty" in err  # --no-indexer on an empty index is said loudly
    assert secret not in announced + out + err


def test_serve_refuses_a_malformed_secret_without_echoing_it(tmp_path: Path) -> None:
    secret = "zz" * 32
    process = serve(["--port", str(free_port()), "--db", f"sqlite:///{tmp_path / 'index.db'}", "--no-indexer"],
                    {"ANACOSTIA_SERVICE_KEY": secret})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "ANACOSTIA_SERVICE_KEY" in err and "must be hex" in err and secret not in out + err


def finished(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """Run ``serve`` expecting it to refuse to start (it is killed if it serves instead)."""
    process = serve(args, {}, cwd=cwd)
    try:
        out, err = process.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate(timeout=30)
        raise AssertionError(f"serve started instead of refusing: {out} {err}") from None
    return process.returncode, out, err


def test_serve_refuses_to_start_without_a_chain_to_index(tmp_path: Path) -> None:
    code, out, err = finished(["--port", str(free_port()), "--db", f"sqlite:///{tmp_path / 'index.db'}"], tmp_path)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--rpc-url" in err and "--no-indexer" in err
    code, _, err = finished(["--port", str(free_port()), "--db", f"sqlite:///{tmp_path / 'index.db'}",
                             "--rpc-url", "http://127.0.0.1:1"], tmp_path)
    assert code == 2 and "--manifest" in err  # a chain but no deployment manifest (and no ./deployments)


def test_serve_reports_a_port_in_use_without_announcing_a_url(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        code, out, err = finished(["--port", str(port), "--db", f"sqlite:///{tmp_path / 'index.db'}",
                                   "--no-indexer"], tmp_path)
    assert code == 1 and "http://" not in out
    assert err.strip() == f"error: cannot listen on 127.0.0.1:{port}: Address already in use"


def test_serve_refuses_a_database_that_holds_a_metadata_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pipeline.db'}"
    store = RunStore(url)  # what a pipeline's metadata store leaves in its database
    store.open()
    store.engine.dispose()
    before = set(inspect(create_engine(url)).get_table_names())
    code, out, err = finished(["--port", str(free_port()), "--db", url, "--no-indexer"], tmp_path)
    assert code == 1 and "http://" not in out and err.count("\n") == 1
    assert "holds an Anacostia metadata store" in err and "'runs'" in err and "database of its own" in err
    assert set(inspect(create_engine(url)).get_table_names()) == before  # nothing half-made


def test_serve_help_documents_its_exit_codes() -> None:
    help_text = subprocess.run([sys.executable, "-m", "anacostia_blockchain", "serve", "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "Exit codes: 0 stopped" in help_text and "2 usage" in help_text and "Example:" in help_text


def test_serve_writes_an_access_log_line_per_request_as_json_on_request(tmp_path: Path) -> None:
    port = free_port()
    process = serve(["--port", str(port), "--db", f"sqlite:///{tmp_path / 'index.db'}", "--chain-id", "31337",
                     "--no-indexer", "--log-format", "json"], {"ANACOSTIA_SERVICE_KEY": "cd" * 32}, cwd=tmp_path)
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}/" in process.stdout.readline(), process.poll()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status?page=1", timeout=30) as response:
            assert response.status == 200
        process.terminate()
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert [(r["level"], r["message"].split(" - ", 1)[1]) for r in access] == [
        ("INFO", '"GET /status?page=1 HTTP/1.1" 200')]
    assert access[0]["message"].startswith("127.0.0.1:")
