"""Where an action's work runs: the local thread pool (the default) or a Ray cluster; only the work leaves.

The DAG, run records, lineage, manifests and anchoring stay in the coordinator (the pipeline's process). An action
hands work units to ``run_tasks(node, units, work, output=...)``; each unit that the cache cannot answer becomes one
task: ``work(context)`` — a module-level function of its inputs by reference and its params
(:class:`TaskContext`: ``read_bytes``, ``read_plaintext``, ``write``, ``log_metrics``...) — on the node's executor.
Workers read and write through content addresses in a shared store and return CIDs; the coordinator verifies and
records the outputs. :class:`DatumAction` is the ready-made node: one task per datum (or per input artifact).

- :class:`LocalExecutor` — a thread pool in the coordinator's process;
- :class:`RayExecutor` — a Ray cluster: embedded (no address), ``"auto"``, ``"host:port"`` or ``"ray://host:10001"``,
  or ``RAY_ADDRESS`` (imported on first use: Ray is the ``ray`` extra);
- :class:`BaseExecutor` — the shape of both (a Dask executor is one more subclass).

Keys never leave the coordinator: a task reading encrypted inputs gets their data keys wrapped for an ephemeral key
of its own (:class:`EnvelopeKeys`, :mod:`._keys`). See docs/scaling.md.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._base import BaseExecutor, TaskHandle
from ._dispatch import CidOutput, run_tasks, store_config
from ._keys import EnvelopeKeys, KeyRequest, LocalKeyChannel
from ._task import InputRef, OutputRef, TaskContext, TaskResult, TaskSpec, run_task
from .datum_action import DatumAction
from .local import LocalExecutor

if TYPE_CHECKING:
    from .ray_executor import RayExecutor

__all__ = [
    "BaseExecutor",
    "CidOutput",
    "DatumAction",
    "EnvelopeKeys",
    "InputRef",
    "KeyRequest",
    "LocalExecutor",
    "LocalKeyChannel",
    "OutputRef",
    "RayExecutor",
    "TaskContext",
    "TaskHandle",
    "TaskResult",
    "TaskSpec",
    "run_task",
    "run_tasks",
    "store_config",
]


def __getattr__(name: str) -> Any:
    if name == "RayExecutor":
        value = import_module(".ray_executor", __name__).RayExecutor
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
