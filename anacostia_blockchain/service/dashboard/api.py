"""The dashboard's JSON: served pipelines, their runs and metric series, verification verdicts, a model's sales.

Read endpoints for the pages (``/dashboard/api/...``, not part of the OpenAPI schema: the public API is ``/models``,
``/runs`` and ``/status``, which the pages also use):

- ``GET pipelines`` (also ``GET pipeline``): every served pipeline (name, ``pipelineId``, DAG, newest runs as
  summaries, node statuses);
- ``GET pipelines/{name}/history``: every run's last value of every metric (the across-runs charts);
- ``GET pipelines/{name}/metrics?key=K&runs=1,2``: the step series of metric ``K`` in up to 12 runs, downsampled to
  ``points`` per run (``series.downsample``) with each run's original ``count``;
- ``GET pipelines/{name}/runs/{id}``: the run page (``run_detail.py``) with the run's kept verification verdict;
- ``POST pipelines/{name}/runs/{id}/verify``: full re-verification from the store, kept (``verdicts.py``);
- ``POST anchors/{key}/verify``: an indexed anchored run checked against RunRegistry and its manifest (the same
  check as ``GET /runs/{key}/verify``), kept; ``GET verdicts?keys=…``: the kept verdicts of those runs;
- ``GET models/{token_id}/sales``: the model's purchases as indexed.

Store reads run on the thread pool; nothing here writes to a pipeline's store or the index's own tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from ...errors import AnacostiaError, NotFoundError
from ..index import queries
from ..state import ServiceState, StateDep
from .monitor import PipelineMonitor
from .run_detail import run_detail, verify_stored_run
from .series import CHART_POINTS, downsample, step_series
from .verdicts import MISMATCH, NOT_ANCHORED, TAMPERED, VERIFIED, Verdict, VerdictStore

router = APIRouter(prefix="/dashboard/api", include_in_schema=False)

PipelineName = Annotated[str, Path(min_length=1, max_length=200)]
RunId = Annotated[int, Path(ge=1, le=2**63 - 1)]
RunKey = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}-[0-9]{1,20}$")]
MAX_COMPARED_RUNS = 12


def monitors(state: ServiceState) -> list[PipelineMonitor]:
    """The monitors of the served pipelines, in the order they were given."""
    return [w for w in state.workers if isinstance(w, PipelineMonitor)]


def monitor_named(state: ServiceState, name: str) -> PipelineMonitor:
    found = next((m for m in monitors(state) if m.name == name), None)
    if found is None:
        served = ", ".join(repr(m.name) for m in monitors(state)) or "none"
        raise NotFoundError(f"no pipeline {name!r} is served here (served: {served})")
    return found


def pipeline_snapshots(state: ServiceState) -> list[dict[str, Any]]:
    """Each served pipeline's snapshot, or its name with ``error`` when its store cannot be read."""
    snapshots = []
    for monitor in monitors(state):
        try:
            snapshots.append(monitor.snapshot())
        except AnacostiaError as exc:
            snapshots.append({"name": monitor.name, "graph": None, "runs": [], "statuses": {}, "error": str(exc)})
    return snapshots


def verdict_store(request: Request, state: ServiceState) -> VerdictStore:
    """The app's :class:`VerdictStore` over the index database (made on first use)."""
    store: VerdictStore | None = getattr(request.app.state, "dashboard_verdicts", None)
    if store is None:
        store = request.app.state.dashboard_verdicts = VerdictStore(state.engine)
    return store


@router.get("/pipelines")
@router.get("/pipeline")  # the single-pipeline path of earlier clients: the same answer
async def pipelines(state: StateDep) -> dict[str, Any]:
    return {"pipelines": await run_in_threadpool(pipeline_snapshots, state)}


@router.get("/pipelines/{name}/history")
async def history(state: StateDep, name: PipelineName) -> dict[str, Any]:
    return await run_in_threadpool(monitor_named(state, name).history)


def _series(monitor: PipelineMonitor, key: str, run_ids: list[int], points: int) -> dict[str, Any]:
    result = []
    for run_id in run_ids:
        xs, ys = step_series(monitor.store.runs.get_metrics(run_id, key=key), key)
        shown_x, shown_y = downsample(xs, ys, points)
        result.append({"run_id": run_id, "count": len(xs), "x": shown_x, "y": shown_y})
    return {"pipeline": monitor.name, "key": key, "runs": result}


