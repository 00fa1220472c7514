"""A registry per process part, its text exposition, and the stand-alone metrics server of a pipeline process.

:func:`metrics_registry` holds the given collectors plus prometheus-client's own process, platform and garbage
collector metrics, in a registry of its own (never the library's global one, so two apps or pipelines in one
process do not collide). :func:`render` answers a scrape in the format the scraper asks for (Prometheus text or
OpenMetrics). :class:`MetricsServer` is prometheus-client's own HTTP server on ``host:port`` (``127.0.0.1`` unless
told otherwise; port ``0`` picks a free one) for a process without the marketplace, e.g. ``anacostia-chain run
--metrics-port 9464``.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any, Self

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from ..errors import ConfigurationError


def metrics_registry(*collectors: Collector, process: bool = True) -> CollectorRegistry:
    """A new registry with ``collectors`` (and, with ``process``, the process/platform/GC collectors)."""
    registry = CollectorRegistry(auto_describe=False)
    if process:
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        GCCollector(registry=registry)
    for collector in collectors:
        registry.register(collector)
    return registry


def render(registry: CollectorRegistry, accept: str | None = None) -> tuple[bytes, str]:
    """``(body, content type)`` of one scrape; ``accept`` is the scraper's ``Accept`` header."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


class MetricsServer:
    """prometheus-client's HTTP server for ``registry`` on ``host:port``; a context manager, :meth:`stop` is
    idempotent."""

    def __init__(self, registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> None:
        self.registry = registry
        self.host = host
        self._requested_port = port
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_port) if self._server is not None else self._requested_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/metrics"

    def start(self) -> Self:
        if self._server is not None:
            return self
        try:
            self._server, self._thread = start_http_server(self._requested_port, addr=self.host, registry=self.registry)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot serve metrics on {self.host}:{self._requested_port}: {exc.strerror or exc}"
            ) from exc
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
