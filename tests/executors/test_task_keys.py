"""Tasks that read encrypted inputs get their data keys wrapped for an ephemeral key of their own: everything that
is sent to the executor (task payloads, key answers) and comes back (results) is scanned for the operator's key,
the data keys, a signer key and a service key held by the coordinator, on the thread executor and on the real Ray
cluster."""

from __future__ import annotations

import pickle
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.chain.tx import DEFAULT_KEY_ENV, LocalSigner
from anacostia_blockchain.crypto import DataKey, encrypt_bytes, public_key_for_private_key
from anacostia_blockchain.executors import (
    BaseExecutor,
    EnvelopeKeys,
    KeyRequest,
    LocalExecutor,
    RayExecutor,
    TaskHandle,
)
from anacostia_blockchain.ipfs import EmbeddedBlockstore

from .kit import build, drop
from .work_fns import decrypt_upper

pytestmark = pytest.mark.xdist_group("ray_cluster")


def same(value: Any) -> Any:
    return value


class RecordingChannel:
    """A key channel that records the answers it sends; pickles as the channel it wraps."""

    def __init__(self, inner: Any, seen: list[bytes]) -> None:
        self.inner, self.seen = inner, seen
        self.answers: list[tuple[dict[str, bytes], str | None]] = []

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return same, (self.inner,)

    def pending(self) -> list[KeyRequest]:
        requests = self.inner.pending()
        self.seen.extend(pickle.dumps(request) for request in requests)
        return list(requests)

    def answer(self, request_id: int, wrapped: Mapping[str, bytes] | None, error: str | None = None) -> None:
        self.answers.append((dict(wrapped or {}), error))
        self.seen.append(pickle.dumps((request_id, dict(wrapped or {}), error)))
        self.inner.answer(request_id, wrapped, error)


class RecordingHandle(TaskHandle):
    def __init__(self, inner: TaskHandle, seen: list[bytes]) -> None:
        self.inner, self.seen = inner, seen

    def done(self) -> bool:
        return self.inner.done()

    def result(self) -> bytes:
        result = self.inner.result()
        self.seen.append(result)
        return result

    def cancel(self) -> None:
        self.inner.cancel()


class RecordingExecutor(BaseExecutor):
    """Another executor, recording every byte that crosses to and from its workers."""

    def __init__(self, inner: BaseExecutor) -> None:
        super().__init__()
        self.inner = inner
        self.seen: list[bytes] = []
        self._channel: RecordingChannel | None = None

    def describe(self) -> str:
        return self.inner.describe()

    @property
    def capacity(self) -> int:
        return self.inner.capacity

    def dumps(self, value: Any) -> bytes:
        return self.inner.dumps(value)

    def _connect(self) -> None:
        self.inner.start()

    def _disconnect(self) -> None:
        self.inner.shutdown()

    def submit(self, payload: bytes, *, unit: str) -> TaskHandle:
        self.seen.append(payload)
        return RecordingHandle(self.inner.submit(payload, unit=unit), self.seen)

    def wait(self, handles: Sequence[TaskHandle], timeout: float) -> list[TaskHandle]:
        by_inner = {h.inner: h for h in handles if isinstance(h, RecordingHandle)}
        return [by_inner[h] for h in self.inner.wait(list(by_inner), timeout)]

    def key_channel(self) -> RecordingChannel:
        if self._channel is None:
            self._channel = RecordingChannel(self.inner.key_channel(), self.seen)
        return self._channel


@pytest.fixture(params=["threads", "ray"])
def inner_executor(request: pytest.FixtureRequest) -> BaseExecutor:
    if request.param == "threads":
        return LocalExecutor(2)
    cluster = request.getfixturevalue("ray_cluster")
    return RayExecutor(cluster.address)


def test_encrypted_inputs_are_read_with_wrapped_keys_and_no_key_is_serialized(
    tmp_path: Path, inner_executor: BaseExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer_key, service_key = secrets.token_bytes(32), secrets.token_bytes(32)
    monkeypatch.setenv(DEFAULT_KEY_ENV, "0x" + signer_key.hex())  # the coordinator's signer, as the CLI reads it
    signer = LocalSigner.from_env()
    operator_key = secrets.token_bytes(32)
    operator_public = public_key_for_private_key(operator_key)
    plaintexts = {f"secret-{i}.bin": f"confidential row {i}".encode() for i in range(3)}
    data_keys = {name: DataKey.generate() for name in plaintexts}
    cids = EmbeddedBlockstore(tmp_path / "scratch")
    for name, plaintext in plaintexts.items():
        envelope = encrypt_bytes(plaintext, data_keys[name], plaintext_cid=str(cids.add_bytes(plaintext).cid),
                                 recipient_public_keys=[operator_public])
        drop(tmp_path / "data", name, envelope)
    executor = RecordingExecutor(inner_executor)
    kit = build(tmp_path, decrypt_upper, executor, data_keys=EnvelopeKeys(operator_key))
    kit.action.signer, kit.action.service_key = signer, service_key  # held by the node whose work is sent out
    with kit.pipeline as pipeline:
        assert pipeline.wait_for_runs(1, 120)
    assert kit.store.runs.get_runs()[0]["status"] == "success", kit.store.runs.get_node_runs(1)
    assert kit.outputs() == {f"{name}.up": plaintext.upper() for name, plaintext in plaintexts.items()}
    channel = executor.key_channel()
    assert sorted(location for wrapped, error in channel.answers for location in wrapped) == sorted(plaintexts)
    assert all(error is None for _, error in channel.answers)  # one wrapped key per task, for its own input
    assert executor.seen and any(b"decrypt_upper" in blob for blob in executor.seen)  # the task payloads
    secrets_ = [operator_key, signer_key, service_key, *(key.secret_bytes() for key in data_keys.values())]
    for secret in secrets_:
        forms = (secret, secret.hex().encode(), secret.hex().upper().encode())
        for blob in executor.seen:
            assert not any(form in blob for form in forms)
    with pytest.raises(TypeError, match="never leaves the coordinator"):
        pickle.dumps(EnvelopeKeys(operator_key))


def test_a_task_gets_data_keys_only_for_its_own_inputs() -> None:
    import io
    import threading

    from anacostia_blockchain.errors import KeyWrapError
    from anacostia_blockchain.executors import LocalKeyChannel
    from anacostia_blockchain.executors._keys import KeyService, TaskKeys

    channel = LocalKeyChannel()
    key = DataKey.generate()
    service = KeyService(lambda content: key, lambda task, location: io.BytesIO(b""))
    service.register("task-1", ["mine.bin"])
    outcomes: list[BaseException] = []

    def ask(location: str) -> None:
        keys = TaskKeys("task-1", channel, ["mine.bin", "theirs.bin"])
        try:
            keys.decrypt(location, b"")
        except BaseException as exc:
            outcomes.append(exc)

    asker = threading.Thread(target=ask, args=("theirs.bin",))
    asker.start()
    while asker.is_alive():
        channel.wait_for_requests(0.1)
        service.serve(channel)
    assert isinstance(outcomes[0], KeyWrapError)
    assert "key request refused: task task-1 may not read ('theirs.bin',)" in str(outcomes[0])
