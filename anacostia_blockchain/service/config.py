"""Configuration of the marketplace service: one frozen dataclass, built from settings or directly.

:meth:`ServiceConfig.load` reads every field from options, the environment, ``.env`` and ``anacostia.toml`` (through
:class:`~anacostia_blockchain.settings.ServiceSettings`: ``ANACOSTIA_<FIELD>`` / ``<field>``); the service key may
also come from an encrypted keystore file (``ANACOSTIA_SERVICE_KEYSTORE`` and ``..._PASSWORD``).

Defaults are the safe ones: bind to ``127.0.0.1``, no CORS origins at all (a browser on another origin is refused
until origins are listed explicitly), rate limiting on, a random per-process session secret (sessions end when the
process does; set ``ANACOSTIA_SESSION_SECRET`` to keep them across restarts). Secrets are held as bytes and are
excluded from ``repr`` so a logged config never shows them; URLs, which often carry credentials (a database
password, an RPC provider's API key in the path, a Redis password), appear in ``repr`` as ``scheme://host:port``.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..settings import PREFIX, ServiceSettings, SettingsFiles, display_url, env_name, load, secret_bytes

ENV_PREFIX = PREFIX

#: ServiceConfig fields that hold URLs: shown through :func:`display_url` in ``repr``.
URL_FIELDS = frozenset({"database_url", "rpc_url", "content_store", "rate_limit_redis_url"})
#: Settings that are not a ServiceConfig field as they are: converted by :meth:`ServiceConfig.from_settings`.
_CONVERTED = frozenset({"rate_limit", "session_secret", "service_key", "service_keystore", "service_keystore_password"})


def _check_proxy(proxy: str) -> None:
    """``proxy`` names one address or network; trusting every address would let any client choose its own."""
    try:
        network = ipaddress.ip_network(proxy, strict=False)
    except ValueError:
        raise ConfigurationError(f"trusted proxy {proxy!r} is not an IP address or CIDR network") from None
    if network.prefixlen == 0:
        raise ConfigurationError(f"trusting every address as a proxy ({proxy!r}) lets clients forge their address")


@dataclass(frozen=True)
class RateLimit:
    """Token bucket per client: ``burst`` requests at once, refilled at ``per_second``; ``per_second=0`` disables."""

    per_second: float = 50.0
    burst: int = 100

    def __post_init__(self) -> None:
        if self.per_second < 0 or self.burst < 1:
            raise ConfigurationError("rate limit needs per_second >= 0 and burst >= 1")


@dataclass(frozen=True)
class ServiceConfig:
    """Everything :func:`anacostia_blockchain.service.create_app` needs.

    ``rpc_url`` / ``deployments`` may be ``None``: the app then serves what the index already holds and answers
    chain-dependent endpoints (quote, live verification, key release) with a typed 503 error instead of guessing.
    """

    database_url: str = "sqlite:///anacostia-marketplace.db"
    host: str = "127.0.0.1"
    port: int = 8000
    rpc_url: str | None = None
    chain_id: int | None = None
    deployments: Path | None = None
    content_store: str | None = None  # where NFT metadata is read: "embedded:/path" or a Kubo RPC URL
    siwe_domain: str = "127.0.0.1:8000"
    siwe_uri: str | None = None
    siwe_statement: str = "Sign in to the Anacostia model marketplace."
    nonce_ttl: timedelta = timedelta(minutes=5)
    message_max_age: timedelta = timedelta(minutes=10)
    session_ttl: timedelta = timedelta(minutes=15)
    cors_origins: tuple[str, ...] = ()
    rate_limit: RateLimit = field(default_factory=RateLimit)
    rate_limit_redis_url: str | None = None  # share buckets across processes through Redis (redis://host:port/db)
    # Reverse proxies whose X-Forwarded-For is believed (IPs or CIDR networks): the client address is then the
    # right-most one they did not add. Empty: the peer address is the client, forwarded headers are ignored.
    trusted_proxies: tuple[str, ...] = ()
    run_indexer: bool = True
    indexer_poll_seconds: float = 1.0
    indexer_batch_blocks: int = 2000
    response_cache_seconds: float = 2.0  # max staleness of cached listings when another process writes the index
    explorer_tx_url: str | None = None  # e.g. "https://sepolia.etherscan.io/tx/"; the dashboard links anchors there
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    service_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ConfigurationError(f"port must be 1..65535, got {self.port}")
        if "*" in self.cors_origins:
            raise ConfigurationError("CORS allow-all ('*') is refused: list the dApp origins explicitly")
        if len(self.session_secret) < 32:
            raise ConfigurationError("session_secret must be at least 32 bytes")
        if self.service_key is not None and len(self.service_key) != 32:
            raise ConfigurationError("service_key must be exactly 32 bytes")
        if self.session_ttl <= timedelta(0) or self.nonce_ttl <= timedelta(0):
            raise ConfigurationError("session_ttl and nonce_ttl must be positive")
        if self.indexer_batch_blocks < 1:
            raise ConfigurationError("indexer_batch_blocks must be >= 1")
        for proxy in self.trusted_proxies:
            _check_proxy(proxy)

    def __repr__(self) -> str:
        shown = []
        for item in fields(self):
            if item.repr:
                value = getattr(self, item.name)
                shown.append(f"{item.name}={display_url(value) if item.name in URL_FIELDS else value!r}")
        return f"ServiceConfig({', '.join(shown)})"

    @property
    def allowed_uri_origin(self) -> str:
        """The origin every SIWE message's URI must live under (default ``http://<siwe_domain>``)."""
        return self.siwe_uri or f"http://{self.siwe_domain}"

    @classmethod
    def load(
        cls,
        *,
        environ: Mapping[str, str] | None = None,
        files: SettingsFiles | None = None,
        options: Mapping[str, Any] | None = None,
        **overrides: Any,
    ) -> ServiceConfig:
        """From the settings sources (``options`` as the command line gives them, then the environment, then
        ``files``); keyword ``overrides`` are ServiceConfig values and win over everything."""
        return cls.from_settings(load(ServiceSettings, environ=environ, files=files, overrides=options), **overrides)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceConfig:
        """From ``ANACOSTIA_*`` variables only (``environ``, default ``os.environ``); keyword overrides win."""
        return cls.load(environ=environ, **overrides)

    @classmethod
    def from_settings(cls, settings: ServiceSettings, **overrides: Any) -> ServiceConfig:
        """The running configuration of ``settings``: unset fields keep this class's defaults."""
        values: dict[str, Any] = {
            name: value for name, value in settings.model_dump(exclude_none=True).items() if name not in _CONVERTED
        }
        if settings.rate_limit is not None:
            values["rate_limit"] = RateLimit(settings.rate_limit.per_second, settings.rate_limit.burst)
        if settings.session_secret is not None:
            values["session_secret"] = secret_bytes(settings.session_secret)
        service_key = _service_key(settings)
        if service_key is not None:
            values["service_key"] = service_key
        values.update(overrides)
        return cls(**values)


def _service_key(settings: ServiceSettings) -> bytes | None:
    """The service key: given as hex, or decrypted from a keystore file with its password."""
    keystore, password = settings.service_keystore, settings.service_keystore_password
    if keystore is None:
        if password is not None:
            raise ConfigurationError(f"{env_name('service_keystore_password')} is set but no keystore file: set "
                                     f"{env_name('service_keystore')}")
        return secret_bytes(settings.service_key)
    if settings.service_key is not None:
        raise ConfigurationError(f"set {env_name('service_key')} or {env_name('service_keystore')}, not both")
    if password is None:
        raise ConfigurationError(f"{env_name('service_keystore')} needs its password in "
                                 f"{env_name('service_keystore_password')}")
    from ..chain.tx import decrypt_keystore

    return decrypt_keystore(keystore, password.get_secret_value())