@router.get("/pipelines/{name}/metrics")
async def metric_series(
    state: StateDep,
    name: PipelineName,
    key: Annotated[str, Query(min_length=1, max_length=200)],
    runs: Annotated[str, Query(pattern=r"^[0-9]{1,19}(,[0-9]{1,19}){0,11}$", description="run ids, comma separated")],
    points: Annotated[int, Query(ge=10, le=20_000)] = CHART_POINTS,
) -> dict[str, Any]:
    monitor = monitor_named(state, name)
    run_ids = list(dict.fromkeys(int(r) for r in runs.split(",")))[:MAX_COMPARED_RUNS]
    return await run_in_threadpool(_series, monitor, key, run_ids, points)


def _with_verdict(detail: dict[str, Any], store: VerdictStore) -> dict[str, Any]:
    key = detail.get("key")
    kept = store.latest([key]).get(key.lower()) if key else None
    detail["verification"] = kept.to_json() if kept is not None else None
    return detail


@router.get("/pipelines/{name}/runs/{run_id}")
async def run_page_data(request: Request, state: StateDep, name: PipelineName, run_id: RunId) -> dict[str, Any]:
    monitor = monitor_named(state, name)
    detail = await run_in_threadpool(run_detail, monitor, run_id)
    return await run_in_threadpool(_with_verdict, detail, verdict_store(request, state))


def _verify_and_keep(verify: Callable[[], Verdict], store: VerdictStore) -> dict[str, Any]:
    verdict = verify()
    return {**verdict.to_json(), "kept": store.record(verdict)}


@router.post("/pipelines/{name}/runs/{run_id}/verify")
async def verify_served_run(request: Request, state: StateDep, name: PipelineName, run_id: RunId) -> dict[str, Any]:
    served = monitor_named(state, name).served
    store = verdict_store(request, state)
    return await run_in_threadpool(_verify_and_keep, lambda: verify_stored_run(served, run_id), store)


def verify_indexed_run(state: ServiceState, key: str) -> Verdict:
    """``GET /runs/{key}/verify``'s check as a :class:`Verdict`."""
    from ..api.runs import verify_run  # the API package imports this one: resolved at call time

    check = verify_run(state, key)
    if not check.anchored:
        return Verdict.now(key, NOT_ANCHORED, "index", "RunRegistry holds no root for this run")
    if not check.matches:
        return Verdict.now(key, MISMATCH, "index", f"indexed root {check.indexed_root}, on chain {check.onchain_root}")
    if check.manifest_verified is False:
        return Verdict.now(key, TAMPERED, "index", check.detail)
    if check.manifest_verified:
        return Verdict.now(key, VERIFIED, "index", "root matches; the manifest recomputes to it")
    why = check.detail or "no content store"
    return Verdict.now(key, VERIFIED, "index", f"root matches; manifest not checked ({why})")


@router.post("/anchors/{key}/verify")
async def verify_anchor(request: Request, state: StateDep, key: RunKey) -> dict[str, Any]:
    store = verdict_store(request, state)
    return await run_in_threadpool(_verify_and_keep, lambda: verify_indexed_run(state, key), store)


@router.get("/verdicts")
async def kept_verdicts(
    request: Request,
    state: StateDep,
    keys: Annotated[str, Query(pattern=r"^0x[0-9a-fA-F]{64}-[0-9]{1,20}(,0x[0-9a-fA-F]{64}-[0-9]{1,20}){0,99}$")],
) -> dict[str, Any]:
    store = verdict_store(request, state)
    found = await run_in_threadpool(store.latest, keys.split(","))
    return {"verdicts": {key: verdict.to_json() for key, verdict in found.items()}}


def _sales(state: ServiceState, token_id: int) -> list[dict[str, Any]]:
    with state.engine.connect() as conn:
        purchases = queries.get_model(conn, token_id)["purchases"]
    keep = ("tx_hash", "buyer", "price_usd_units", "paid_wei", "license_token_id", "block_number")
    return [{k: purchase.get(k) for k in keep} for purchase in purchases]


@router.get("/models/{token_id}/sales")
async def model_sales(state: StateDep, token_id: Annotated[int, Path(ge=1, le=2**63 - 1)]) -> dict[str, Any]:
    return {"token_id": token_id, "sales": await run_in_threadpool(_sales, state, token_id)}
