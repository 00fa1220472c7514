"""Which run and which node is executing *now*.

The engine sets an :class:`ExecutionContext` in a :mod:`contextvars` variable around every ``execute()`` call (and
its hooks) on the action node's own thread. Resources and metadata stores read it, so
``resource.save_artifact(...)`` and ``metadata_store.log_metrics(...)`` attribute what they record to the right run
and node without the user passing ids around.

A context variable is per thread: a helper thread started *inside* ``execute()`` starts with an empty context. Wrap
its target with :func:`contextvars.copy_context().run <contextvars.Context.run>` to carry the run along; without
that, the metadata store falls back to "the run in progress, no node".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ..errors import NoActiveRunError
from .reads import ReadLog


@dataclass(frozen=True, slots=True)
class ExecutionContext:
    """The run id and the name of the node whose code is running on this thread.

    ``reads`` logs what the code read through the resources (:mod:`.reads`); ``execution_id`` is the recorded
    execution (the node's, or its work unit's) that outputs saved now belong to; ``unit`` names the work unit.
    """

    run_id: int
    node_name: str | None
    reads: ReadLog | None = field(default=None, compare=False, repr=False)
    execution_id: int | None = None
    unit: str | None = None


_current: ContextVar[ExecutionContext | None] = ContextVar("anacostia_execution", default=None)


def current_execution() -> ExecutionContext | None:
    """The context of the ``execute()`` running on this thread, or ``None`` outside one."""
    return _current.get()


@contextmanager
def executing(
    run_id: int, node_name: str | None, *, reads: ReadLog | None = None, execution_id: int | None = None,
    unit: str | None = None,
) -> Iterator[ExecutionContext]:
    """Mark this thread as executing ``node_name`` for ``run_id`` for the duration of the block (with a fresh
    :class:`ReadLog` unless one is given)."""
    context = ExecutionContext(run_id, node_name, reads if reads is not None else ReadLog(), execution_id, unit)
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)


def attributed_context(active_run_id: int | None, owner: str) -> ExecutionContext:
    """What a record made now belongs to: this thread's ``execute()``, else the run in progress (no node).

    Raises :class:`NoActiveRunError` (naming ``owner``) when no run is in progress.
    """
    context = _current.get()
    if context is not None:
        return context
    if active_run_id is None:
        raise NoActiveRunError(
            f"{owner}: nothing to attribute this to; log metrics, params, tags and artifacts from an "
            "action's execute() while a run is in progress"
        )
    return ExecutionContext(active_run_id, None)
