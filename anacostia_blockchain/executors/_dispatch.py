"""``run_tasks``: an action's work units as tasks on its executor; the results verified and recorded here.

Inside ``execute()``, ``run_tasks(node, units, work, output=...)`` goes through the node's ``run_units`` (the engine's
cache), so a unit's key — hence reuse — is the same whichever executor runs it. Units whose key has a reusable result
are linked and cost no task. The others:

1. their inputs are given content addresses in the shared store (the output's store, or ``store=``): an input that
   has a CID present there is used as it is; any other input's content is added to the store first;
2. they are submitted as tasks in order, at most ``executor.window`` at a time (bounded concurrency);
3. as tasks finish, each unit's outputs are verified (the store fetches every block against its CID; the content
   must hash to the sha256 the worker reported) and recorded through ``output.record_current`` in the unit's own
   execution, with its metrics, params and tags — nothing is recorded for a unit whose task failed, and a unit is
   recorded once;
4. while waiting, key requests of tasks reading encrypted inputs are answered (``data_keys``; see :mod:`._keys`).

A task's failure fails its unit (:class:`~anacostia_blockchain.errors.TaskFailedError` with the work's error,
:class:`~anacostia_blockchain.errors.WorkerLostError`; the engine records it with the unit's name); the other units
go on. When the pipeline is asked to stop, the tasks still in flight are cancelled and the units not done fail
(the run ends ``aborted``, its inputs ``new`` again). The node's executor is ``node.executor`` (the pipeline's
default), else a thread pool made for the call.
"""

from __future__ import annotations

import contextvars
import io
import itertools
import logging
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

from ..engine import Artifact, BaseActionNode, UnitReport, WorkUnit
from ..errors import ConfigurationError, ExecutorError, TaskFailedError, WorkCancelledError
from ..ipfs import ContentStore, EmbeddedBlockstore, KuboClient
from ._base import BaseExecutor, TaskHandle
from ._keys import DataKeys, KeyService
from ._task import InputRef, TaskResult, TaskSpec, WorkFunction, decode_result, encode_task
from .local import LocalExecutor

logger = logging.getLogger(__name__)
#: Seconds between checks for a stop request and key requests while waiting for tasks.
_POLL = 0.05
#: Bytes of an encrypted input the coordinator reads to open its envelope header.
_HEAD_BYTES = 1 << 16


class CidOutput(Protocol):
    """Where task outputs are recorded: a resource over a content store (``IPFSStoreNode``)."""

    name: str
    store: ContentStore

    def record_current(self, cid: str, *, name: str | None = None,
                       derived_from: Iterable[Artifact | int] | None = None, sha256: str | None = None) -> Artifact: ...


def store_config(store: ContentStore) -> str:
    """The configuration string workers open ``store`` with (an embedded blockstore's path, a Kubo URL)."""
    if isinstance(store, EmbeddedBlockstore):
        return f"embedded:{store.path}"
    if isinstance(store, KuboClient) and not _has_credentials(store):
        return store.base_url
    raise ConfigurationError(
        f"cannot tell workers how to reach {store!r} (a store with credentials is never sent to them): pass "
        "run_tasks(..., store='http://kubo-host:5001') with an address the workers can use"
    )


def _has_credentials(store: KuboClient) -> bool:
    """Whether the client carries credentials (an ``auth=``, user info or a query string in its URL)."""
    parts = urlsplit(store.base_url)
    return bool(getattr(store, "_auth", None) or parts.username or parts.password or parts.query)


def run_tasks(
    node: BaseActionNode, units: Iterable[WorkUnit], work: WorkFunction, *, output: CidOutput,
    executor: BaseExecutor | None = None, store: str | None = None, data_keys: DataKeys | None = None,
) -> UnitReport:
    """Run ``work`` on every unit that needs it (see the module docstring); returns the engine's report."""
    chosen = executor or node.executor
    if chosen is not None and not isinstance(chosen, BaseExecutor):
        raise ConfigurationError(f"{node.name}: executor {chosen!r} is not an anacostia_blockchain executor")
    with _executor(chosen) as running:
        batch = _Batch(node, running, work, output, store or store_config(output.store), data_keys)
        try:
            return node.run_units(units, batch.collect, start=batch.start)
        finally:
            batch.close()


@contextmanager
def _executor(executor: BaseExecutor | None) -> Iterator[BaseExecutor]:
    if executor is not None:
        yield executor
        return
    local = LocalExecutor()
    local.start()
    try:
        yield local
    finally:
        local.shutdown()


