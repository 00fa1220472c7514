"""A task: one work unit as it travels to a worker, what the worker's code sees, and what comes back.

Everything a task carries is by reference: its inputs are :class:`InputRef` (content address, sha256, size), its
outputs come back as :class:`OutputRef`; the bytes stay in the shared content store (``store``: a configuration
string for :func:`~anacostia_blockchain.ipfs.open_content_store`). A task is serialized to one ``bytes`` payload
before it reaches an executor, so what an executor ships is exactly :func:`encode_task`'s output: the work function
(by reference, or by value when the executor's ``dumps`` does that), the refs, the params, the store configuration
and, for encrypted inputs, a handle for asking the coordinator for their data keys (never a key).

On the worker, :func:`run_task` opens the store, gives the work function a :class:`TaskContext`, and returns the
encoded :class:`TaskResult`: outputs, the metrics/params/tags the function logged, or its error. An exception of the
work function is a result (the coordinator fails the unit with it), never a retry: retries are for lost workers.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import socket
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from ..errors import ConfigurationError, ContentMismatchError
from ..ipfs import ContentStore, open_content_store
from ._keys import TaskKeys

#: ``work(context)``: a module-level function; ``False`` means failure, anything else success.
WorkFunction = Callable[["TaskContext"], Any]


@dataclass(frozen=True, slots=True)
class InputRef:
    """One input of a task: the artifact it was (resource, location) and its content (CID, sha256, size)."""

    resource: str
    location: str
    sha256: str
    size: int
    cid: str


@dataclass(frozen=True, slots=True)
class OutputRef:
    """One output a task wrote to the shared store, under ``name``."""

    name: str
    cid: str
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """What a worker needs to run one work unit (see the module docstring)."""

    task_id: str
    unit: str
    work: WorkFunction
    inputs: tuple[InputRef, ...]
    params: Mapping[str, Any]
    store: str
    keys: KeyRequests | None = None


class KeyRequests(Protocol):
    """The worker's side of the key exchange: send the task's ephemeral public key and the inputs it wants to
    decrypt, receive their data keys wrapped for that key (``{location: wrapped key bytes}``)."""

    def request(self, task_id: str, public_key: bytes, locations: list[str], timeout: float) -> dict[str, bytes]: ...


@dataclass(slots=True)
class TaskResult:
    """What came back from one task."""

    unit: str
    outputs: list[OutputRef] = field(default_factory=list)
    metrics: list[tuple[str, float, int | None]] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    traceback: str | None = None
    host: str = ""
    pid: int = 0


def encode_task(spec: TaskSpec, dumps: Callable[[Any], bytes] = pickle.dumps) -> bytes:
    try:
        return dumps(spec)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise ConfigurationError(
            f"unit {spec.unit}: the task cannot be sent to a worker ({exc}); the work function must be a module-level "
            "function and its params plain data"
        ) from exc


def decode_result(payload: bytes) -> TaskResult:
    result = pickle.loads(payload)
    if not isinstance(result, TaskResult):
        raise ConfigurationError(f"a worker returned {type(result).__name__}, not a task result")
    return result


class TaskContext:
    """What a work function sees on the worker: its inputs, params, the store, and where to put what it makes."""

    def __init__(self, spec: TaskSpec, store: ContentStore) -> None:
        self.spec = spec
        self.store = store
        self._result = TaskResult(spec.unit, host=socket.gethostname(), pid=os.getpid())
        self._keys: TaskKeys | None = None

    @property
    def unit(self) -> str:
        return self.spec.unit

    @property
    def inputs(self) -> tuple[InputRef, ...]:
        return self.spec.inputs

    @property
    def params(self) -> Mapping[str, Any]:
        return self.spec.params

    @property
    def groups(self) -> dict[str, str]:
        """A datum's capture groups (``{"plate": "P1", "well": "A01"}``; empty for a unit that is not a datum)."""
        datum = self.spec.params.get("datum")
        return dict(datum.get("groups", {})) if isinstance(datum, Mapping) else {}

    def input_named(self, name: str) -> InputRef:
        """A datum's input by its input name (``Input(..., name=...)``, default the resource's name)."""
        datum = self.spec.params.get("datum")
        names = list(datum.get("inputs", [])) if isinstance(datum, Mapping) else []
        if name not in names:
            raise ConfigurationError(f"unit {self.unit}: no datum input named {name!r} (it has {names})")
        return self.spec.inputs[names.index(name)]

    def input(self, which: int | str = 0) -> InputRef:
        """An input by position or by location."""
        if isinstance(which, int):
            return self.spec.inputs[which]
        for ref in self.spec.inputs:
            if ref.location == which:
                return ref
        raise ConfigurationError(f"unit {self.unit}: no input at {which!r}")

    # --- reading ----------------------------------------------------------------------------------------------
    def read_bytes(self, which: InputRef | int | str = 0) -> bytes:
        """An input's content, fetched by CID (every block verified) and checked against its sha256."""
        ref = which if isinstance(which, InputRef) else self.input(which)
        data = self.store.cat(ref.cid)
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise ContentMismatchError(
                f"unit {self.unit}: {ref.location} ({ref.cid}) does not have the recorded sha256"
            )
        return data

    def open(self, which: InputRef | int | str = 0) -> BinaryIO:
        return io.BytesIO(self.read_bytes(which))

    def read_plaintext(self, which: InputRef | int | str = 0) -> bytes:
        """An encrypted input's plaintext: its data key comes from the coordinator, wrapped for this task's
        ephemeral key (see ``_keys``)."""
        ref = which if isinstance(which, InputRef) else self.input(which)
        if self._keys is None:
            self._keys = TaskKeys(self.spec.task_id, self.spec.keys, [r.location for r in self.spec.inputs])
        return self._keys.decrypt(ref.location, self.read_bytes(ref))

    # --- writing and logging ----------------------------------------------------------------------------------
    def write(self, name: str, data: bytes | bytearray | memoryview) -> OutputRef:
        """Put ``data`` into the shared store as the output ``name``; the coordinator records it after checking it
        against its CID."""
        if not isinstance(name, str) or not name:
            raise ConfigurationError(f"unit {self.unit}: an output needs a non-empty name")
        content = bytes(data)
        added = self.store.add_bytes(content, pin=False)
        ref = OutputRef(name, str(added.cid), hashlib.sha256(content).hexdigest(), len(content))
        self._result.outputs.append(ref)
        return ref

    def log_metrics(self, metrics: Mapping[str, float] | None = None, /, step: int | None = None,
                    **named: float) -> None:
        for key, value in {**(metrics or {}), **named}.items():
            self._result.metrics.append((key, float(value), step))

    def log_params(self, params: Mapping[str, Any] | None = None, /, **named: Any) -> None:
        self._result.params.update({**(params or {}), **named})

    def set_tags(self, tags: Mapping[str, Any] | None = None, /, **named: Any) -> None:
        self._result.tags.update({**(tags or {}), **named})

    def result(self) -> TaskResult:
        return self._result


_stores: dict[str, ContentStore] = {}


def store_for(config: str) -> ContentStore:
    """The content store of ``config``, opened once per worker process."""
    store = _stores.get(config)
    if store is None:
        store = _stores[config] = open_content_store(config)
    return store


def run_task(payload: bytes) -> bytes:
    """The worker's entry point: run the encoded task, return the encoded :class:`TaskResult`."""
    spec: TaskSpec = pickle.loads(payload)
    context = TaskContext(spec, store_for(spec.store))
    try:
        if spec.work(context) is False:
            context.result().error = "returned False"
    except Exception as exc:
        result = context.result()
        result.error = f"{type(exc).__name__}: {exc}"
        result.traceback = traceback.format_exc()
    return pickle.dumps(context.result())
