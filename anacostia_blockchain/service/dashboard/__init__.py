"""The operator dashboard: pages served by the marketplace app, fed by JSON and server-sent events.

- ``routes``: the pages (overview, run, model), the ``GET /events`` stream and the static files under ``static/``
  (uPlot vendored in ``static/vendor/`` by ``vendor.py``);
- ``api``: the pages' JSON under ``/dashboard/api/`` (pipelines, metric series, run detail, verdicts, sales);
- :func:`served_pipelines`: the pipelines ``create_app(pipeline=...)`` was given, each named;
- :class:`LiveFeed`: fans events of worker threads (indexer, metadata fetcher, pipeline monitors) out to the streams;
- :class:`PipelineMonitor`: polls one pipeline's metadata store and publishes what changed;
- :class:`VerdictStore`: the latest verification verdict of each anchored run, kept in the index database.
"""

from .live import LiveFeed, format_sse
from .monitor import PipelineMonitor
from .pipelines import ServedPipeline, describe_graph, served_pipelines
from .routes import STATIC_DIR, PipelineMonitors, mount_static, router, start_pipeline_monitor
from .series import downsample, step_series, summarize
from .verdicts import Verdict, VerdictStore

__all__ = [
    "STATIC_DIR",
    "LiveFeed",
    "PipelineMonitor",
    "PipelineMonitors",
    "ServedPipeline",
    "Verdict",
    "VerdictStore",
    "describe_graph",
    "downsample",
    "format_sse",
    "mount_static",
    "router",
    "served_pipelines",
    "start_pipeline_monitor",
    "step_series",
    "summarize",
]
