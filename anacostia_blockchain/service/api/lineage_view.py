"""The lineage graph the model and run pages draw: nodes and edges, each node linking to its page or CID, the
anchored parts marked.

The shape is ``model -> checkpoint -> training run -> dataset batch -> items (by CID) -> the run that made them ->
its inputs``. It is read from one of two sources:

- **a served pipeline's run store** (``create_app(pipeline=...)``): the store's provenance graph
  (:func:`~anacostia_blockchain.artefacts.lineage_graph_of`, per-output lineage, catalog relationships and, with a
  content store, what artefact documents reference), turned into the drawn shape by :func:`from_graph`. A run page
  shows it for the run's artefacts (else its outputs); a model page for the model's checkpoint when the model's
  pipeline is served here.
- **the index alone** (any model): the NFT metadata, fetched and verified by CID by the metadata fetcher, names the
  checkpoint, the training batch and every item of it (``dataset_cids``); the index holds the anchored run.

Turning the store's graph into the drawn shape: a step (run and node) is a ``run`` node; an output points at the step
that produced it (``produced_by``) and the step at what the output was derived from (``read``). A dataset batch that a
checkpoint of the same step was ``trained_on`` hangs *under* that step (``trained_on``), and what the batch lists
under the batch (``contains``), so the picture reads checkpoint -> run -> batch -> items rather than both pointing at
the run. A checkpoint's ``described_by`` link is drawn as its ``weights``.

**Anchored** means checked against the chain as the index read it: a run is anchored when the index (which follows
``RunAnchored`` events) holds its key with the root its store recorded when it ended (for the index-only source: the
root the token was minted with). An artifact is anchored when a run that produced or read it is: its sha256 and CID
are leaves of that run's manifest. Items listed by an anchored batch are anchored through the batch's content hash.
The model is a token on chain. ``None`` means the question does not apply (a pipeline that does not anchor).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from ...artefacts import LineageGraph, lineage_graph_of
from ...errors import AnacostiaError, ArtefactNotFoundError
from ..dashboard import ServedPipeline
from ..index import schema as index_schema

#: At most this many nodes are drawn (the rest is counted in ``truncated``).
MAX_NODES = 300
#: A run page draws the lineage of at most this many of the run's outputs (its artefacts first).
MAX_TARGETS = 40

_KINDS = {"model_checkpoint": "checkpoint", "dataset_batch": "batch", "model_card": "card"}
_RELATIONSHIPS = ("trained_on", "evaluated_on", "derived_from", "card_of")


@dataclass
class View:
    """The drawn graph: ``nodes`` and ``edges`` as the API returns them (see :mod:`.lineage`)."""

    target: str
    source: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    truncated: int = 0

    def node(self, node_id: str, kind: str, label: str, **facts: Any) -> str:
        if node_id not in self.nodes:
            if len(self.nodes) >= MAX_NODES:
                self.truncated += 1
                return node_id
            self.nodes[node_id] = {"id": node_id, "kind": kind, "label": label, "href": None, "cid": None,
                                   "sha256": None, "anchored": None, "detail": None, "current": False, **facts}
        return node_id

    def edge(self, source: str, target: str, kind: str) -> None:
        if source == target or source not in self.nodes or target not in self.nodes:
            return
        if any(e["source"] == source and e["target"] == target for e in self.edges):
            return
        self.edges.append({"source": source, "target": target, "type": kind})

    def to_json(self) -> dict[str, Any]:
        return {"target": self.target, "source": self.source, "nodes": list(self.nodes.values()),
                "edges": self.edges, "truncated": self.truncated, "notes": self.notes}


def cid_href(cid: str | None) -> str | None:
    return f"ipfs://{cid}" if cid else None


def run_href(pipeline: str, run_id: int) -> str:
    return f"/dashboard/pipelines/{quote(pipeline, safe='')}/runs/{int(run_id)}"


def same_root(a: str | None, b: str | None) -> bool:
    def norm(value: str | None) -> str:
        return str(value or "").lower().removeprefix("0x")

    return bool(norm(a)) and norm(a) == norm(b)


# --- from a served pipeline's store ---------------------------------------------------------------------------------
#: ``(run id, the root its store recorded) -> (anchored, detail)``.
AnchorCheck = Callable[[int, str | None], tuple[bool | None, str | None]]


def index_anchor_check(engine: Any, served: ServedPipeline) -> AnchorCheck:
    """Anchored when the index holds the run's key with the recorded root (``None``: the store does not anchor)."""
    cache: dict[int, tuple[bool | None, str | None]] = {}

    def check(run_id: int, recorded_root: str | None) -> tuple[bool | None, str | None]:
        if run_id in cache:
            return cache[run_id]
        key = served.run_key(run_id)
        if key is None:
            found: tuple[bool | None, str | None] = (None, "this pipeline's store does not anchor runs")
        else:
            with engine.connect() as conn:
                row = conn.execute(select(index_schema.runs).where(index_schema.runs.c.key == key.lower())).first()
            if row is None:
                found = (False, "not anchored on chain (the index holds no RunAnchored event for it)")
            elif not same_root(row.merkle_root, recorded_root):
                found = (False, f"the chain holds root {row.merkle_root}, the store recorded {recorded_root}")
            else:
                found = (True, f"anchored in block {row.block_number}, root {row.merkle_root}")
        cache[run_id] = found
        return found

    return check


