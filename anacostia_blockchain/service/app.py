"""``create_app(config)``: the marketplace API and the pipeline dashboard as one FastAPI application.

What it wires together:

- the index database (SQLite by default, in WAL mode so API reads never wait for the indexer's writes; PostgreSQL
  by URL ``postgresql+psycopg://...``), its tables created on start;
- the chain (``ChainClient`` + contract addresses from the deployment manifest) -> :class:`ChainGateway`, the
  :class:`Indexer` and the :class:`MetadataFetcher` (background threads started and stopped with the app's lifespan);
- the key store (only with a service key), the SIWE authenticator (only when the chain id is known);
- middleware: per-client rate limiting and, only for explicitly configured origins, CORS;
- errors: every :class:`AnacostiaError` (and request validation, and unknown routes) is answered as
  ``{"error": {"type": ..., "message": ...}}`` with a status chosen by :data:`STATUS_BY_ERROR`; a contract revert
  also carries ``revert: {name, args}``. Anything else is a 500 with a generic message — internals are not echoed.

Binding is the caller's choice (``anacostia-chain serve`` binds ``config.host``, default ``127.0.0.1``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    AnacostiaError,
    AuthError,
    ChainConnectionError,
    ChainError,
    ConfigurationError,
    ContentNotFoundError,
    ContractRevertError,
    LicenseRequiredError,
    MetadataStoreError,
    NotFoundError,
    PriceFeedError,
    RateLimitedError,
    RemoteUnavailableError,
    RequestTooLargeError,
    RunNotFoundError,
    StorageError,
    ValidationError,
)
from . import api_auth, api_market, api_runs, dashboard
from .auth import NonceStore, SessionTokens, SiweAuthenticator
from .chain_gateway import ChainGateway
from .config import ServiceConfig
from .index_migration import create_or_upgrade
from .indexer import Indexer
from .keystore import KeyStore
from .live import LiveFeed
from .metadata_fetcher import MetadataFetcher
from .ratelimit import RateLimitMiddleware
from .ratelimit_redis import RedisTokenBuckets
from .request_limit import RequestSizeLimit
from .response_cache import ResponseCache
from .run_verification import ContentManifestVerifier
from .state import ServiceState

log = logging.getLogger(__name__)

#: HTTP status per error class; the most specific class in an exception's MRO wins.
STATUS_BY_ERROR: dict[type[AnacostiaError], int] = {
    ValidationError: 422,
    RequestTooLargeError: 413,
    NotFoundError: 404,
    RunNotFoundError: 404,
    ContentNotFoundError: 404,
    AuthError: 401,
    LicenseRequiredError: 403,
    RateLimitedError: 429,
    ContractRevertError: 409,
    PriceFeedError: 503,
    ConfigurationError: 503,
    ChainConnectionError: 503,
    RemoteUnavailableError: 503,
    ChainError: 502,
    StorageError: 502,
    MetadataStoreError: 500,
}


def status_for(exc: AnacostiaError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]  # type: ignore[index]
    return 500


def error_response(status: int, type_name: str, message: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": {"type": type_name, "message": message, **extra}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


def create_index_engine(url: str) -> Engine:
    """An engine for the index DB; SQLite gets WAL, a busy timeout and cross-thread use."""
    try:
        return _create_index_engine(url)
    except (SQLAlchemyError, ImportError) as exc:  # an unparsable URL or a missing database driver
        raise ConfigurationError(f"bad index database URL (it is not echoed: it may hold a password): {exc}") from exc


def _create_index_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA mmap_size=268435456")  # reads map the file instead of copying pages through read()
            cursor.close()

        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


def _gateway_from_config(config: ServiceConfig) -> ChainGateway | None:
    if config.rpc_url is None:
        return None
    from ..chain.client import ChainClient
    from ..chain.deploy import DeploymentManifest
    from ..chain.story import addresses_for_chain

    client = ChainClient(config.rpc_url, expected_chain_id=config.chain_id)
    addresses: dict[str, str] = {}
    start_block = 0
    if config.deployments is not None:
        manifest = DeploymentManifest.load(config.deployments, client.chain_id)
        addresses = {name: manifest.address(name) for name in manifest.names()}
        blocks = [manifest.entry(name).block for name in manifest.names()]
        start_block = min(blocks, default=0)
    if "LicenseToken" not in addresses:
        # Story's own networks (and a story-compat devnet) have the suite at published addresses.
        try:
            story = addresses_for_chain(client.chain_id)
        except ConfigurationError:
            story = None
        if story is not None:
            addresses.setdefault("IPAssetRegistry", story.ip_asset_registry)
            addresses.setdefault("LicensingModule", story.licensing_module)
            addresses.setdefault("LicenseToken", story.license_token)
    return ChainGateway(client, addresses, start_block=start_block)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AnacostiaError)
    async def _anacostia(_request: Request, exc: AnacostiaError) -> JSONResponse:
        status = status_for(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, ContractRevertError) and exc.error_name:
            extra["revert"] = {"name": exc.error_name, "args": [str(a) for a in exc.error_args]}
        if status >= 500:
            log.warning("request failed with %s: %s", type(exc).__name__, exc)
        response = error_response(status, type(exc).__name__, str(exc), **extra)
        if isinstance(exc, RateLimitedError):
            response.headers["Retry-After"] = str(max(1, int(exc.retry_after)))
        return response

    @app.exception_handler(SQLAlchemyError)
    async def _database(_request: Request, exc: SQLAlchemyError) -> JSONResponse:
        # The service's one boundary for SQLAlchemy errors raised while serving a request.
        log.warning("index database error: %s", exc.__class__.__name__)
        return error_response(500, "MetadataStoreError", f"index database error ({exc.__class__.__name__})")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}" for err in exc.errors()
        )
        return error_response(422, "ValidationError", problems or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_name = {404: "NotFoundError", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return error_response(exc.status_code, type_name, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(500, "InternalError", "internal error (logged on the server)")


def create_app(
    config: ServiceConfig | None = None,
    *,
    gateway: ChainGateway | None = None,
    content_store: Any | None = None,
    pipeline: Any | None = None,
    manifest_verifier: Callable[[str, str | None, str, int], None] | None = None,
    start_workers: bool | None = None,
) -> FastAPI:
    """Build the app. ``gateway`` defaults to one built from ``config.rpc_url``/``config.deployments``;
    ``content_store`` (an ``ipfs`` ContentStore) enables metadata fetching; ``pipeline`` (an engine ``Pipeline``)
    enables the live DAG on the dashboard. ``start_workers`` defaults to ``config.run_indexer``."""
    config = config or ServiceConfig.from_env()
    engine = create_index_engine(config.database_url)
    try:
        create_or_upgrade(engine)
    except SQLAlchemyError as exc:
        raise MetadataStoreError(f"cannot open the index database: {exc.__class__.__name__}") from exc
    if gateway is None:
        gateway = _gateway_from_config(config)
    chain_id = gateway.chain_id if gateway is not None else config.chain_id
    nonces = NonceStore(config.nonce_ttl)
    authenticator = None
    if chain_id is not None:
        authenticator = SiweAuthenticator(
            domain=config.siwe_domain,
            uri_origin=config.allowed_uri_origin,
            chain_id=chain_id,
            nonces=nonces,
            tokens=SessionTokens(config.session_secret, config.session_ttl),
            max_age=config.message_max_age,
        )
    live = LiveFeed()
    state = ServiceState(
        config=config,
        engine=engine,
        nonces=nonces,
        authenticator=authenticator,
        live=live,
        gateway=gateway,
        keystore=KeyStore(engine, config.service_key) if config.service_key is not None else None,
        pipeline=pipeline,
        manifest_verifier=manifest_verifier,
    )
    if gateway is not None and gateway.has("ModelNFT"):
        state.indexer = Indexer(
            engine,
            gateway.event_reader(),
            chain_id=gateway.chain_id,
            nft=gateway.contract("ModelNFT"),
            start_block=gateway.start_block,
            batch_blocks=config.indexer_batch_blocks,
            poll_seconds=config.indexer_poll_seconds,
        )
        state.indexer.listeners += [state.index_version.observe, live.publish]
    if content_store is None and config.content_store is not None:
        from ..ipfs.store import open_content_store

        content_store = open_content_store(config.content_store)
    if content_store is not None:
        if state.manifest_verifier is None:
            state.manifest_verifier = ContentManifestVerifier(content_store)
        state.fetcher = MetadataFetcher(engine, content_store)
        state.fetcher.listeners += [state.index_version.observe, live.publish]
    run_workers = config.run_indexer if start_workers is None else start_workers

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        workers = [w for w in (state.indexer, state.fetcher) if w is not None] if run_workers else []
        monitor = dashboard.start_pipeline_monitor(state)
        for worker in workers:
            worker.start()
        try:
            yield
        finally:
            for worker in workers:
                worker.stop()
            if monitor is not None:
                monitor.stop()
            engine.dispose()

    app = FastAPI(
        title="Anacostia model marketplace",
        version="1.0.0",
        description=(
            "Models minted by Anacostia pipelines, indexed from the chain: browse, quote (Chainlink ETH/USD), sign in "
            "with Ethereum (EIP-4361) and fetch a model's data key wrapped for your wallet once you hold a license. "
            "Errors are JSON: {\"error\": {\"type\", \"message\"}}."
        ),
        lifespan=lifespan,
    )
    app.state.service = state
    _install_error_handlers(app)
    app.include_router(api_market.router)
    app.include_router(api_runs.router)
    app.include_router(api_auth.router)
    app.include_router(dashboard.router)
    dashboard.mount_static(app)
    app.add_middleware(ResponseCache, version=state.index_version.get, ttl=config.response_cache_seconds)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(config.cors_origins),
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type"],
            allow_credentials=False,
            max_age=600,
        )
    shared_buckets = (
        RedisTokenBuckets(config.rate_limit_redis_url, config.rate_limit) if config.rate_limit_redis_url else None
    )
    app.add_middleware(RequestSizeLimit)
    app.add_middleware(
        RateLimitMiddleware,
        limit=config.rate_limit,
        trust_forwarded_for=config.trust_forwarded_for,
        buckets=shared_buckets,
    )
    return app
