"""Lineage graphs as JSON: ``GET /models/{token_id}/lineage`` and ``GET /pipelines/{name}/runs/{run_id}/lineage``.

Both answer a :class:`LineageBody`: the graph the model page and the run page draw (``model -> checkpoint -> training
run -> dataset batch -> items -> the run that made them -> its inputs``), each node linking to its page (a run page
of this dashboard, ``/runs/{key}`` of the API, a model page) or its CID (``ipfs://``), and marked ``anchored`` when the
chain, as indexed, holds the root of a run that recorded it. How the graph is read and what "anchored" means:
:mod:`.lineage_view`.

- ``/models/{token_id}/lineage``: from the pipeline's own store when the model's pipeline is served here (full
  depth: down to the input files of the data preparation), else from the token's verified NFT metadata and the index.
  ``404``: the model is not indexed.
- ``/pipelines/{name}/runs/{run_id}/lineage``: the lineage of what a served pipeline's run produced (its artefacts,
  else its outputs). ``404``: no pipeline of that name is served here, or it has no such run.

Reads (store, index, content store) run on the thread pool.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from ...errors import NotFoundError
from ..dashboard import ServedPipeline, served_pipelines
from ..index import queries
from ..state import ServiceState, StateDep
from .lineage_view import (
    View,
    index_anchor_check,
    model_from_metadata,
    model_from_store,
    run_view,
    served_for,
    store_cat,
)
from .responses import errors

router = APIRouter(tags=["lineage"])

TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="ModelNFT token id")]
PipelineName = Annotated[str, Path(min_length=1, max_length=200, description="a pipeline served by this app")]
RunId = Annotated[int, Path(ge=1, le=2**63 - 1, description="the run's id in its pipeline's store")]

NodeKind = Literal["model", "checkpoint", "run", "batch", "card", "weights", "file"]


class LineageNode(BaseModel):
    id: str = Field(description="unique in the graph: model:<token>, run:<run>:<node>, run:<key>, artifact:<id>, "
                                "cid:<cid>")
    kind: NodeKind
    label: str
    href: str | None = Field(description="its page (run, model) or its content (ipfs://CID)")
    cid: str | None
    sha256: str | None
    anchored: bool | None = Field(description="true: a run holding it is anchored on chain with the root its store "
                                              "recorded (as indexed); null: its pipeline does not anchor")
    detail: str | None
    current: bool = Field(description="the model or run the graph was asked for")
    run: int | None = Field(default=None, description="run nodes: the run's id")


class LineageEdge(BaseModel):
    source: str
    target: str
    type: str = Field(description="checkpoint, produced_by, trained_on, evaluated_on, contains, read, weights, "
                                  "derived_from, card_of, trained_by")


class LineageBody(BaseModel):
    target: str
    source: Literal["pipeline", "metadata"] = Field(description="read from the pipeline's store, or from the NFT "
                                                                "metadata and the index")
    nodes: list[LineageNode]
    edges: list[LineageEdge]
    truncated: int = Field(description="nodes left out (the graph is drawn up to a bound)")
    notes: list[str]


def _fallback_cat(state: ServiceState) -> Any:
    return state.fetcher.store.cat if state.fetcher is not None else None


def model_lineage(state: ServiceState, token_id: int) -> dict[str, Any]:
    with state.engine.connect() as conn:
        model = queries.get_model(conn, token_id)
    served = served_for(served_pipelines(state.pipeline), str(model["pipeline_id"]))
    if served is not None:
        view = View(f"model:{token_id}", "pipeline")
        anchored = index_anchor_check(state.engine, served)
        if model_from_store(view, model, served, anchored, store_cat(served, _fallback_cat(state))):
            return view.to_json()
    view = View(f"model:{token_id}", "metadata")
    model_from_metadata(view, model, served)
    return view.to_json()


def _served(state: ServiceState, name: str) -> ServedPipeline:
    pipelines = served_pipelines(state.pipeline)
    found = next((p for p in pipelines if p.name == name), None)
    if found is None:
        names = ", ".join(repr(p.name) for p in pipelines) or "none"
        raise NotFoundError(f"no pipeline {name!r} is served here (served: {names})")
    return found


def pipeline_run_lineage(state: ServiceState, name: str, run_id: int) -> dict[str, Any]:
    served = _served(state, name)
    view = run_view(served, run_id, index_anchor_check(state.engine, served), store_cat(served, _fallback_cat(state)))
    return view.to_json()


@router.get("/models/{token_id}/lineage", response_model=LineageBody, responses=errors(404),
            summary="A model's lineage graph: checkpoint, training run, dataset batches, input files")
async def get_model_lineage(state: StateDep, token_id: TokenId) -> dict[str, Any]:
    return await run_in_threadpool(model_lineage, state, token_id)


@router.get("/pipelines/{name}/runs/{run_id}/lineage", response_model=LineageBody, responses=errors(404),
            summary="The lineage graph of what a served pipeline's run produced")
async def get_run_lineage(state: StateDep, name: PipelineName, run_id: RunId) -> dict[str, Any]:
    return await run_in_threadpool(pipeline_run_lineage, state, name, run_id)
