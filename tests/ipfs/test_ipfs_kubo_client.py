"""KuboClient against the Kubo RPC emulator (a real HTTP server speaking Kubo's wire format)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import httpx
import pytest
from emulators.kubo_emulator import KuboEmulator

from anacostia_blockchain.errors import (
    ContentNotFoundError,
    CorruptBlockError,
    KuboError,
    NotAFileError,
    RemoteUnavailableError,
)
from anacostia_blockchain.ipfs import CID, ContentStore, EmbeddedBlockstore, KuboClient, import_bytes, import_path
from anacostia_blockchain.ipfs.http_transport import HttpTransport


def _data(size: int) -> bytes:
    return os.urandom(size)


def _client(kubo: KuboEmulator, **kwargs: object) -> KuboClient:
    return KuboClient(kubo.url, backoff=0.01, **kwargs)  # type: ignore[arg-type]


def test_version_id_and_protocol(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    assert isinstance(client, ContentStore)
    assert client.version()["Version"] == KuboEmulator.VERSION
    assert client.id()["AgentVersion"].startswith("kubo/")


@pytest.mark.parametrize("flags", [{}, {"cid_version": 1}, {"profile": "unixfs-v1-2025"}, {"chunker": "size-4096"}])
def test_add_matches_local_import_and_cat_verifies(kubo: KuboEmulator, flags: dict) -> None:
    client = _client(kubo)
    data = _data(1_500_000)
    result = client.add_bytes(data, **flags)
    local = import_bytes(data, **flags)
    assert (result.cid, result.cumulative_size, result.size) == (local.cid, local.cumulative_size, len(data))
    assert client.cat(result.cid) == data
    assert result.cid in client.pins()
    assert client.has(result.cid)


def test_only_hash_stores_nothing(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    result = client.add_bytes(b"only hashed", only_hash=True, pin=False)
    assert result.cid == import_bytes(b"only hashed").cid
    assert not client.has(result.cid)
    assert client.pins() == set()


def test_add_directory_recursive_and_wrapped(kubo: KuboEmulator, tmp_path: Path) -> None:
    root = tmp_path / "site"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_bytes(b"<h1>hi</h1>")
    (root / "css" / "a b.css").write_bytes(b"body{}")  # a name that needs URL escaping
    (root / "big.bin").write_bytes(_data(700_000))
    (root / ".git").mkdir()
    client = _client(kubo)
    remote = client.add_path_all(root, recursive=True, wrap=True, cid_version=1)
    local = import_path(root, recursive=True, wrap=True, cid_version=1)
    assert {(r.name, r.cid, r.cumulative_size) for r in remote} == {(r.name, r.cid, r.cumulative_size) for r in local}
    assert remote[-1].name == "" and remote[-1].cid == local[-1].cid
    assert client.cat(f"{remote[-1].cid}/site/css/a b.css") == b"body{}"
    with pytest.raises(NotAFileError):
        client.cat(f"{remote[-1].cid}/site")


def test_tampered_block_from_daemon_is_rejected(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    data = _data(600_000)
    result = client.add_bytes(data)
    leaf = next(cid for cid, _ in kubo.store.iter_car(result.cid) if cid != result.cid)
    kubo.tamper[leaf.multihash] = b"not the leaf"
    with pytest.raises(CorruptBlockError, match="does not hash"):
        client.cat(result.cid)
    with pytest.raises(CorruptBlockError):
        client.export_car(result.cid, io.BytesIO())


def test_error_body_becomes_typed_error(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    missing = CID.from_data(b"never added")
    with pytest.raises(KuboError) as info:
        client.pin(missing)
    assert info.value.code == 0 and info.value.type == "error" and "could not find" in str(info.value)
    assert not client.has(missing)
    with pytest.raises(ContentNotFoundError, match="not pinned"):
        client.unpin(client.add_bytes(b"x", pin=False).cid)
    with pytest.raises(KuboError) as info:
        client._json("block/get")  # no argument: Kubo's client error, HTTP 400, Code 1
    assert info.value.code == 1 and "is required" in str(info.value)


def test_pins_add_list_remove(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    first = client.add_bytes(b"one", pin=False)
    second = client.add_bytes(b"two")
    assert client.pins() == {second.cid}
    client.pin(first.cid)
    assert client.pins() == {first.cid, second.cid}
    client.unpin(second.cid)
    assert client.pins() == {first.cid}
    assert client.block_stat(first.cid)["Size"] == len(kubo.store.get_block(first.cid))


def test_dag_import_and_export_round_trip(kubo: KuboEmulator, tmp_path: Path) -> None:
    local = EmbeddedBlockstore(tmp_path / "local", fsync=False)
    data = _data(900_000)
    result = local.add_bytes(data, cid_version=1)
    car = tmp_path / "in.car"
    local.export_car(result.cid, car)
    client = _client(kubo)
    assert client.dag_import(car) == [result.cid]
    assert client.pins() == {result.cid}
    out = tmp_path / "out.car"
    client.export_car(result.cid, out)
    assert out.read_bytes() == car.read_bytes()


def test_dag_import_of_corrupt_car_is_refused(kubo: KuboEmulator, tmp_path: Path) -> None:
    local = EmbeddedBlockstore(tmp_path / "local", fsync=False)
    result = local.add_bytes(_data(600_000))
    buffer = io.BytesIO()
    local.export_car(result.cid, buffer)
    raw = bytearray(buffer.getvalue())
    raw[-3] ^= 1
    with pytest.raises(KuboError, match="does not hash"):
        _client(kubo).dag_import(bytes(raw))
    assert kubo.store.pins() == set()


def test_stream_error_trailer_is_raised(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    result = client.add_bytes(_data(800_000))
    kubo.fail_stream["dag/export"] = (1000, "context canceled")
    with pytest.raises(KuboError, match="context canceled"):
        b"".join(client.dag_export(result.cid))
    kubo.fail_stream["add"] = (0, "add: disk full")
    with pytest.raises(KuboError, match="disk full"):
        client.add_bytes(b"payload")


def test_authorization_header(tmp_path: Path) -> None:
    emulator = KuboEmulator(tmp_path / "repo", authorization="Bearer good-token")
    emulator.start()
    try:
        with pytest.raises(KuboError) as info:
            KuboClient(emulator.url, auth="Bearer wrong-token").version()
        assert info.value.type == "auth" and "wrong-token" not in str(info.value)
        client = KuboClient(emulator.url, auth="Bearer good-token")
        assert client.version()["Version"]
        assert "good-token" not in repr(client)
        basic = KuboEmulator(tmp_path / "repo2", authorization="Basic dXNlcjpwYXNz")
        basic.start()
        try:
            assert KuboClient(basic.url, auth=("user", "pass")).version()
        finally:
            basic.stop()
    finally:
        emulator.stop()


def test_retries_transient_unavailability(kubo: KuboEmulator) -> None:
    client = _client(kubo, retries=2)
    kubo.unavailable["version"] = 2
    assert client.version()["Version"]
    kubo.unavailable["version"] = 3
    with pytest.raises(RemoteUnavailableError, match="503"):
        client.version()
    kubo.unavailable["add"] = 1  # add is not idempotent: no retry
    with pytest.raises(RemoteUnavailableError):
        client.add_bytes(b"x")


def test_unreachable_daemon_and_timeout() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RemoteUnavailableError, match="ConnectError") as info:
        KuboClient(f"http://127.0.0.1:{port}", retries=0).version()
    assert isinstance(info.value.__cause__, httpx.HTTPError)

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    try:
        client = KuboClient(f"http://127.0.0.1:{silent.getsockname()[1]}", retries=0, timeout=0.3,
                            transport=HttpTransport(timeout=0.3))
        with pytest.raises(RemoteUnavailableError, match="Timeout"):
            client.version()
    finally:
        silent.close()
        for conn in accepted:
            conn.close()


def test_emulator_follows_kubo_wire_rules(kubo: KuboEmulator) -> None:
    with httpx.Client(base_url=kubo.url) as raw:
        assert raw.get("/api/v0/version").status_code == 405
        assert raw.post("/api/v0/no/such/command").status_code == 404
        response = raw.post("/api/v0/cat", params={"arg": "not-a-cid"})
        assert response.status_code == 500 and response.json()["Type"] == "error"
        response = raw.post("/api/v0/cat")
        assert response.status_code == 400 and response.json()["Code"] == 1
        added = raw.post("/api/v0/add", files={"file": ("hello.txt", b"hello world\n")})
        assert added.headers["trailer"] == "X-Stream-Error"
        assert added.json() == {"Name": "hello.txt", "Hash": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o",
                                "Size": "20"}


def test_cat_of_repeated_chunks_uses_cache_then_block_get(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    repeated = _data(1000)
    data = repeated * 3 + _data(40 * 1000) + repeated  # the last repeat is 40+ blocks after its first sight
    result = client.add_bytes(data, chunker="size-1000", cid_version=1)
    kubo.calls.clear()
    assert client.cat(result.cid) == data
    assert kubo.calls.count("dag/export") == 1
    assert kubo.calls.count("block/get") == 1  # only the block that fell out of the 32-block cache


def test_cat_with_interrupted_export_raises(kubo: KuboEmulator) -> None:
    client = _client(kubo)
    result = client.add_bytes(_data(900_000))
    kubo.fail_stream["dag/export"] = (300_000, "stream reset by peer")
    with pytest.raises(KuboError, match="stream reset"):
        client.cat(result.cid)


def test_add_stream_counts_and_streams(kubo: KuboEmulator) -> None:
    data = _data(700_000)
    with _client(kubo) as client:
        result = client.add_stream(io.BytesIO(data), cid_version=1)
        assert (result.cid, result.size) == (import_bytes(data, cid_version=1).cid, len(data))
        assert client.cat(result.cid) == data


def test_https_with_a_pinned_certificate(tmp_path: Path) -> None:
    """The trailer-aware transport speaks TLS too (a self-signed certificate made with the openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI not available")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    emulator = KuboEmulator(tmp_path / "repo", ssl_context=server_context)
    emulator.start()
    try:
        assert emulator.url.startswith("https://")
        trusted = ssl.create_default_context(cafile=str(cert))
        client = KuboClient(emulator.url, transport=HttpTransport(ssl_context=trusted))
        result = client.add_bytes(b"over tls")
        assert client.cat(result.cid) == b"over tls"
        with pytest.raises(RemoteUnavailableError):  # the system trust store does not know this certificate
            KuboClient(emulator.url, retries=0).version()
    finally:
        emulator.stop()
