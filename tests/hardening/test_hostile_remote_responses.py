"""Remote storage services that answer nonsense: a Kubo daemon, a Storacha bridge and a pinning service (a real
HTTP server answering whatever the test sets) sending invalid JSON, JSON nested 5,000 deep, arrays or scalars where
objects belong, fields of the wrong type, HTML error pages, empty bodies.

Every client call ends in a typed :class:`StorageError` or a result; a call whose result must be verified (content,
added CIDs, pins, uploads) never returns on nonsense. Nothing leaks a ``ValueError``, ``AttributeError``,
``TypeError`` or ``RecursionError``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hostile_storage import HostileHttpServer

from anacostia_blockchain.errors import StorageError
from anacostia_blockchain.ipfs import CID, KuboClient, StorachaClient, import_bytes, write_car
from anacostia_blockchain.ipfs.pinning_service import PinningServiceClient

NONSENSE = {
    "HTML page": b"<html><body>502 Bad Gateway</body></html>",
    "invalid JSON": b"{oops",
    "JSON array": b"[1, 2]",
    "JSON string": b'"ok"',
    "JSON number": b"5",
    "nested 5,000 deep": b"[" * 5000 + b"]" * 5000,
    "fields of the wrong type": b'{"Hash": 5, "Size": {}, "Keys": 7, "Root": {"Cid": 3}, "requestid": [], '
                                b'"status": {}, "pin": "x", "results": 7}',
    "NDJSON with a broken line": b'{"Name": "file", "Hash": "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"}\n{oops\n',
    "an add event with a malformed CID": b'{"Name": "file", "Hash": "notacid", "Size": "1"}\n',
    "receipt with odd shapes": b'[{"p": {"out": "error"}}]',
    "empty": b"",
}
CID_X = CID.from_data(b"x", codec=0x55)


def _car() -> tuple[CID, bytes]:
    blocks: list[tuple[CID, bytes]] = []

    class Sink:
        def put_block(self, cid: CID, data: bytes | memoryview) -> None:
            blocks.append((cid, bytes(data)))

    root = import_bytes(b"hello", Sink(), cid_version=1).cid
    out = io.BytesIO()
    write_car(out, [root], blocks)
    return root, out.getvalue()


ROOT, CAR = _car()


@pytest.fixture(scope="module")
def server() -> Iterator[HostileHttpServer]:
    with HostileHttpServer() as running:
        yield running


def _calls(url: str) -> dict[str, tuple[Callable[[], Any], bool]]:
    """name -> (call, must it raise on nonsense?)."""
    kubo = KuboClient(url, retries=0, timeout=5.0)
    storacha = StorachaClient("did:key:z6MkhostileRemote", auth_secret="s", authorization="a", bridge_url=url,
                              retries=0, backoff=0.01, timeout=5.0)
    pinning = PinningServiceClient(url, "token", retries=0, timeout=5.0)
    return {
        "kubo version": (kubo.version, False),
        "kubo add": (lambda: kubo.add_bytes(b"x"), True),
        "kubo cat": (lambda: kubo.cat(CID_X), True),
        "kubo get_block": (lambda: kubo.get_block(CID_X), True),
        "kubo pins": (kubo.pins, False),
        "kubo block_stat": (lambda: kubo.block_stat(CID_X), False),
        "kubo dag_import": (lambda: kubo.dag_import(CAR), False),
        "kubo export_car": (lambda: kubo.export_car(ROOT, io.BytesIO()), True),
        "storacha upload_car": (lambda: storacha.upload_car(CAR), True),
        "storacha store_add": (lambda: storacha.store_add(ROOT, len(CAR)), True),
        "pinning add": (lambda: pinning.add(ROOT), True),
        "pinning get": (lambda: pinning.get("request-1"), True),
        "pinning list": (pinning.list, False),
    }


@pytest.mark.parametrize("status", [200, 202, 500])
@pytest.mark.parametrize("nonsense", list(NONSENSE))
def test_nonsense_from_a_remote_service_is_a_typed_storage_error(server: HostileHttpServer, nonsense: str,
                                                                  status: int) -> None:
    server.status, server.body = status, NONSENSE[nonsense]
    for name, (call, must_raise) in _calls(server.url).items():
        try:
            result = call()
        except StorageError as exc:
            assert str(exc), name
            continue
        assert not must_raise and status < 300, f"{name} accepted {nonsense!r} (HTTP {status}): {result!r}"