def from_graph(view: View, graph: LineageGraph, pipeline: str, anchored: AnchorCheck,
               current_run: int | None = None) -> dict[int, str]:
    """Add the store's provenance ``graph`` to ``view`` (the rules of the module docstring); returns the node id of
    each artifact of the graph that was drawn."""
    steps = {aid: _step_id(step) for aid, step in graph.steps.items()}
    kinds = _artifact_kinds(graph)
    hung = _hung_batches(graph, steps, kinds)  # batch id -> step node id it hangs under
    runs = {run_id: anchored(run_id, run.get("recorded_root")) for run_id, run in graph.runs.items()}
    for aid in sorted(graph.steps):
        step = graph.steps[aid]
        ok, detail = runs.get(int(step["run"]), (None, None))
        facts = [f"node {step['node']}", f"code {str(step['code_fingerprint'] or '')[:19]}…"]
        if step.get("reused_from_run"):
            facts.append(f"reused from run {step['reused_from_run']}")
        view.node(steps[aid], "run", f"run #{step['run']} · {step['node']}", href=run_href(pipeline, step["run"]),
                  anchored=ok, detail="; ".join(facts + ([detail] if detail else [])), run=int(step["run"]),
                  current=current_run is not None and int(step["run"]) == current_run)
    ids = {aid: _artifact_node(view, graph, aid, kinds[aid]) for aid in _ordered(graph)}
    readers = _readers(graph, steps)
    for aid, node_id in ids.items():
        marks = [runs.get(int(graph.steps[aid]["run"]))] if aid in graph.steps else []
        marks += [runs.get(int(graph.steps[r]["run"])) for r in readers.get(aid, ())]
        known = [mark[0] for mark in marks if mark is not None and mark[0] is not None]
        if node_id in view.nodes and known:
            view.nodes[node_id]["anchored"] = any(known)
    for aid, step_node in hung.items():
        view.edge(step_node, ids[aid], "trained_on")
    for aid, step_node in steps.items():
        if aid not in hung:
            view.edge(ids[aid], step_node, "produced_by")
    _edges(view, graph, ids, steps, hung)
    return ids


def _step_id(step: dict[str, Any]) -> str:
    return f"run:{int(step['run'])}:{step['node']}"


def _artifact_kinds(graph: LineageGraph) -> dict[int, str]:
    kinds = {aid: _KINDS.get(str((graph.artefacts.get(aid) or {}).get("kind")), "file") for aid in graph.artifacts}
    for edge in graph.edges:
        if edge["type"] == "weights" and kinds.get(edge["to"]) == "file":
            kinds[edge["to"]] = "weights"
        if edge["type"] == "described_by" and kinds.get(edge["from"]) == "file":
            kinds[edge["from"]] = "weights"
    return kinds


def _hung_batches(graph: LineageGraph, steps: dict[int, str], kinds: dict[int, str]) -> dict[int, str]:
    """Batches a checkpoint of the same step was trained on: they hang under that step."""
    hung: dict[int, str] = {}
    for edge in graph.edges:
        source, target = edge["from"], edge["to"]
        if (edge["type"] == "trained_on" and kinds.get(source) == "checkpoint" and kinds.get(target) == "batch"
                and source in steps and steps.get(target) == steps[source]):
            hung[target] = steps[source]
    return hung


def _ordered(graph: LineageGraph) -> list[int]:
    """The target first, then the artifacts in the order the walk met them."""
    return [graph.target, *(aid for aid in graph.artifacts if aid != graph.target)]


