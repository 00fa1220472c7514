"""``RayExecutor``: tasks on a Ray cluster — embedded in this process, on this machine, or remote.

``address`` (else ``$RAY_ADDRESS``):

- ``None`` (and no ``RAY_ADDRESS``): an embedded Ray started in this process on this machine's CPUs (``ray.init``
  with ``address="local"``): the "two commands" need nothing else installed or running;
- ``"auto"``: the cluster started on this machine with ``ray start --head``;
- ``"host:port"``: a cluster's GCS address (this process joins as a driver and must reach every node);
- ``"ray://host:10001"``: a remote cluster through Ray Client.

An address that does not answer is an :class:`~anacostia_blockchain.errors.ExecutorUnavailableError` naming it at
launch (a TCP check first: Ray itself would wait for it forever). ``runtime_env`` goes to ``ray.init`` (pip packages,
environment variables, ``working_dir``, ``py_modules``: how the workers get this package and the work functions'
modules); when Ray was already connected in this process, it goes with each task instead. ``resources`` are what
each task needs (``{"CPU": 1, "GPU": 0.5, "my_label": 1}``; default one CPU; a warning when no node has them yet).
``max_retries``: how often a task whose worker process died is run again (Ray's retries of system failures);
an exception of the work function is never retried, it fails its unit.

Ray is connected once per process: when Ray is already initialized here (by the user, or another executor), it is
used as it is and left running (an executor naming another address is refused); otherwise the first ``start()``
connects and the last ``shutdown()`` disconnects.

A cluster lost mid-run (its GCS stops answering while tasks run — checked every :data:`HEALTH_INTERVAL` seconds —
or a task's node died and the GCS is gone) fails the task's unit and every unit after it with
:class:`~anacostia_blockchain.errors.ExecutorUnavailableError` ("lost the Ray cluster at …"), so the run fails and its
inputs return to ``new``; the next run connects again (or fails the same clear way while the cluster is still down).
So that the loss is reported rather than fatal, a connecting executor sets ``RAY_gcs_rpc_server_reconnect_timeout_s``
(unless set): Ray would otherwise end the whole process a minute after losing its GCS. Reconnecting shuts the old
connection down from the action's thread, after which SIGTERM ends the process at once instead of stopping the
pipeline gracefully (Ray puts its own signal handling back): its unfinished run is recovered at the next start.

Tasks are sent as one ``bytes`` payload each, encoded with Ray's cloudpickle (so work functions defined in
``__main__`` travel by value); the results come back as ``bytes``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..errors import (
    ConfigurationError,
    ExecutorError,
    ExecutorUnavailableError,
    KeyWrapError,
    TaskFailedError,
    WorkerLostError,
)
from ._base import BaseExecutor, TaskHandle
from ._keys import KeyRequest, LocalKeyChannel
from ._task import run_task

try:
    import ray
    import ray.cloudpickle
    import ray.exceptions
except ModuleNotFoundError as exc:  # pragma: no cover - the ray extra is part of the dev install
    raise ConfigurationError(
        "RayExecutor needs Ray: pip install 'anacostia-blockchain[ray]'"
    ) from exc

logger = logging.getLogger(__name__)
#: Seconds the TCP check waits for a cluster's address to answer.
CONNECT_TIMEOUT = 10.0
_GCS_PATIENCE, _FOREVER = "RAY_gcs_rpc_server_reconnect_timeout_s", str(10**9)
#: Connections through Ray Client whose server fails to start are tried this many times.
CLIENT_INIT_ATTEMPTS = 2
#: While tasks run, the GCS is checked every this many seconds; this many failed checks in a row mean it is gone.
HEALTH_INTERVAL = 2.0
HEALTH_FAILURES = 3


class RayExecutor(BaseExecutor):
    """See the module docstring."""

    def __init__(
        self,
        address: str | None = None,
        *,
        runtime_env: Mapping[str, Any] | None = None,
        resources: Mapping[str, float] | None = None,
        max_retries: int = 2,
        max_in_flight: int | None = None,
        init_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(max_in_flight=max_in_flight)
        if not isinstance(max_retries, int) or max_retries < 0:
            raise ConfigurationError(f"max_retries must be an int >= 0, got {max_retries!r}")
        wanted = {"CPU": 1.0, **{str(k): float(v) for k, v in (resources or {}).items()}}
        if any(value < 0 for value in wanted.values()):
            raise ConfigurationError(f"task resources must be >= 0, got {dict(wanted)}")
        self.address = address
        self.runtime_env = dict(runtime_env) if runtime_env else None
        self.resources = wanted
        self.max_retries = max_retries
        self.init_options = dict(init_options or {})
        self._owned = False
        self._lost_reason: str | None = None
        self._checked_at = 0.0
        self._failed_checks = 0
        self._capacity = 1
        self._remote: Any = None
        self._channel: _RayKeyChannel | None = None

    def __repr__(self) -> str:
        return f"RayExecutor({self.address!r}, resources={self.resources})"

    @property
    def target(self) -> str | None:
        """The address this executor joins (``None``: an embedded Ray)."""
        return self.address or os.environ.get("RAY_ADDRESS") or None

    def describe(self) -> str:
        target = self.target
        return "the embedded Ray" if target is None else f"the Ray cluster at {target}"

    @property
    def capacity(self) -> int:
        return self._capacity

    # --- connecting ---------------------------------------------------------------------------------------------
    def _connect(self) -> None:
        self._failed_checks = 0
        target = self.target
        if target not in (None, "auto", "local"):
            _check_reachable(target)
        if ray.is_initialized():
            connected = _gcs_address()
            if target not in (None, "auto") and connected is not None and not _same_address(target, connected):
                raise ConfigurationError(
                    f"Ray is already connected to {connected} in this process; one process joins one Ray cluster, "
                    f"so {self.describe()} cannot be used here"
                )
            self._owned = False
        else:
            options: dict[str, Any] = {"address": target or "local", "logging_level": "WARNING",
                                       **self.init_options}
            if self.runtime_env is not None:
                options["runtime_env"] = self.runtime_env
            if target is None:
                options.setdefault("include_dashboard", False)
            # Ray ends a driver whose GCS stays unreachable for a minute; this executor reports the loss instead.
            os.environ.setdefault(_GCS_PATIENCE, _FOREVER)
            _init(options, self.describe(), client=str(target).startswith("ray://"))
            self._owned = True
        available = ray.cluster_resources()
        missing = sorted(name for name, amount in self.resources.items() if amount > available.get(name, 0.0))
        if missing:  # an autoscaling cluster may still add such nodes: say so rather than wait silently
            logger.warning("%s has no node with %s for its tasks yet (cluster resources: %s); they wait for one",
                           self.describe(), ", ".join(f"{n}={self.resources[n]:g}" for n in missing),
                           dict(sorted(available.items())))
        cpus = float(available.get("CPU", 1.0))
        self._capacity = max(1, int(cpus // self.resources["CPU"])) if self.resources["CPU"] > 0 else max(1, int(cpus))
        custom = {k: v for k, v in self.resources.items() if k not in ("CPU", "GPU")}
        per_task: dict[str, Any] = {}
        if self.runtime_env is not None and not self._owned:  # Ray was connected by someone else: per task
            per_task["runtime_env"] = self.runtime_env
        self._remote = ray.remote(run_task).options(
            num_cpus=self.resources["CPU"], num_gpus=self.resources.get("GPU", 0.0), resources=custom or None,
            max_retries=self.max_retries, retry_exceptions=False, **per_task,
        )

    def _disconnect(self) -> None:
        self._lost_reason = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        self._remote = None
        if self._owned and ray.is_initialized():
            ray.shutdown()
        self._owned = False

    # --- tasks --------------------------------------------------------------------------------------------------
    def dumps(self, value: Any) -> bytes:
        return bytes(ray.cloudpickle.dumps(value))

    def submit(self, payload: bytes, *, unit: str) -> TaskHandle:
        if self._lost_reason is not None:
            self._reconnect()
        if self._remote is None:
            raise ExecutorUnavailableError(f"{self.describe()} is not started: call start() first")
        try:
            ref = self._remote.remote(payload)
        except ray.exceptions.RayError as exc:
            raise self._lost(exc) from exc
        self.submitted += 1
        return _RayHandle(self, ref, unit)

    def wait(self, handles: Sequence[TaskHandle], timeout: float) -> list[TaskHandle]:
        by_ref = {handle.ref: handle for handle in handles if isinstance(handle, _RayHandle)}
        if not by_ref:
            return []
        refs = list(by_ref)
        try:
            ready, _ = ray.wait(refs, num_returns=1, timeout=timeout, fetch_local=False)
            if ready and len(refs) > 1:
                ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0, fetch_local=False)
        except ray.exceptions.RayError as exc:
            raise self._lost(exc) from exc
        return [by_ref[ref] for ref in ready]

    def key_channel(self) -> _RayKeyChannel:
        if self._channel is None:
            if self._remote is None:
                raise ExecutorUnavailableError(f"{self.describe()} is not started: call start() first")
            actor = ray.remote(LocalKeyChannel).options(num_cpus=0, max_concurrency=256).remote()
            self._channel = _RayKeyChannel(actor)
        return self._channel

    def _lost(self, exc: BaseException) -> ExecutorUnavailableError:
        with self._lifecycle:
            if self._lost_reason is None:
                self._lost_reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            reason = self._lost_reason
        return ExecutorUnavailableError(f"lost {self.describe()}: {reason}")

    def _reconnect(self) -> None:
        """After losing the cluster: fail fast while it is down, connect again once it answers."""
        with self._lifecycle:
            reason = self._lost_reason
            address = _gcs_address() if ray.is_initialized() else None
            if address is not None and _answers(address):
                self._lost_reason = None
                return
            if not self._owned:
                raise ExecutorUnavailableError(f"lost {self.describe()}: {reason}")
            self._disconnect()
            self._connect()

    def check(self) -> None:
        if self._lost_reason is not None:
            raise ExecutorUnavailableError(f"lost {self.describe()}: {self._lost_reason}")
        now = time.monotonic()
        if now - self._checked_at < HEALTH_INTERVAL:
            return
        self._checked_at = now
        address = _gcs_address()
        if address is None or _answers(address, timeout=1.0):
            self._failed_checks = 0
            return
        self._failed_checks += 1
        if self._failed_checks >= HEALTH_FAILURES:
            raise self._lost(ConnectionError(f"its GCS at {address} stopped answering"))

    def _cluster_gone(self) -> bool:
        address = _gcs_address()
        return address is not None and not _answers(address)

    def result_of(self, handle: _RayHandle) -> bytes:
        if self._lost_reason is not None:
            raise ExecutorUnavailableError(f"lost {self.describe()}: {self._lost_reason}")
        try:
            return bytes(ray.get(handle.ref))
        except ray.exceptions.TaskCancelledError as exc:
            raise TaskFailedError("its task was cancelled", unit=handle.unit) from exc
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.OutOfMemoryError) \
                as exc:
            if self._lost_reason is not None or self._cluster_gone():
                raise self._lost(exc) from exc
            raise WorkerLostError(
                f"the worker running it died ({self.max_retries} retries spent): {type(exc).__name__}"
            ) from exc
        except ray.exceptions.RayTaskError as exc:  # run_task itself failed: the payload could not be loaded
            raise TaskFailedError(f"the worker could not run the task: {exc.cause!r}", unit=handle.unit) from exc
        except ray.exceptions.RayError as exc:
            raise self._lost(exc) from exc


class _RayHandle(TaskHandle):
    def __init__(self, executor: RayExecutor, ref: Any, unit: str) -> None:
        self.executor = executor
        self.ref = ref
        self.unit = unit

    def done(self) -> bool:
        if self.executor._lost_reason is not None:
            return True
        try:
            ready, _ = ray.wait([self.ref], timeout=0, fetch_local=False)
        except ray.exceptions.RayError as exc:
            raise self.executor._lost(exc) from exc
        return bool(ready)

    def result(self) -> bytes:
        return self.executor.result_of(self)

    def cancel(self) -> None:
        if self.executor._lost_reason is not None or not ray.is_initialized():
            return  # nothing runs any more (and a call into Ray would start a new one)
        try:
            ray.cancel(self.ref, force=False)
        except (ray.exceptions.RayError, ValueError, TypeError) as exc:
            raise ExecutorError(f"{self.unit}: could not cancel its task: {exc}") from exc


class _RayKeyChannel:
    """The key channel as a Ray actor (a :class:`LocalKeyChannel` living in a worker); picklable into tasks."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    def request(self, task_id: str, public_key: bytes, locations: list[str], timeout: float) -> dict[str, bytes]:
        try:
            return dict(ray.get(self.actor.request.remote(task_id, public_key, locations, timeout)))
        except ray.exceptions.RayTaskError as exc:
            raise KeyWrapError(f"task {task_id}: {exc.cause}") from exc

    def pending(self) -> list[KeyRequest]:
        return list(ray.get(self.actor.pending.remote()))

    def answer(self, request_id: int, wrapped: Mapping[str, bytes] | None, error: str | None = None) -> None:
        self.actor.answer.remote(request_id, dict(wrapped) if wrapped is not None else None, error)

    def close(self) -> None:
        with contextlib.suppress(ray.exceptions.RayError, ValueError):
            ray.kill(self.actor)


