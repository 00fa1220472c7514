"""The marketplace service: the FastAPI app, the chain indexer behind it, wallet login, license-gated release of
model data keys and the operator dashboard. The only package importing FastAPI/uvicorn. See ``docs/marketplace.md``.

The way in::

    from anacostia_blockchain.service import ServiceConfig, create_app, serve_forever
    serve_forever(create_app(ServiceConfig.from_env()))

Sub-packages by concern: ``api`` (the app and its routes), ``middleware`` (rate limits, request size limit,
response cache, the error format), ``index`` (indexer, projection, schema, queries, metadata fetcher), ``auth``
(SIWE login, sessions, key store) and ``dashboard``; ``chain_gateway`` answers what must be read live from the chain.

:class:`ServiceConfig` and :class:`RateLimit` import without FastAPI; the app and the server load it on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .config import RateLimit, ServiceConfig

_LAZY = {
    "create_app": "anacostia_blockchain.service.api",
    "BackgroundServer": "anacostia_blockchain.service.server",
    "free_port": "anacostia_blockchain.service.server",
    "listen": "anacostia_blockchain.service.server",
    "serve_forever": "anacostia_blockchain.service.server",
}

__all__ = ["BackgroundServer", "RateLimit", "ServiceConfig", "create_app", "free_port", "listen", "serve_forever"]

if TYPE_CHECKING:
    from .api import create_app
    from .server import BackgroundServer, free_port, listen, serve_forever


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
