"""``LocalExecutor``: tasks on a thread pool in the coordinator's process (the default executor).

The same tasks as on a cluster — encoded, run by the same entry point, results decoded — so a work function that
runs here runs on Ray unchanged, with the same cache keys. ``workers`` threads (default: the machine's CPUs);
a cancelled task that already started finishes (threads cannot be interrupted), its result is ignored.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from ..errors import ConfigurationError, ExecutorUnavailableError
from ._base import BaseExecutor, TaskHandle
from ._keys import LocalKeyChannel
from ._task import run_task


class _FutureHandle(TaskHandle):
    def __init__(self, future: Future[bytes]) -> None:
        self.future = future

    def done(self) -> bool:
        return self.future.done()

    def result(self) -> bytes:
        return self.future.result()

    def cancel(self) -> None:
        self.future.cancel()


class LocalExecutor(BaseExecutor):
    """See the module docstring."""

    def __init__(self, workers: int | None = None, *, max_in_flight: int | None = None) -> None:
        super().__init__(max_in_flight=max_in_flight)
        if workers is not None and (not isinstance(workers, int) or workers < 1):
            raise ConfigurationError(f"workers must be an int >= 1, got {workers!r}")
        self.workers = workers or os.cpu_count() or 1
        self._pool: ThreadPoolExecutor | None = None
        self._keys = LocalKeyChannel()

    def __repr__(self) -> str:
        return f"LocalExecutor(workers={self.workers})"

    def describe(self) -> str:
        return f"the thread pool ({self.workers} threads)"

    @property
    def capacity(self) -> int:
        return self.workers

    def _connect(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="anacostia-task")

    def _disconnect(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def submit(self, payload: bytes, *, unit: str) -> TaskHandle:
        if self._pool is None:
            raise ExecutorUnavailableError(f"{self.describe()} is not started: call start() first")
        self.submitted += 1
        return _FutureHandle(self._pool.submit(run_task, payload))

    def wait(self, handles: Sequence[TaskHandle], timeout: float) -> list[TaskHandle]:
        futures = {handle.future: handle for handle in handles if isinstance(handle, _FutureHandle)}
        done, _ = wait_futures(list(futures), timeout=timeout, return_when=FIRST_COMPLETED)
        return [futures[future] for future in done]

    def key_channel(self) -> LocalKeyChannel:
        return self._keys
