"""Data keys for tasks that read encrypted inputs; the operator's key never leaves the coordinator.

The exchange, for a task whose work calls ``context.read_plaintext(...)``:

1. the worker makes an ephemeral secp256k1 key pair (:class:`TaskKeys`; the private half lives in that task's memory
   only) and sends the public half and the locations it wants to decrypt through the executor's key channel;
2. the coordinator (:class:`KeyService`) checks that those locations are inputs of that very task, gets each one's
   data key (``data_keys``, e.g. :class:`EnvelopeKeys` over the operator's private key, which opens the envelope
   header) and answers with the data keys wrapped for the task's public key (ECIES, ``crypto.keywrap``);
3. the worker unwraps them and decrypts; the ephemeral key is dropped with the task.

So what reaches workers is public keys and wrapped keys: never the operator's private key, a signer key, a service
key, or a data key in the clear (a :class:`~anacostia_blockchain.crypto.DataKey` refuses to be pickled, and
:class:`EnvelopeKeys` too). :class:`LocalKeyChannel` is the in-process channel of the thread executor; the Ray
executor's is an actor with the same methods.
"""

from __future__ import annotations

import itertools
import secrets
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, NoReturn, Protocol

from ..crypto import (
    DataKey,
    decrypt_bytes,
    key_for_private_key,
    public_key_for_private_key,
    read_header,
    unwrap_key,
    wrap_key_for_public_key,
)
from ..errors import ConfigurationError, KeyWrapError

#: Seconds a task waits for the coordinator to answer a key request.
KEY_REQUEST_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """A task asks for the data keys of some of its inputs, to be wrapped for ``public_key``."""

    request_id: int
    task_id: str
    public_key: bytes
    locations: tuple[str, ...]


class KeyChannel(Protocol):
    """The coordinator's side of a key channel: requests waiting for an answer, and the answer."""

    def pending(self) -> list[KeyRequest]: ...

    def answer(self, request_id: int, wrapped: Mapping[str, bytes] | None, error: str | None = None) -> None: ...


class TaskKeys:
    """The worker's side: an ephemeral key pair per task, data keys asked for once per input."""

    def __init__(self, task_id: str, requests: Any, own_inputs: Sequence[str]) -> None:
        if requests is None:
            raise ConfigurationError(f"task {task_id}: no key channel; give run_tasks(..., data_keys=...) to read "
                                     "encrypted inputs")
        self._task_id = task_id
        self._requests = requests
        self._own = set(own_inputs)
        self._private = _ephemeral_private_key()
        self._public = public_key_for_private_key(self._private)
        self._keys: dict[str, DataKey] = {}

    def __reduce__(self) -> NoReturn:
        raise TypeError("a task's ephemeral key never leaves the task")

    def decrypt(self, location: str, envelope: bytes) -> bytes:
        if location not in self._keys:
            wrapped = self._requests.request(self._task_id, self._public, [location], KEY_REQUEST_TIMEOUT)
            if location not in wrapped:
                raise KeyWrapError(f"task {self._task_id}: the coordinator sent no data key for {location}")
            self._keys[location] = unwrap_key(wrapped[location], self._private)
        return decrypt_bytes(envelope, self._keys[location])


def _ephemeral_private_key() -> bytes:
    while True:  # a random 32-byte string is a valid secp256k1 key with probability 1 - 2**-128
        candidate = secrets.token_bytes(32)
        try:
            public_key_for_private_key(candidate)
        except KeyWrapError:
            continue
        return candidate


class EnvelopeKeys:
    """``data_keys`` for envelope-encrypted inputs: opens an input's envelope header with the operator's private key
    (held here, on the coordinator, and refusing to be pickled)."""

    def __init__(self, private_key: bytes) -> None:
        self._private_key = bytes(private_key)
        public_key_for_private_key(self._private_key)  # a malformed key fails here, not in a task

    def __repr__(self) -> str:
        return "EnvelopeKeys(<operator key>)"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the operator's key never leaves the coordinator")

    def __call__(self, content: BinaryIO) -> DataKey:
        return key_for_private_key(read_header(content), self._private_key)


