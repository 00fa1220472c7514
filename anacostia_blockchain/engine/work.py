"""Work units: the pieces of an action's work that are cached, and could run elsewhere, one by one.

A :class:`WorkUnit` is a function of its ``inputs`` (artifacts, by reference: content sha256 and CID) and its
``params``, returning outputs by reference (what it saves through the resources) plus what it logs. Inside
``execute()``, ``node.run_units(units, fn)``:

1. keys every unit (:class:`~.cache.ExecutionSpec`: the node's fingerprint and ``cache_params()``, the unit's params
   and the content of its inputs; the unit's name is not part of the key);
2. looks all keys up in one query; units whose key has a reusable execution are **reused**: their outputs are linked
   into the run in one transaction (recorded as reused from run N), and the metrics, params and tags the original
   execution logged are copied into the run, each marked as reused from that execution;
3. executes ``fn(unit)`` for each other unit, once per distinct key (a later unit with the same key reuses the first
   one's result), in an execution context of its own: its reads are the unit's inputs plus what ``fn`` reads, so the
   lineage of what it saves is exactly that; it is reusable when it succeeded, saved something and read nothing
   beyond its inputs.

``fn`` returns ``None``/``True`` for success or ``False`` for failure; an exception is an error recorded with the
unit. Failures do not stop the other units: the :class:`UnitReport` says what happened, and ``execute()`` decides.
A unit that was reused or executed successfully contributes its outputs to the node's execution.

The unit is the hand-off point for running work elsewhere: everything ``fn`` needs is in the unit (inputs by
reference, params), and everything it produces is recorded against the unit's execution. ``start(units)``, when
given, is called with the units about to execute, in the order ``fn`` will then be called for them, so their work
can start elsewhere at once (``anacostia_blockchain.executors`` runs it on a thread pool or a Ray cluster and ``fn``
collects each result).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import NoActiveRunError
from .artifact import Artifact
from .cache import ExecutionSpec, is_reusable, params_digest
from .context import ExecutionContext, current_execution, executing
from .reads import ReadLog
from .states import NodeStatus

if TYPE_CHECKING:
    from .action import BaseActionNode


@dataclass(frozen=True, slots=True)
class WorkUnit:
    """One cacheable piece of an action's work (see the module docstring). ``name`` identifies it in the run."""

    name: str
    inputs: tuple[Artifact, ...]
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, artifact: Artifact, **params: Any) -> WorkUnit:
        """The unit that processes one artifact (named after its resource and location)."""
        return cls(f"{artifact.resource}:{artifact.location}", (artifact,), params)


@dataclass(slots=True)
class UnitReport:
    """What :func:`run_units` did: unit names executed, reused, and failed (with the error)."""

    executed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def _require_context(node: BaseActionNode) -> ExecutionContext:
    context = current_execution()
    if context is None or context.node_name != node.name or context.unit is not None:
        raise NoActiveRunError(f"{node.name}: run_units() is called from the node's own execute()")
    return context


def run_units(
    node: BaseActionNode, units: Iterable[WorkUnit], fn: Callable[[WorkUnit], bool | None], *,
    start: Callable[[list[WorkUnit]], None] | None = None,
) -> UnitReport:
    """Reuse or execute ``units`` for ``node`` (see the module docstring)."""
    context = _require_context(node)
    base = node.cache_params()
    plain = params_digest({"node": base, "unit": {}})  # most units have no params of their own
    planned = [(unit, ExecutionSpec.build(node.name, node.code,
                                          params_digest({"node": base, "unit": dict(unit.params)}) if unit.params
                                          else plain, unit.inputs, unit=unit.name)) for unit in units]
    report = UnitReport()
    pending = _link(node, context, planned, report)
    first_of_key: dict[str, tuple[WorkUnit, ExecutionSpec]] = {}
    repeats: list[tuple[WorkUnit, ExecutionSpec]] = []
    for unit, spec in pending:
        if spec.key in first_of_key:
            repeats.append((unit, spec))
        else:
            first_of_key[spec.key] = (unit, spec)
    if start is not None and first_of_key:
        start([unit for unit, _ in first_of_key.values()])
    for unit, spec in first_of_key.values():
        _execute(node, context, unit, spec, fn, report)
    leftover = _link(node, context, repeats, report)
    if start is not None and leftover:
        start([unit for unit, _ in leftover])
    for unit, spec in leftover:
        _execute(node, context, unit, spec, fn, report)
    return report


def _link(
    node: BaseActionNode, context: ExecutionContext, planned: list[tuple[WorkUnit, ExecutionSpec]],
    report: UnitReport,
) -> list[tuple[WorkUnit, ExecutionSpec]]:
    """Link the units whose key has a reusable result (one lookup, one transaction); returns the others."""
    if not planned or node.forced:
        return planned
    runs = node.coordinator.store.runs
    found = runs.find_reusable([spec.key for _, spec in planned])
    links = [(spec, found[spec.key]) for _, spec in planned if spec.key in found]
    runs.link_reused(context.run_id, links, copy_logged=True)
    if context.reads is not None:
        context.reads.add_outputs(sum(len(source.outputs) for _, source in links))
    report.reused.extend(unit.name for unit, spec in planned if spec.key in found)
    return [(unit, spec) for unit, spec in planned if spec.key not in found]


def _execute(
    node: BaseActionNode, context: ExecutionContext, unit: WorkUnit, spec: ExecutionSpec,
    fn: Callable[[WorkUnit], bool | None], report: UnitReport,
) -> None:
    runs = node.coordinator.store.runs
    execution_id = runs.begin_execution(context.run_id, spec)
    log = ReadLog(parent=context.reads)
    log.add(unit.inputs, "unit")
    status, error = NodeStatus.SUCCESS, None
    with executing(context.run_id, node.name, reads=log, execution_id=execution_id, unit=unit.name):
        try:
            if fn(unit) is False:
                status, error = NodeStatus.FAILURE, f"{unit.name}: returned False"
        except Exception as exc:
            status, error = NodeStatus.ERROR, f"{unit.name}: {type(exc).__name__}: {exc}"
            node.log(f"run {context.run_id}: unit {error}\n{traceback.format_exc()}", level="ERROR")
    reusable = is_reusable(status, log, unit.inputs, context.run_id, node.name)
    runs.end_execution(execution_id, status, reads=log.reads(), reusable=reusable, error=error)
    if status is NodeStatus.SUCCESS:
        report.executed.append(unit.name)
    else:
        report.failed[unit.name] = error or str(status)
