"""What the app's request handlers share: the config, the index database, the chain gateway, the key store, the
authenticator, and the background workers (indexer, metadata fetcher). Built once by ``create_app``; handlers take it
as the :data:`StateDep` dependency."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends
from starlette.requests import Request

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from .auth import KeyStore, NonceStore, SiweAuthenticator
    from .chain_gateway import ChainGateway
    from .config import ServiceConfig
    from .dashboard import LiveFeed
    from .index import Indexer, MetadataFetcher
    from .types import ManifestVerifier


class IndexVersion:
    """A counter bumped whenever the index changes (batch with events, reorg, metadata); keys the response cache."""

    def __init__(self) -> None:
        self._value = 0
        self._lock = threading.Lock()

    def get(self) -> int:
        return self._value

    def observe(self, event: dict[str, Any]) -> None:
        """A worker listener: bump on anything that changed rows."""
        if event.get("type") in ("reorg", "metadata") or event.get("events"):
            with self._lock:
                self._value += 1


@dataclass
class ServiceState:
    config: ServiceConfig
    engine: Engine
    nonces: NonceStore
    authenticator: SiweAuthenticator | None
    live: LiveFeed
    gateway: ChainGateway | None = None
    indexer: Indexer | None = None
    fetcher: MetadataFetcher | None = None
    keystore: KeyStore | None = None
    pipeline: Any | None = None
    manifest_verifier: ManifestVerifier | None = None
    workers: list[Any] = field(default_factory=list)
    #: The engine of the hot reads (``index.create_read_engine``); ``engine`` when not set.
    read_engine: Engine | None = None
    index_version: IndexVersion = field(default_factory=IndexVersion)

    @property
    def reads(self) -> Engine:
        """The engine the list endpoints and ``/status`` read with."""
        return self.read_engine if self.read_engine is not None else self.engine

    def require_gateway(self) -> ChainGateway:
        if self.gateway is None:
            raise ConfigurationError("this service is not connected to a chain (set ANACOSTIA_RPC_URL)")
        return self.gateway

    def require_keystore(self) -> KeyStore:
        if self.keystore is None:
            raise ConfigurationError("this service has no key store (set ANACOSTIA_SERVICE_KEY)")
        return self.keystore

    def require_authenticator(self) -> SiweAuthenticator:
        if self.authenticator is None:
            raise ConfigurationError("wallet login needs the chain id (connect a chain or set ANACOSTIA_CHAIN_ID)")
        return self.authenticator


def state_of(request: Request) -> ServiceState:
    """The :class:`ServiceState` of the app serving ``request`` (for endpoints that take the request alone)."""
    service: ServiceState = request.app.state.service
    return service


async def service_state(request: Request) -> ServiceState:
    """FastAPI dependency: the :class:`ServiceState` of the app serving ``request``. ``async`` because FastAPI runs a
    plain ``def`` dependency in the thread pool — a thread hand-off per request just to read an attribute."""
    return state_of(request)


#: The :class:`ServiceState` parameter of a request handler.
StateDep = Annotated[ServiceState, Depends(service_state)]
