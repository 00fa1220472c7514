"""The dashboard's pages, its server-sent event stream and its static files.

No build step: three HTML pages under ``static/`` (the overview, a run, a model) with vanilla ES2017 scripts and one
stylesheet; the DAG is drawn as SVG, metric charts by uPlot, vendored under ``static/vendor/`` (see ``vendor.py``).
Live updates come from ``GET /events`` (``text/event-stream``): the first message is a snapshot of every served
pipeline (DAG, newest runs, node statuses), then ``run`` events from the :class:`PipelineMonitor` of each pipeline
and ``indexed``/``metadata``/``reorg`` events from the indexer and metadata fetcher. ``EventSource`` reconnects by
itself and receives a fresh snapshot, so a dropped event never leaves a page wrong for long.

The dashboard routes are excluded from the OpenAPI schema: they are pages and a stream, not API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from ..state import ServiceState, StateDep
from .api import pipeline_snapshots
from .api import router as api_router
from .monitor import PipelineMonitor
from .pipelines import served_pipelines

STATIC_DIR = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)
router.include_router(api_router)  # one router for the app to mount: pages, stream and their JSON


class PipelineMonitors(list[PipelineMonitor]):
    """The monitors of the served pipelines, stopped together."""

    def stop(self) -> None:
        for monitor in self:
            monitor.stop()


def start_pipeline_monitor(state: ServiceState) -> PipelineMonitors | None:
    """Start one monitor per served pipeline (``state.pipeline``: see ``pipelines.py``); called from the app's
    lifespan. ``None`` when the app serves no pipeline."""
    started = PipelineMonitors()
    for served in served_pipelines(state.pipeline):
        monitor = PipelineMonitor(served, state.live)
        state.workers.append(monitor)
        monitor.start()
        started.append(monitor)
    return started or None


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/dashboard")


@router.get("/dashboard")
def dashboard_page() -> FileResponse:
    return _page("dashboard.html")


@router.get("/dashboard/pipelines/{name}/runs/{run_id}")
def run_page(name: Annotated[str, PathParam(max_length=200)], run_id: int) -> FileResponse:
    return _page("run.html")


@router.get("/dashboard/models/{token_id}")
def model_page(token_id: int) -> FileResponse:
    return _page("model.html")


@router.get("/events")
async def events(state: StateDep) -> StreamingResponse:
    snapshot = {"type": "snapshot", "pipelines": await run_in_threadpool(pipeline_snapshots, state)}
    return StreamingResponse(
        state.live.stream(first=snapshot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