def _init(options: Mapping[str, Any], where: str, *, client: bool) -> None:
    """``ray.init``, or :class:`ExecutorUnavailableError` naming ``where``. Through Ray Client the cluster starts a
    server process for each client, which can fail to start on a busy head node (the client is told so): that is
    tried once more."""
    for attempt in range(CLIENT_INIT_ATTEMPTS if client else 1):
        try:
            ray.init(**options)
            return
        except ConnectionAbortedError as exc:  # Ray Client: "Initialization failure from server"
            if attempt + 1 >= CLIENT_INIT_ATTEMPTS or not client:
                raise ExecutorUnavailableError(f"cannot reach {where}: {exc}") from exc
            logger.warning("%s: its server for this client failed to start; connecting again", where)
        except Exception as exc:
            raise ExecutorUnavailableError(f"cannot reach {where}: {exc}") from exc


def _gcs_address() -> str | None:
    """The GCS address of the connected cluster (``None`` through Ray Client, or when it cannot be told)."""
    try:
        address = ray.get_runtime_context().gcs_address
    except Exception:  # Ray Client, or a runtime that is shutting down
        return None
    return str(address) if address else None


def _same_address(wanted: str, connected: str) -> bool:
    """Whether ``wanted`` names the connected GCS (the same port, and the same host or a name of this machine)."""
    want, have = urlsplit(f"ray://{wanted.removeprefix('ray://')}"), urlsplit(f"ray://{connected}")
    local = {"127.0.0.1", "localhost", socket.gethostname()}
    return want.port == have.port and (want.hostname == have.hostname or want.hostname in local)


def _answers(address: str, timeout: float = 2.0) -> bool:
    parts = urlsplit(f"ray://{address}")
    if not parts.hostname or parts.port is None:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False


def _check_reachable(address: str) -> None:
    """A TCP connection to the address's host and port, or :class:`ExecutorUnavailableError` naming it."""
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ConfigurationError(f"not a Ray address: {address!r} (expected host:port or ray://host:port)") from exc
    if not host or port is None:
        raise ConfigurationError(f"not a Ray address: {address!r} (expected host:port or ray://host:port)")
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT):
            pass
    except OSError as exc:
        raise ExecutorUnavailableError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from exc