#: ``data_keys(content)``: the data key of an encrypted input, from a stream of its stored bytes.
DataKeys = Callable[[BinaryIO], DataKey]


class KeyService:
    """The coordinator's side: answers the key requests of the tasks it knows (``register``), for their own inputs."""

    def __init__(self, data_keys: DataKeys, open_input: Callable[[str, str], BinaryIO]) -> None:
        self._data_keys = data_keys
        self._open_input = open_input  # (task_id, location) -> a stream of that input's stored bytes
        self._tasks: dict[str, frozenset[str]] = {}
        self.answered = 0

    def register(self, task_id: str, locations: Sequence[str]) -> None:
        self._tasks[task_id] = frozenset(locations)

    def forget(self, task_id: str) -> None:
        self._tasks.pop(task_id, None)

    def serve(self, channel: KeyChannel) -> int:
        """Answer every pending request; returns how many were answered."""
        requests = channel.pending()
        for request in requests:
            own = self._tasks.get(request.task_id)
            if own is None or not set(request.locations) <= own:
                channel.answer(request.request_id, None, f"task {request.task_id} may not read {request.locations}")
                continue
            try:
                wrapped = {location: wrap_key_for_public_key(self._data_key(request.task_id, location),
                                                             request.public_key).to_bytes()
                           for location in request.locations}
            except Exception as exc:  # the task learns why, the coordinator keeps running
                channel.answer(request.request_id, None, f"{type(exc).__name__}: {exc}")
                continue
            channel.answer(request.request_id, wrapped)
            self.answered += 1
        return len(requests)

    def _data_key(self, task_id: str, location: str) -> DataKey:
        with self._open_input(task_id, location) as content:
            return self._data_keys(content)


_local_channels: weakref.WeakValueDictionary[int, LocalKeyChannel] = weakref.WeakValueDictionary()
_channel_ids = itertools.count(1)


def _local_channel(channel_id: int) -> LocalKeyChannel:
    channel = _local_channels.get(channel_id)
    if channel is None:
        raise KeyWrapError("the key channel of this task is gone (its coordinator stopped)")
    return channel


class LocalKeyChannel:
    """Both sides of a key channel in one process (the thread executor's); pickles as a reference to itself."""

    def __init__(self) -> None:
        self._id = next(_channel_ids)
        _local_channels[self._id] = self
        self._cv = threading.Condition()
        self._pending: list[KeyRequest] = []
        self._answers: dict[int, tuple[Mapping[str, bytes] | None, str | None]] = {}
        self._request_ids = itertools.count(1)

    def __reduce__(self) -> tuple[Callable[[int], LocalKeyChannel], tuple[int]]:
        return _local_channel, (self._id,)

    def request(self, task_id: str, public_key: bytes, locations: list[str], timeout: float) -> dict[str, bytes]:
        with self._cv:
            request_id = next(self._request_ids)
            self._pending.append(KeyRequest(request_id, task_id, public_key, tuple(locations)))
            self._cv.notify_all()
            deadline = time.monotonic() + timeout
            while request_id not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise KeyWrapError(f"task {task_id}: no answer to its key request within {timeout:g}s")
                self._cv.wait(left)
            wrapped, error = self._answers.pop(request_id)
        if wrapped is None:
            raise KeyWrapError(f"task {task_id}: key request refused: {error}")
        return dict(wrapped)

    def pending(self) -> list[KeyRequest]:
        with self._cv:
            taken, self._pending = self._pending, []
        return taken

    def answer(self, request_id: int, wrapped: Mapping[str, bytes] | None, error: str | None = None) -> None:
        with self._cv:
            self._answers[request_id] = (wrapped, error)
            self._cv.notify_all()

    def wait_for_requests(self, timeout: float) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: bool(self._pending), timeout)
