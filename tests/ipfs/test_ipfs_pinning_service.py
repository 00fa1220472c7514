"""PinningServiceClient against the /pins emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from emulators.pinning_emulator import PinningServiceEmulator

from anacostia_blockchain.errors import ConfigurationError, PinningServiceError, RemoteUnavailableError
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore
from anacostia_blockchain.ipfs.pinning_service import PinningServiceClient


@pytest.fixture
def service(tmp_path: Path) -> Iterator[PinningServiceEmulator]:
    emulator = PinningServiceEmulator(EmbeddedBlockstore(tmp_path / "network", fsync=False), token="psa-token")
    emulator.start()
    yield emulator
    emulator.stop()


def _client(service: PinningServiceEmulator, token: str = "psa-token") -> PinningServiceClient:
    return PinningServiceClient(service.url, token, backoff=0.01)


def test_pin_lifecycle(service: PinningServiceEmulator) -> None:
    cid = service.network.add_bytes(b"available on the network" * 1000).cid
    client = _client(service)
    status = client.add(cid, name="model-v1", meta={"run": "42"})
    assert (status.status, status.cid, status.name) == ("queued", cid, "model-v1")
    assert client.wait(status.requestid, interval=0.01).status == "pinned"
    assert [p.requestid for p in client.list(cid=cid)] == [status.requestid]
    other = service.network.add_bytes(b"v2").cid
    replaced = client.replace(status.requestid, other)
    assert replaced.cid == other and client.list(cid=cid) == []
    client.remove(replaced.requestid)
    with pytest.raises(PinningServiceError) as info:
        client.get(replaced.requestid)
    assert info.value.status == 404 and info.value.reason == "NOT_FOUND"


def test_unretrievable_content_fails(service: PinningServiceEmulator) -> None:
    client = _client(service)
    status = client.add(CID.from_data(b"nowhere"))
    with pytest.raises(PinningServiceError, match="failed to pin"):
        client.wait(status.requestid, interval=0.01)
    assert client.list(status=("failed",))[0].requestid == status.requestid


def test_auth_errors_and_retries(service: PinningServiceEmulator) -> None:
    with pytest.raises(PinningServiceError) as info:
        _client(service, token="wrong").list()
    assert info.value.status == 401 and "wrong" not in str(info.value)
    assert "psa-token" not in repr(_client(service))
    service.unavailable = 2
    assert _client(service).list() == []
    service.unavailable = 5
    with pytest.raises(RemoteUnavailableError):
        _client(service).list()
    with pytest.raises(ConfigurationError):
        PinningServiceClient("ftp://x", "t")
