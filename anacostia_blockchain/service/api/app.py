"""``create_app(config)``: the marketplace API and the pipeline dashboard as one FastAPI application.

What it wires together:

- the index database (:func:`~anacostia_blockchain.service.index.open_index`: SQLite by default, PostgreSQL by URL),
  its tables created or upgraded on start;
- the chain (``ChainClient`` + contract addresses from the deployment manifest) -> :class:`ChainGateway`, the
  :class:`Indexer` and the :class:`MetadataFetcher` (background threads started and stopped with the app's lifespan);
- the key store (only with a service key), the SIWE authenticator (only when the chain id is known);
- the routes (``market``, ``runs``, ``lineage``, ``auth``, ``status``, the dashboard, ``/metrics`` for Prometheus),
  the error format (:mod:`~anacostia_blockchain.service.middleware.errors`) and the error statuses of the OpenAPI
  document (``responses.py``); ``/docs`` (Swagger UI) and ``/redoc`` with their assets from the
  ``fastapi-offline`` package;
- middleware, outermost first: the client address from ``X-Forwarded-For`` (only for connections from
  ``config.trusted_proxies``), per-client rate limiting, the request size limit, CORS (only for explicitly configured
  origins) and the listing cache.

Binding is the caller's choice (``anacostia-chain serve`` binds ``config.host``, default ``127.0.0.1``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ...errors import ConfigurationError
from .. import dashboard
from ..auth import KeyStore, NonceStore, SessionTokens, SiweAuthenticator
from ..background_loop import BackgroundLoop
from ..chain_gateway import ChainGateway
from ..config import ServiceConfig
from ..dashboard import LiveFeed
from ..index import Indexer, MetadataFetcher, create_read_engine, open_index
from ..middleware import (
    RateLimitMiddleware,
    RedisTokenBuckets,
    RequestSizeLimit,
    ResponseCache,
    install_error_handlers,
)
from ..run_verification import ContentManifestVerifier
from ..state import ServiceState
from ..types import ManifestVerifier
from . import auth, keys, lineage, market, runs, status
from .metrics import install_metrics
from .offload import close_async_reads
from .responses import document_errors

if TYPE_CHECKING:
    from ...chain.rpc import ChainClient
    from ...ipfs import ContentStore

DESCRIPTION = (
    "Models minted by Anacostia pipelines, indexed from the chain: browse, quote (Chainlink ETH/USD), sign in "
    "with Ethereum (EIP-4361) and fetch a model's data key wrapped for your wallet once you hold a license. "
    'Errors are JSON: {"error": {"type", "message"}}.'
)


def create_app(
    config: ServiceConfig | None = None,
    *,
    gateway: ChainGateway | None = None,
    content_store: ContentStore | None = None,
    pipeline: Any | None = None,
    manifest_verifier: ManifestVerifier | None = None,
    start_workers: bool | None = None,
) -> FastAPI:
    """Build the app. ``gateway`` defaults to one built from ``config.rpc_url``/``config.deployments``;
    ``content_store`` (an ``ipfs`` ContentStore) enables metadata fetching; ``pipeline`` (an engine ``Pipeline``)
    enables the live DAG on the dashboard. ``start_workers`` defaults to ``config.run_indexer``."""
    config = config or ServiceConfig.from_env()
    state = _build_state(config, gateway, pipeline, manifest_verifier)
    if content_store is None and config.content_store is not None:
        from ...ipfs.store import open_content_store

        content_store = open_content_store(config.content_store)
    if content_store is not None:
        _add_metadata_fetcher(state, content_store)
    run_workers = config.run_indexer if start_workers is None else start_workers
    app = FastAPIOffline(  # /docs and /redoc with their assets served by the app itself (no CDN)
        title="Anacostia model marketplace",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=_lifespan(state, run_workers),
    )
    app.state.service = state
    app.openapi = document_errors(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    # the hot read routes first: a request's route is found by trying the routers in this order
    for router in (market.router, runs.router, status.router, keys.router, lineage.router, auth.router,
                   dashboard.router):
        app.include_router(router)
    dashboard.mount_static(app)
    install_metrics(app, state)
    _add_middleware(app, state)
    return app


def _build_state(
    config: ServiceConfig,
    gateway: ChainGateway | None,
    pipeline: Any | None,
    manifest_verifier: ManifestVerifier | None,
) -> ServiceState:
    engine = open_index(config.database_url)
    if gateway is None:
        gateway = _gateway_from_config(config)
    chain_id = gateway.chain_id if gateway is not None else config.chain_id
    nonces = NonceStore(config.nonce_ttl)
    state = ServiceState(
        config=config,
        engine=engine,
        read_engine=create_read_engine(engine),
        nonces=nonces,
        authenticator=_authenticator(config, chain_id, nonces, gateway.client if gateway is not None else None),
        live=LiveFeed(),
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
            nft=gateway.model_nft(),
            start_block=gateway.start_block,
            batch_blocks=config.indexer_batch_blocks,
            poll_seconds=config.indexer_poll_seconds,
        )
        _announce(state, state.indexer)
    return state


def _authenticator(
    config: ServiceConfig, chain_id: int | None, nonces: NonceStore, chain: ChainClient | None
) -> SiweAuthenticator | None:
    """SIWE login for this service; contract wallets (EIP-1271) are asked on ``chain``, the chain the service reads."""
    if chain_id is None:
        return None
    return SiweAuthenticator(
        domain=config.siwe_domain,
        uri_origin=config.allowed_uri_origin,
        chain_id=chain_id,
        nonces=nonces,
        tokens=SessionTokens(config.session_secret, config.session_ttl),
        max_age=config.message_max_age,
        chain=chain,
    )


def _add_metadata_fetcher(state: ServiceState, content_store: ContentStore) -> None:
    if state.manifest_verifier is None:
        state.manifest_verifier = ContentManifestVerifier(content_store)
    state.fetcher = MetadataFetcher(state.engine, content_store)
    _announce(state, state.fetcher)


def _announce(state: ServiceState, worker: BackgroundLoop) -> None:
    """What ``worker`` commits invalidates cached listings and goes to the dashboard's live stream."""
    worker.listeners += [state.index_version.observe, state.live.publish]


def _gateway_from_config(config: ServiceConfig) -> ChainGateway | None:
    """The chain gateway of ``config.rpc_url`` and ``config.deployments`` (``None`` without an RPC URL)."""
    if config.rpc_url is None:
        return None
    from ...chain import ChainClient, DeploymentManifest
    from ...chain.story import addresses_for_chain

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


def _lifespan(state: ServiceState, run_workers: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
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
            await close_async_reads(_app)
            state.reads.dispose()
            state.engine.dispose()

    return lifespan


def _add_middleware(app: FastAPI, state: ServiceState) -> None:
    """Added innermost first: the cache sits inside CORS, the size limit and rate limiting, so those apply to hits."""
    config = state.config
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
    app.add_middleware(RateLimitMiddleware, limit=config.rate_limit, buckets=shared_buckets)
    if config.trusted_proxies:  # outermost: every layer inside sees the forwarded client address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(config.trusted_proxies))