def _artifact_node(view: View, graph: LineageGraph, aid: int, kind: str) -> str:
    artifact = graph.artifacts[aid]
    facts = graph.artefacts.get(aid) or {}
    label = str(facts.get("name") or posixpath.basename(artifact.location) or artifact.location)
    detail = f"{artifact.resource}:{artifact.location} ({artifact.size} bytes)"
    return view.node(f"artifact:{aid}", kind, label, href=cid_href(artifact.cid), cid=artifact.cid,
                     sha256=artifact.sha256, detail=detail)


def _readers(graph: LineageGraph, steps: dict[int, str]) -> dict[int, list[int]]:
    """Per artifact, the outputs whose lineage names it (their runs read it)."""
    readers: dict[int, list[int]] = {}
    for edge in graph.edges:
        if edge["type"] == "read" and edge["from"] in steps:
            readers.setdefault(edge["to"], []).append(edge["from"])
    return readers


def _edges(view: View, graph: LineageGraph, ids: dict[int, str], steps: dict[int, str], hung: dict[int, str]) -> None:
    under_batches: dict[str, set[int]] = {}  # step node -> what its hung batches already lead to
    for edge in graph.edges:
        if edge["from"] in hung and edge["type"] in ("contains", "read"):
            under_batches.setdefault(hung[edge["from"]], set()).add(edge["to"])
    ordered = sorted(graph.edges, key=lambda e: e["type"] != "contains")  # a batch's items: "contains" first
    for edge in ordered:
        source, target, kind = edge["from"], edge["to"], edge["type"]
        if source not in ids or target not in ids:
            continue
        if kind == "read":
            step = steps.get(source)
            if source in hung:
                view.edge(ids[source], ids[target], "contains")
            elif step is not None and steps.get(target) != step and target not in under_batches.get(step, ()):
                view.edge(step, ids[target], "read")
        elif kind == "contains":
            view.edge(ids[source], ids[target], "contains")
        elif kind == "weights":
            view.edge(ids[source], ids[target], "weights")
        elif kind == "described_by":
            view.edge(ids[target], ids[source], "weights")
        elif kind in _RELATIONSHIPS and not (kind == "trained_on" and hung.get(target) == steps.get(source)):
            view.edge(ids[source], ids[target], kind)


def store_cat(served: ServedPipeline, fallback: Callable[[str], bytes] | None) -> Callable[[str], bytes] | None:
    """What reads artefact documents by CID: the anchoring store's content store, else ``fallback``."""
    anchoring = served.anchoring
    content = getattr(anchoring, "content_store", None) if anchoring is not None else None
    cat = getattr(content, "cat", None)
    return cat if callable(cat) else fallback


def run_targets(store: Any, run_id: int) -> list[int]:
    """The outputs a run page draws the lineage of: its catalogued artefacts, else every output (bounded)."""
    produced = store.runs.run_artifacts(run_id)["produced"]
    tags = store.runs.get_tags(run_id)
    catalogued = {str((value.get("ref") or {}).get("sha256")) for key, value in tags.items()
                  if key.startswith("artefact:") and isinstance(value, dict)}
    chosen = [a.id for a in produced if a.sha256 in catalogued] or [a.id for a in produced]
    return chosen[:MAX_TARGETS]


def run_view(served: ServedPipeline, run_id: int, anchored: AnchorCheck,
             cat: Callable[[str], bytes] | None) -> View:
    """The lineage of what run ``run_id`` of ``served`` produced (``RunNotFoundError`` if there is no such run)."""
    store = served.store
    run = store.runs.get_run(run_id)
    view = View(f"run:{run_id}", "pipeline")
    targets = run_targets(store, run_id)
    if not targets:
        ok, detail = anchored(run_id, run.get("hash"))
        view.node(f"run:{run_id}", "run", f"run #{run_id}", href=run_href(served.name, run_id), anchored=ok,
                  detail=detail, run=run_id, current=True)
        view.notes.append(f"run {run_id} produced nothing ({run['status']})")
        return view
    graph = lineage_graph_of(store.runs, targets, cat=cat)
    from_graph(view, graph, served.name, anchored, current_run=run_id)
    return view


# --- a model ---------------------------------------------------------------------------------------------------------
def model_node(view: View, model: dict[str, Any]) -> str:
    token_id = int(model["token_id"])
    document = (model.get("metadata") or {}).get("document") or {}
    name = document.get("name") if isinstance(document, dict) else None
    return view.node(f"model:{token_id}", "model", str(name or f"model #{token_id}"),
                     href=f"/dashboard/models/{token_id}", anchored=True, current=True,
                     detail=f"token #{token_id}, minted in block {model.get('minted_block')}")


