"""StorachaClient against the HTTP-bridge emulator (store/add -> presigned PUT -> upload/add)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import httpx
import pytest
from emulators.storacha_emulator import TEST_SPACE as SPACE
from emulators.storacha_emulator import StorachaEmulator

from anacostia_blockchain.errors import (
    ConfigurationError,
    CorruptBlockError,
    RemoteUnavailableError,
    StorachaAuthError,
    StorachaError,
    StorachaSizeLimitError,
)
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, StorachaClient, car_cid


def _client(emulator: StorachaEmulator, **kwargs: object) -> StorachaClient:
    defaults = {"auth_secret": "bridge-secret", "authorization": "bridge-ucan", "bridge_url": emulator.url,
                "backoff": 0.01}
    defaults.update(kwargs)
    space = str(defaults.pop("space", SPACE))
    return StorachaClient(space, **defaults)  # type: ignore[arg-type]


@pytest.fixture
def content(tmp_path: Path) -> tuple[EmbeddedBlockstore, CID, Path]:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    result = store.add_bytes(os.urandom(900_000), cid_version=1)
    car = tmp_path / "content.car"
    store.export_car(result.cid, car)
    return store, result.cid, car


@pytest.fixture
def emulator(storacha: StorachaEmulator) -> StorachaEmulator:
    return storacha


def test_upload_flow_stores_verified_car(emulator: StorachaEmulator, content) -> None:
    store, root, car = content
    upload = _client(emulator).upload_content(store, root)
    assert upload.root == root and not upload.already_stored
    assert upload.car_cid == car_cid(car.read_bytes()) and upload.car_cid.codec == 0x0202
    assert str(upload.car_cid).startswith("bagbaiera")
    assert upload.size == car.stat().st_size
    assert emulator.shards[str(upload.car_cid)] == car.read_bytes()
    assert emulator.uploads[str(root)] == {str(upload.car_cid)}
    again = _client(emulator).upload_car(car)
    assert again.already_stored and again.car_cid == upload.car_cid and emulator.puts == 1


def test_upload_car_bytes_with_explicit_root(emulator: StorachaEmulator, content) -> None:
    _, root, car = content
    upload = _client(emulator).upload_car(car.read_bytes(), root=str(root))
    assert upload.root == root and str(root) in emulator.uploads


def test_wrong_tokens_raise_auth_error(emulator: StorachaEmulator, content) -> None:
    _, _, car = content
    with pytest.raises(StorachaAuthError) as info:
        _client(emulator, auth_secret="wrong-secret").upload_car(car)
    assert "wrong-secret" not in str(info.value)
    with pytest.raises(StorachaAuthError, match="Unauthorized"):
        _client(emulator, space="did:key:z6MkSomeoneElse").upload_car(car)
    assert emulator.shards == {}
    client = _client(emulator, authorization="very-secret-ucan")
    assert "very-secret-ucan" not in repr(client) and "bridge-secret" not in repr(client)


def test_size_limits(emulator: StorachaEmulator, content) -> None:
    _, _, car = content
    emulator.max_size = 1000
    with pytest.raises(StorachaSizeLimitError, match="StoreItemSizeExceeded"):
        _client(emulator).upload_car(car)
    with pytest.raises(StorachaSizeLimitError, match="shard limit"):
        _client(emulator, max_car_size=10).upload_car(car)


def test_transient_failures_are_retried(emulator: StorachaEmulator, content) -> None:
    _, root, car = content
    emulator.unavailable.update({"bridge": 2, "put": 2})
    upload = _client(emulator, retries=3).upload_car(car)
    assert str(upload.car_cid) in emulator.shards and str(root) in emulator.uploads
    emulator.unavailable["bridge"] = 5
    with pytest.raises(RemoteUnavailableError, match="503"):
        _client(emulator, retries=1).upload_car(car)


def test_unreachable_bridge(content) -> None:
    client = StorachaClient(SPACE, auth_secret="a", authorization="b", bridge_url="http://127.0.0.1:9/bridge",
                            retries=1, backoff=0.01)
    with pytest.raises(RemoteUnavailableError):
        client.upload_car(content[2])


def test_car_without_the_root_is_refused(emulator: StorachaEmulator, content) -> None:
    with pytest.raises(StorachaError, match="root block"):
        _client(emulator).upload_car(content[2], root=CID.from_data(b"not inside"))
    assert emulator.shards == {}


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        StorachaClient("not-a-did", auth_secret="a", authorization="b")
    with pytest.raises(ConfigurationError):
        StorachaClient(SPACE, auth_secret="", authorization="b")
    monkeypatch.delenv("STORACHA_AUTH_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="STORACHA_AUTH_SECRET"):
        StorachaClient.from_env()
    monkeypatch.setenv("STORACHA_SPACE_DID", SPACE)
    monkeypatch.setenv("STORACHA_AUTH_SECRET", "x")
    monkeypatch.setenv("STORACHA_AUTHORIZATION", "y")
    assert StorachaClient.from_env().space_did == SPACE


def test_emulator_rejects_wrong_bytes_and_wrong_cids(emulator: StorachaEmulator, content) -> None:
    """The emulator must not accept what the real service would refuse (else client bugs would go unnoticed)."""
    _, root, car = content
    body = car.read_bytes()
    headers = {"X-Auth-Secret": "bridge-secret", "Authorization": "bridge-ucan"}

    def store_add(link: str, size: int) -> dict:
        tasks = {"tasks": [["store/add", SPACE, {"link": {"/": link}, "size": size}]]}
        return httpx.post(emulator.url, json=tasks, headers=headers).json()[0]["p"]["out"]

    assert store_add(str(root), len(body))["error"]["name"] == "InvalidArgument"  # not a CAR CID
    ok = store_add(str(car_cid(body)), len(body))["ok"]
    tampered = body[:-1] + bytes([body[-1] ^ 1])
    put = httpx.put(ok["url"], content=tampered, headers=ok["headers"])
    assert put.status_code == 400 and "BadDigest" in put.text
    wrong_header = dict(ok["headers"], **{"x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(tampered)
                                                                                     .digest()).decode()})
    assert httpx.put(ok["url"], content=tampered, headers=wrong_header).status_code == 403
    # a CAR whose bytes match its CAR CID but which holds a corrupt block is refused too
    index = len(body) - 7
    corrupt = body[:index] + bytes([body[index] ^ 0xFF]) + body[index + 1 :]
    ok2 = store_add(str(car_cid(corrupt)), len(corrupt))["ok"]
    put = httpx.put(ok2["url"], content=corrupt, headers=ok2["headers"])
    assert put.status_code == 400 and "InvalidCar" in put.text
    assert httpx.put(ok["url"], content=body, headers=ok["headers"]).status_code == 200
    assert httpx.put(ok["url"], content=body, headers=ok["headers"]).status_code == 403  # one-time URL
    upload = {"tasks": [["upload/add", SPACE, {"root": {"/": str(CID.from_data(b"elsewhere"))},
                                               "shards": [{"/": str(car_cid(body))}]}]]}
    out = httpx.post(emulator.url, json=upload, headers=headers).json()[0]["p"]["out"]
    assert out["error"]["name"] == "RootNotFound"
    with pytest.raises(CorruptBlockError):  # the client checks locally and sends nothing
        _client(emulator).upload_car(corrupt)
