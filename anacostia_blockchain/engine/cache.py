"""Cache keys: when an action's earlier result can stand in for executing it again.

An **execution** is a function of its code, its inputs by reference and its params, returning outputs by reference
(plus the metrics, params and tags it logs). That is what makes it cacheable here and runnable elsewhere. Its key::

    key = sha256(canonical JSON {"format", "node", "fingerprint", "params", "inputs", "upstream"})

- ``fingerprint``: the node class's code fingerprint digest (:mod:`.fingerprint`: its module and every
  project-local module it imports, package versions, Python version);
- ``params``: the sha256 of the canonical JSON of its params (``BaseActionNode.cache_params()`` for a node, plus a
  work unit's own params) — only the digest is stored, never the values;
- ``inputs``: the sha256 of each declared input's **content**, sorted (names are not part of it: the same content
  under a new name has the same key);
- ``upstream``: the keys of the predecessor actions' executions in this run (what the node may have picked up from
  them besides files: logged values, side effects); empty for a work unit;
- ``node``: the node's name (two nodes of one class never share results).

A successful execution is **reusable** when everything it read through the resources is among its declared inputs
(by content) and it saved at least one output (an execution whose effects are all outside the resources — a
transaction, an upload, a metric computed from elsewhere — is never skipped: there would be nothing to link). A later
execution with the same key is then not executed: the outputs of the newest reusable execution with that key are
linked into the new run (new versions of the same content, still present where they were written), recorded as
*reused from run N*, and the metrics, params and tags it logged are copied into the new run, each marked as reused
from the execution that logged it (the run manifest's ``execution:NODE`` entry lists them under ``reused_logged``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigurationError
from .artifact import Artifact
from .fingerprint import CodeFingerprint
from .reads import ReadLog
from .states import NodeStatus

#: Version of the key recipe (part of every key).
CACHE_KEY_FORMAT = 1
#: Attributes of every action that never change its results (they are left out of ``cache_params()``).
ENGINE_ATTRIBUTES = frozenset({"max_retries", "retry_backoff", "force", "predecessors", "successors", "loggers"})


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def params_digest(params: Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical JSON of ``params`` (:class:`ConfigurationError` if it has none)."""
    try:
        return _sha256(_canonical(dict(params)))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cache params must be JSON data (str, numbers, bools, lists, dicts): {exc}") from exc


def plain_value(value: Any) -> tuple[bool, Any]:
    """``(True, JSON form)`` when ``value`` is plain data (bytes become the sha256 of their content), else
    ``(False, None)``."""
    if value is None or isinstance(value, bool | int | str):
        return True, value
    if isinstance(value, float):
        return (True, value) if math.isfinite(value) else (False, None)
    if isinstance(value, bytes | bytearray):
        return True, {"bytes-sha256": hashlib.sha256(bytes(value)).hexdigest()}
    if isinstance(value, list | tuple):
        items = [plain_value(item) for item in value]
        return (True, [item for _, item in items]) if all(ok for ok, _ in items) else (False, None)
    if isinstance(value, Mapping) and all(isinstance(key, str) for key in value):
        entries = {key: plain_value(item) for key, item in value.items()}
        ok = all(flag for flag, _ in entries.values())
        return (True, {key: item for key, (_, item) in entries.items()}) if ok else (False, None)
    return False, None


def attribute_params(instance: object) -> dict[str, Any]:
    """The instance's public attributes holding plain data (see :func:`plain_value`), engine attributes excluded."""
    params: dict[str, Any] = {}
    for name, value in sorted(vars(instance).items()):
        if name.startswith("_") or name in ENGINE_ATTRIBUTES:
            continue
        ok, plain = plain_value(value)
        if ok:
            params[name] = plain
    return params


@dataclass(frozen=True, slots=True)
class ExecutionSpec:
    """An execution before it runs: what it is keyed on, and its key."""

    node_name: str
    code: CodeFingerprint
    params_digest: str
    inputs: tuple[Artifact, ...]
    upstream: tuple[str, ...] = ()
    unit: str | None = None
    key: str = field(default="")

    @classmethod
    def build(
        cls, node_name: str, code: CodeFingerprint, params: Mapping[str, Any] | str, inputs: Iterable[Artifact],
        upstream: Iterable[str] = (), unit: str | None = None,
    ) -> ExecutionSpec:
        """The spec and key of an execution of ``node_name`` (``unit``: a work unit inside it); ``params`` may be
        given as its :func:`params_digest` already."""
        unique = {artifact.id: artifact for artifact in inputs}
        digest = params if isinstance(params, str) else params_digest(params)
        spec = cls(node_name, code, digest, tuple(unique.values()), tuple(sorted(set(upstream))), unit)
        return spec.with_key()

    def with_key(self) -> ExecutionSpec:
        facts = {
            "format": CACHE_KEY_FORMAT,
            "node": self.node_name,
            "fingerprint": self.code.digest,
            "params": self.params_digest,
            "inputs": sorted(artifact.sha256 for artifact in self.inputs),
            "upstream": list(self.upstream),
        }
        return ExecutionSpec(self.node_name, self.code, self.params_digest, self.inputs, self.upstream, self.unit,
                             _sha256(_canonical(facts)))


@dataclass(frozen=True, slots=True)
class ReusableExecution:
    """A recorded, reusable execution with a given key, whose outputs are still present."""

    execution_id: int
    run_id: int
    origin_run_id: int  # the run that really executed it (a reuse of a reuse points to the original run)
    key: str
    outputs: tuple[Artifact, ...]


def is_reusable(status: NodeStatus, log: ReadLog, inputs: Sequence[Artifact], run_id: int, node_name: str) -> bool:
    """Whether an execution's result may stand in for later ones: it succeeded, saved outputs, and everything it
    read (its own outputs aside) is among its declared ``inputs`` by content."""
    if status is not NodeStatus.SUCCESS or log.outputs == 0:
        return False
    declared = {artifact.sha256 for artifact in inputs}
    return all(artifact.sha256 in declared for artifact in log.artifacts()
               if not (artifact.produced_run_id == run_id and artifact.produced_by_node == node_name))
