"""``lineage_graph``: the provenance of a recorded object, read from a pipeline's run store (and content store).

Starting from an artifact (by id, CID, sha256 or ``resource:location``), the graph follows, transitively:

- the **step** that produced each artifact: run, node, code fingerprint, execution (work unit, cache key, and
  ``reused_from_run`` when the result was reused), and the inputs its per-output lineage names (``read`` edges);
- **artefact relationships** recorded in the catalog (``trained_on``, ``evaluated_on``, ``derived_from``,
  ``card_of``), and, when the content store is given, what artefact documents reference: a checkpoint's
  ``weights``, a batch's items (``contains``);
- the **runs** involved, with the root recorded when each ended (its anchor), and the runs results were reused from.

:func:`verify_graph` (``anacostia-chain lineage --verify``) then checks every run against its anchor and every
content with a CID against that CID (see :mod:`._checks`).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..engine import Artifact
from ..errors import AnacostiaError, ArtefactNotFoundError, ArtifactNotFoundError
from .catalog import Catalog, TaggedRuns
from .checkpoint import ModelCheckpoint, load_document
from .refs import ContentRef

Cat = Callable[[str], bytes]


class LineageRuns(TaggedRuns, Protocol):
    """What the graph reads from a run store (:class:`~anacostia_blockchain.metadata.RunStore` has all of it)."""

    def get_run(self, run_id: int) -> dict[str, Any]: ...

    def get_artifact(self, artifact_id: int) -> Artifact: ...

    def run_artifacts(self, run_id: int) -> dict[str, list[Artifact]]: ...

    def lineage(self, artifact: Artifact | int) -> dict[str, Any] | None: ...


@dataclass
class LineageGraph:
    """The provenance of :attr:`target` (see the module docstring); :meth:`to_json` gives plain data."""

    target: int
    artifacts: dict[int, Artifact] = field(default_factory=dict)
    steps: dict[int, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, Any]] = field(default_factory=list)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    artefacts: dict[int, dict[str, Any]] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        """Every check passed (and there was at least one)."""
        return bool(self.checks) and all(check["ok"] for check in self.checks)

    def inputs_of(self, artifact_id: int) -> list[int]:
        return [e["to"] for e in self.edges if e["from"] == artifact_id and e["type"] == "read"]

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "artifacts": {str(i): a.to_dict() for i, a in sorted(self.artifacts.items())},
            "steps": {str(i): step for i, step in sorted(self.steps.items())},
            "edges": self.edges,
            "runs": {str(i): run for i, run in sorted(self.runs.items())},
            "artefacts": {str(i): doc for i, doc in sorted(self.artefacts.items())},
            "checks": self.checks,
            "verified": self.verified if self.checks else None,
        }


class _Index:
    """Every artifact version any run consumed or produced, by id, sha256, CID and place (one pass over runs)."""

    def __init__(self, runs: LineageRuns) -> None:
        self.by_id: dict[int, Artifact] = {}
        for run in runs.get_runs():
            for group in runs.run_artifacts(int(run["id"])).values():
                self.by_id.update((a.id, a) for a in group)

    def find(self, ref: ContentRef) -> Artifact | None:
        """The newest version matching a reference (its place first, else any with its content)."""
        candidates = [a for a in self.by_id.values() if ref.matches(a)]
        placed = [a for a in candidates if (a.resource, a.location) == (ref.resource, ref.location)]
        chosen = placed or candidates
        return max(chosen, key=lambda a: a.id) if chosen else None

    def resolve(self, target: str) -> Artifact | None:
        text = target.strip()
        if text.lstrip("#").isdigit():
            return self.by_id.get(int(text.lstrip("#")))
        sha = text.removeprefix("sha256:").lower()
        matches = [a for a in self.by_id.values()
                   if text in (a.cid, f"{a.resource}:{a.location}") or a.sha256 == sha]
        return max(matches, key=lambda a: a.id) if matches else None


def lineage_graph(runs: LineageRuns, target: str | int, *, cat: Cat | None = None) -> LineageGraph:
    """The provenance graph of ``target`` (an artifact id, a CID, a sha256 or ``resource:location``) in ``runs``;
    ``cat`` (a content store's ``cat``) lets the graph follow what artefact documents reference."""
    return lineage_graph_of(runs, [target], cat=cat)


def lineage_graph_of(runs: LineageRuns, targets: Sequence[str | int], *, cat: Cat | None = None) -> LineageGraph:
    """One graph holding the provenance of every one of ``targets`` (as :func:`lineage_graph`; its ``target`` is
    the first), read in one pass over ``runs``."""
    if not targets:
        raise ArtefactNotFoundError("lineage_graph_of needs at least one target")
    index = _Index(runs)
    starts = [_resolve(runs, index, target) for target in targets]
    graph = LineageGraph(starts[0].id)
    _Walk(runs, index, Catalog(runs, statuses=None), cat, graph).run(*starts)
    return graph


def _resolve(runs: LineageRuns, index: _Index, target: str | int) -> Artifact:
    start = index.by_id.get(target) if isinstance(target, int) else index.resolve(str(target))
    if start is None and isinstance(target, int):
        try:
            start = runs.get_artifact(target)
        except ArtifactNotFoundError:
            start = None
    if start is None:
        raise ArtefactNotFoundError(f"no recorded artifact is {target!r} (give an artifact id, a CID, a sha256 or "
                                    "RESOURCE:LOCATION of something a run consumed or produced)")
    return start


class _Walk:
    def __init__(self, runs: LineageRuns, index: _Index, catalog: Catalog, cat: Cat | None,
                 graph: LineageGraph) -> None:
        self.runs, self.index, self.catalog, self.cat, self.graph = runs, index, catalog, cat, graph
        self.queue: deque[Artifact] = deque()
        self.entries = catalog.artefacts()
        self.relationships = catalog.relationships()

    def run(self, *starts: Artifact) -> None:
        for start in starts:
            self._visit(start)
        while self.queue:
            artifact = self.queue.popleft()
            self._step(artifact)
            self._artefact(artifact)
        for run_id in sorted({s["run"] for s in self.graph.steps.values()}
                             | {s["reused_from_run"] for s in self.graph.steps.values() if s["reused_from_run"]}):
            run = self.runs.get_run(run_id)
            self.graph.runs[run_id] = {"id": run_id, "status": run["status"], "trigger": run.get("trigger"),
                                       "recorded_root": run.get("hash"), "started_at": run.get("started_at"),
                                       "ended_at": run.get("ended_at")}

    def _visit(self, artifact: Artifact) -> None:
        if artifact.id not in self.graph.artifacts:
            self.graph.artifacts[artifact.id] = artifact
            self.queue.append(artifact)

    def _edge(self, source: Artifact, target: Artifact, kind: str, **facts: Any) -> None:
        self.graph.edges.append({"from": source.id, "to": target.id, "type": kind, **facts})
        self._visit(target)

    def _step(self, artifact: Artifact) -> None:
        made = self.runs.lineage(artifact)
        if made is None:
            return
        execution = made.get("execution") or {}
        self.graph.steps[artifact.id] = {
            "run": int(made["run"]["id"]), "node": made["node"], "code_fingerprint": made["code_fingerprint"],
            "unit": execution.get("unit"), "cache_key": execution.get("cache_key"),
            "reused_from_run": execution.get("reused_from_run"), "basis": execution.get("basis"),
        }
        for source in made["inputs"]:
            self._edge(artifact, source, "read")

    def _artefact(self, artifact: Artifact) -> None:
        ids = {artifact.cid, f"sha256:{artifact.sha256}"} - {None}
        for entry in self.entries:
            if entry.ref.id in ids or entry.ref.sha256 == artifact.sha256:
                self.graph.artefacts[artifact.id] = {"kind": entry.kind, "name": entry.name, "run": entry.run_id,
                                                     "cid": entry.ref.cid}
                break
        for recorded in self.relationships:
            relationship = recorded.relationship
            if relationship.source.sha256 == artifact.sha256:
                found = self.index.find(relationship.target)
                if found is not None:
                    self._edge(artifact, found, relationship.type, run=recorded.run_id)
        self._contents(artifact)
        self._described_by(artifact)

    def _document(self, artifact: Artifact) -> Any:
        if self.cat is None or artifact.id not in self.graph.artefacts or artifact.cid is None:
            return None
        try:
            return load_document(self.cat(artifact.cid))
        except (AnacostiaError, OSError):  # not a document, or not available here: the catalog's facts remain
            return None

    def _contents(self, artifact: Artifact) -> None:
        document = self._document(artifact)
        items = getattr(document, "items", None)
        if items is not None:
            for item in items:
                found = self.index.find(item)
                if found is not None:
                    self._edge(artifact, found, "contains")
        if isinstance(document, ModelCheckpoint):
            found = self.index.find(document.weights)
            if found is not None:
                self._edge(artifact, found, "weights")

    def _described_by(self, artifact: Artifact) -> None:
        """A model's weights lead to the checkpoint that describes them (and so to what it was trained on)."""
        if self.cat is None:
            return
        for entry in self.entries:
            if entry.kind != ModelCheckpoint.kind or entry.ref.cid is None:
                continue
            checkpoint = self.index.find(entry.ref)
            if checkpoint is None or checkpoint.id in self.graph.artifacts:
                continue
            try:
                document = json.loads(self.cat(entry.ref.cid))
            except (AnacostiaError, OSError, ValueError):  # not available here
                continue
            weights = document.get("weights") or {}
            if weights.get("sha256") == artifact.sha256:
                self.graph.artefacts[checkpoint.id] = {"kind": entry.kind, "name": entry.name, "run": entry.run_id,
                                                       "cid": entry.ref.cid}
                self._edge(artifact, checkpoint, "described_by")


def render(graph: LineageGraph) -> str:
    """The graph as indented text: the target, what made it and what that read, each artifact once."""
    lines: list[str] = []
    shown: set[int] = set()

    def describe(artifact_id: int) -> str:
        artifact = graph.artifacts[artifact_id]
        text = f"{artifact.resource}:{artifact.location}"
        if artifact.cid:
            text += f" {artifact.cid}"
        facts = graph.artefacts.get(artifact_id)
        if facts:
            text += f" [{facts['kind']} {facts['name']}]"
        step = graph.steps.get(artifact_id)
        if step is None:
            return text + " (detected, not produced by a run)"
        text += f" <- run {step['run']} {step['node']}"
        if step["unit"]:
            text += f" unit {step['unit']}"
        if step["reused_from_run"]:
            text += f", reused from run {step['reused_from_run']}"
        return text + f" (code {str(step['code_fingerprint'])[:19]}…)"

    def walk(artifact_id: int, depth: int, via: str) -> None:
        prefix = "  " * depth + (f"{via} " if via else "")
        if artifact_id in shown:
            lines.append(f"{prefix}{graph.artifacts[artifact_id].location} (above)")
            return
        shown.add(artifact_id)
        lines.append(prefix + describe(artifact_id))
        for edge in graph.edges:
            if edge["from"] == artifact_id:
                walk(edge["to"], depth + 1, edge["type"])

    walk(graph.target, 0, "")
    lines.append("runs:")
    for run_id, run in sorted(graph.runs.items()):
        root = run["recorded_root"] or "not anchored"
        lines.append(f"  run {run_id}: {run['status']}, root {root}")
    if graph.checks:
        lines.append("checks:")
    for check in graph.checks:
        lines.append(f"  {'ok    ' if check['ok'] else 'FAILED'} {check['check']:<8} {check['subject']}: "
                     f"{check['detail']}")
    if graph.checks:
        failed = sum(not check["ok"] for check in graph.checks)
        lines.append(f"VERIFIED: all {len(graph.checks)} checks passed" if not failed
                     else f"NOT VERIFIED: {failed} of {len(graph.checks)} checks failed")
    return "\n".join(lines)
