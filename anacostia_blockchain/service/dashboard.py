"""The operator dashboard: static pages served by the marketplace app, fed by JSON endpoints and server-sent events.

No build step: ``static/dashboard.html`` + ``dashboard.js`` (vanilla, ES2017) + ``dashboard.css``; the DAG and the
metric plots are drawn as SVG in the browser. Live updates come from ``GET /events`` (``text/event-stream``): the
first message is a full snapshot (DAG, recent runs, node statuses), then ``run`` events from the
:class:`PipelineMonitor` and ``indexed`` events from the indexer. ``EventSource`` reconnects by itself and receives a
fresh snapshot, so a dropped event never leaves the page wrong for long.

The dashboard routes are excluded from the OpenAPI schema: they are pages and a stream, not API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ..errors import AnacostiaError
from .pipeline_monitor import PipelineMonitor
from .state import ServiceState, service_state

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
StateDep = Annotated[ServiceState, Depends(service_state)]


def start_pipeline_monitor(state: ServiceState) -> PipelineMonitor | None:
    """Start polling the pipeline's store (if the app serves a pipeline); called from the app's lifespan."""
    if state.pipeline is None:
        return None
    monitor = PipelineMonitor(state.pipeline, state.live)
    state.workers.append(monitor)
    monitor.start()
    return monitor


def _monitor(state: ServiceState) -> PipelineMonitor | None:
    return next((w for w in state.workers if isinstance(w, PipelineMonitor)), None)


def pipeline_snapshot(state: ServiceState) -> dict[str, Any]:
    monitor = _monitor(state)
    if monitor is None:
        return {"type": "snapshot", "graph": None, "runs": [], "statuses": {}}
    try:
        return monitor.snapshot()
    except AnacostiaError as exc:
        return {"type": "snapshot", "graph": None, "runs": [], "statuses": {}, "error": str(exc)}


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard")


@router.get("/dashboard")
def dashboard_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "dashboard.html", media_type="text/html")


@router.get("/dashboard/api/pipeline")
async def pipeline_state(state: StateDep) -> dict[str, Any]:
    return await run_in_threadpool(pipeline_snapshot, state)


@router.get("/events")
async def events(state: StateDep) -> StreamingResponse:
    snapshot = await run_in_threadpool(pipeline_snapshot, state)
    return StreamingResponse(
        state.live.stream(first=snapshot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
