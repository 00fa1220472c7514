"""``BaseExecutor``: the one shape every executor has (thread pool, Ray; Dask would be one more subclass).

An executor runs encoded tasks (``bytes`` in, ``bytes`` out: :mod:`._task`) somewhere and hands back handles:

- :meth:`BaseExecutor.submit` starts one task and returns a :class:`TaskHandle`;
- :meth:`BaseExecutor.wait` blocks until at least one of some handles is done (or a timeout), returning the done ones;
- :meth:`TaskHandle.result` gives the encoded result of a done task, or raises
  :class:`~anacostia_blockchain.errors.WorkerLostError` (the worker died and the executor's retries are spent) or
  :class:`~anacostia_blockchain.errors.ExecutorUnavailableError` (the cluster is gone); :meth:`TaskHandle.cancel`
  stops it;
- :meth:`BaseExecutor.key_channel` is how tasks ask the coordinator for data keys (:mod:`._keys`);
- :meth:`BaseExecutor.check` is called while waiting: it raises
  :class:`~anacostia_blockchain.errors.ExecutorUnavailableError` once the cluster is gone (a cluster's own
  failure detection can be slow, or end the process).

``start()``/``shutdown()`` are counted: every action node sharing an executor starts it at launch and shuts it down
when it stops; the executor connects on the first start and disconnects on the last shutdown. ``max_in_flight``
bounds how many tasks one action keeps running at once (default: :attr:`BaseExecutor.capacity`, the CPUs the
executor has).
"""

from __future__ import annotations

import pickle
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigurationError
from ._keys import KeyChannel


class TaskHandle(ABC):
    """One submitted task."""

    @abstractmethod
    def done(self) -> bool: ...

    @abstractmethod
    def result(self) -> bytes:
        """The encoded result of a done task (see the module docstring for the errors)."""

    @abstractmethod
    def cancel(self) -> None: ...


class BaseExecutor(ABC):
    """See the module docstring."""

    def __init__(self, *, max_in_flight: int | None = None) -> None:
        if max_in_flight is not None and (not isinstance(max_in_flight, int) or max_in_flight < 1):
            raise ConfigurationError(f"max_in_flight must be an int >= 1, got {max_in_flight!r}")
        self.max_in_flight = max_in_flight
        #: Tasks submitted since this executor was made (cache hits never become tasks).
        self.submitted = 0
        self._users = 0
        self._lifecycle = threading.Lock()

    # --- lifecycle (counted) ------------------------------------------------------------------------------------
    def start(self) -> None:
        with self._lifecycle:
            if self._users == 0:
                self._connect()
            self._users += 1

    def shutdown(self) -> None:
        with self._lifecycle:
            if self._users == 0:
                return
            self._users -= 1
            if self._users == 0:
                self._disconnect()

    @property
    def started(self) -> bool:
        return self._users > 0

    @abstractmethod
    def _connect(self) -> None:
        """Start or join the workers (raise ``ExecutorUnavailableError`` naming where)."""

    @abstractmethod
    def _disconnect(self) -> None: ...

    # --- tasks --------------------------------------------------------------------------------------------------
    @abstractmethod
    def submit(self, payload: bytes, *, unit: str) -> TaskHandle: ...

    @abstractmethod
    def wait(self, handles: Sequence[TaskHandle], timeout: float) -> list[TaskHandle]:
        """The done ones among ``handles``, after waiting up to ``timeout`` seconds for at least one."""

    def check(self) -> None:
        """Raise ``ExecutorUnavailableError`` when the workers are gone (see the module docstring). Default: nothing
        to check (threads in this process)."""
        return None

    @abstractmethod
    def key_channel(self) -> KeyChannel:
        """The channel of key requests (its worker side is picklable into tasks)."""

    @property
    @abstractmethod
    def capacity(self) -> int:
        """How many tasks can run at once (CPUs of the pool or of the cluster)."""

    @property
    def window(self) -> int:
        """How many tasks one action keeps in flight."""
        return self.max_in_flight or self.capacity

    def dumps(self, value: Any) -> bytes:
        """How tasks are encoded for this executor's workers (module-level functions go by reference)."""
        return pickle.dumps(value)

    @abstractmethod
    def describe(self) -> str:
        """Where the work runs, for messages (``"the thread pool (2 threads)"``, ``"the Ray cluster at …"``)."""