class _Batch:
    """The tasks of one ``run_tasks`` call: submitted in order within the window, collected one unit at a time."""

    def __init__(self, node: BaseActionNode, executor: BaseExecutor, work: WorkFunction, output: CidOutput,
                 store: str, data_keys: DataKeys | None) -> None:
        self.node, self.executor, self.work, self.output, self.store = node, executor, work, output, store
        self.order: list[WorkUnit] = []
        self.next = 0
        self.handles: dict[str, TaskHandle] = {}
        self.in_flight: dict[TaskHandle, str] = {}
        self.task_ids: dict[str, str] = {}
        self.inputs: dict[str, dict[str, InputRef]] = {}
        self.channel = executor.key_channel() if data_keys is not None else None
        self.keys = KeyService(data_keys, self._open_input) if data_keys is not None else None
        self._ids = itertools.count()

    # --- submitting -------------------------------------------------------------------------------------------------
    def start(self, units: list[WorkUnit]) -> None:
        self.order.extend(units)
        self._fill()

    def _fill(self) -> None:
        while self.next < len(self.order) and len(self.in_flight) < self.executor.window:
            unit = self.order[self.next]
            self.next += 1
            if unit.name not in self.handles:
                self._submit(unit)

    def _submit(self, unit: WorkUnit) -> None:
        refs = tuple(self._ref(artifact) for artifact in unit.inputs)
        task_id = f"{uuid.uuid4().hex[:12]}-{next(self._ids)}"
        spec = TaskSpec(task_id, unit.name, self.work, refs, dict(unit.params), self.store,
                        self.channel if self.keys is not None else None)  # type: ignore[arg-type]
        payload = encode_task(spec, self.executor.dumps)
        if self.keys is not None:
            self.keys.register(task_id, [ref.location for ref in refs])
        self.inputs[task_id] = {ref.location: ref for ref in refs}
        handle = self.executor.submit(payload, unit=unit.name)
        self.handles[unit.name] = handle
        self.in_flight[handle] = unit.name
        self.task_ids[unit.name] = task_id

    def _ref(self, artifact: Artifact) -> InputRef:
        """The input by content address in the shared store (added there first when it is not)."""
        cid = artifact.cid
        if cid is None or not self.output.store.has(cid):
            # Outside any execution context: copying an input to the store is not a read by the unit collecting now.
            cid = contextvars.Context().run(self._add_to_store, artifact)
        return InputRef(artifact.resource, artifact.location, artifact.sha256, artifact.size, str(cid))

    def _add_to_store(self, artifact: Artifact) -> str:
        store = self.output.store
        resource = self.node.coordinator.graph.resources.get(artifact.resource)
        opener = getattr(resource, "open_artifact", None)
        if opener is None:
            raise ConfigurationError(f"{self.node.name}: cannot read {artifact.resource}:{artifact.location} to give "
                                     "it to a task (its resource has no open_artifact)")
        with opener(artifact) as content:
            added = store.add_stream(content) if hasattr(store, "add_stream") else store.add_bytes(content.read())
        return str(added.cid)

    # --- collecting -------------------------------------------------------------------------------------------------
    def collect(self, unit: WorkUnit) -> bool:
        """``run_units``' function for ``unit``: wait for its task, then verify and record what it made."""
        if unit.name not in self.handles:
            self._submit(unit)
        handle = self.handles[unit.name]
        while not handle.done():
            if self.node.stopping or self.node.coordinator.stopping:
                raise WorkCancelledError("cancelled: the pipeline is stopping")
            self._serve_keys()
            self.executor.check()
            for done in self.executor.wait(list(self.in_flight), _POLL):
                self.in_flight.pop(done, None)
            self._fill()
        self.in_flight.pop(handle, None)
        self._fill()
        result = self._result(unit, handle)
        self._record(result)
        return True

    def _result(self, unit: WorkUnit, handle: TaskHandle) -> TaskResult:
        try:
            result = decode_result(handle.result())
        finally:
            self._forget(unit.name)
        if result.error is not None:
            where = f"{result.host}:{result.pid}"
            self.node.log(f"unit {unit.name} failed on {where}: {result.error}\n{result.traceback or ''}",
                          level="ERROR")
            raise TaskFailedError(str(result.error), unit=unit.name)
        return result

    def _record(self, result: TaskResult) -> None:
        for ref in result.outputs:
            self.output.record_current(ref.cid, name=ref.name, sha256=ref.sha256)
        store = self.node.coordinator.store
        if result.metrics or result.params or result.tags:
            store.log_batch(metrics=result.metrics, params=result.params or None, tags=result.tags or None)

    def _forget(self, unit_name: str) -> None:
        task_id = self.task_ids.pop(unit_name, None)
        if task_id is not None:
            self.inputs.pop(task_id, None)
            if self.keys is not None:
                self.keys.forget(task_id)

    # --- keys -------------------------------------------------------------------------------------------------------
    def _serve_keys(self) -> None:
        if self.keys is not None and self.channel is not None:
            self.keys.serve(self.channel)

    def _open_input(self, task_id: str, location: str) -> BinaryIO:
        """The start of an input's stored bytes (enough for an envelope header)."""
        ref = self.inputs[task_id][location]
        head = bytearray()
        for chunk in self.output.store.cat_stream(ref.cid):
            head += chunk
            if len(head) >= _HEAD_BYTES:
                break
        return io.BytesIO(bytes(head))

    # --- stopping ---------------------------------------------------------------------------------------------------
    def close(self) -> None:
        """Cancel what is still in flight (the pipeline stopped, or ``execute()`` raised)."""
        for handle in list(self.in_flight):
            try:
                handle.cancel()
            except ExecutorError as exc:
                logger.warning("%s: could not cancel a task: %s", self.node.name, exc)
        self.in_flight.clear()