def model_from_store(view: View, model: dict[str, Any], served: ServedPipeline, anchored: AnchorCheck,
                     cat: Callable[[str], bytes] | None) -> bool:
    """Draw the model's checkpoint from its pipeline's store; ``False`` when the store does not hold it."""
    checkpoint = _properties(model).get("checkpoint") or {}
    cid = checkpoint.get("cid") if isinstance(checkpoint, dict) else None
    if not cid:
        return False
    try:
        graph = lineage_graph_of(served.store.runs, [str(cid)], cat=cat)
    except (ArtefactNotFoundError, AnacostiaError):
        return False
    top = model_node(view, model)
    ids = from_graph(view, graph, served.name, anchored, current_run=int(model["run_id"]))
    view.edge(top, ids[graph.target], "checkpoint")
    return True


def model_from_metadata(view: View, model: dict[str, Any], served: ServedPipeline | None) -> None:
    """Draw the model from its verified NFT metadata and the index's anchored run."""
    top = model_node(view, model)
    metadata = model.get("metadata") or {}
    properties = _properties(model)
    verified = metadata.get("status") == "verified"
    run = model.get("run")
    run_anchored = run is not None and same_root(run.get("merkle_root"), model.get("anchor_root"))
    run_id = int(model["run_id"])
    key = f"{str(model['pipeline_id']).lower()}-{run_id}"
    if run is None:
        run_detail = "the index holds no RunAnchored event for this run yet"
    elif run_anchored:
        run_detail = f"anchored in block {run['block_number']}, root {run['merkle_root']}"
    else:
        run_detail = f"the chain holds root {run['merkle_root']}, the token names {model.get('anchor_root')}"
    run_node = view.node(f"run:{key}", "run", f"run #{run_id}" + (f" · {served.name}" if served else ""),
                         href=run_href(served.name, run_id) if served else f"/runs/{key}",
                         anchored=run_anchored, detail=run_detail, run=run_id)
    if not verified:
        view.edge(top, run_node, "trained_by")
        view.notes.append(f"the NFT metadata is {metadata.get('status', 'none')}: checkpoint and training batch "
                          "are shown once it is fetched and verified")
        return
    marked = run_anchored
    checkpoint = _pointer_node(view, properties.get("checkpoint"), "checkpoint", marked)
    batch = _pointer_node(view, properties.get("training_batch"), "batch", marked)
    if checkpoint is not None:
        view.edge(top, checkpoint, "checkpoint")
        view.edge(checkpoint, run_node, "produced_by")
    else:
        view.edge(top, run_node, "trained_by")
    if batch is not None:
        view.edge(run_node, batch, "trained_on")
        for cid in properties.get("dataset_cids") or ():
            item = view.node(f"cid:{cid}", "file", _short(str(cid)), href=cid_href(str(cid)), cid=str(cid),
                             anchored=marked, detail="an item of the training batch (by CID)")
            view.edge(batch, item, "contains")
    view.notes.append("read from the token's verified metadata and the index (this pipeline's store is not served "
                      "here)" if served is None else "the checkpoint is not in the served pipeline's store: read from "
                      "the token's verified metadata and the index")


def _properties(model: dict[str, Any]) -> dict[str, Any]:
    document = (model.get("metadata") or {}).get("document") or {}
    properties = document.get("properties") if isinstance(document, dict) else None
    return properties if isinstance(properties, dict) else {}


def _pointer_node(view: View, pointer: Any, kind: str, anchored: bool) -> str | None:
    if not isinstance(pointer, dict) or not pointer.get("cid"):
        return None
    cid = str(pointer["cid"])
    facts = [f"{key} {pointer[key]}" for key in ("serializer", "framework", "items") if pointer.get(key) is not None]
    return view.node(f"cid:{cid}", kind, str(pointer.get("name") or _short(cid)), href=cid_href(cid), cid=cid,
                     sha256=pointer.get("sha256"), anchored=anchored, detail=", ".join(facts) or None)


def _short(text: str) -> str:
    return text if len(text) <= 16 else f"{text[:8]}…{text[-4:]}"


def served_for(pipelines: Iterable[ServedPipeline], pipeline_id: str) -> ServedPipeline | None:
    """The served pipeline anchored under ``pipeline_id`` (hex), if any."""
    wanted = str(pipeline_id).lower()
    return next((p for p in pipelines if p.pipeline_id is not None and p.pipeline_id.lower() == wanted), None)
