"""Configuration of the marketplace service: one frozen dataclass, buildable from the environment.

Defaults are the safe ones: bind to ``127.0.0.1``, no CORS origins at all (a browser on another origin is refused
until origins are listed explicitly), rate limiting on, a random per-process session secret (sessions end when the
process does; set ``ANACOSTIA_SESSION_SECRET`` to keep them across restarts). Secrets are held as bytes and are
excluded from ``repr`` so a logged config never shows them; URLs, which often carry credentials (a database
password, an RPC provider's API key in the path, a Redis password), appear in ``repr`` as ``scheme://host:port``.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import urllib.parse
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path

from ..errors import ConfigurationError

ENV_PREFIX = "ANACOSTIA_"


def _decode_secret(value: str, name: str) -> bytes:
    text = value[2:] if value.startswith("0x") else value
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(f"{name} must be hex") from None
    if len(raw) < 32:
        raise ConfigurationError(f"{name} must be at least 32 bytes (64 hex characters)")
    return raw


def display_url(url: str | None) -> str | None:
    """A URL safe to print: ``scheme://host[:port]`` when it names a host (user info, path and query may hold
    passwords and API keys); host-less ones (``sqlite:///file``, ``embedded:/dir``) unchanged."""
    if url is None:
        return None
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "<unparsable URL>"
    if not host:
        return url
    return f"{parts.scheme}://{host}{f':{port}' if port else ''}"


#: ServiceConfig fields that hold URLs: shown through :func:`display_url` in ``repr``.
URL_FIELDS = frozenset({"database_url", "rpc_url", "content_store", "rate_limit_redis_url"})


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
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> ServiceConfig:
        """Read ``ANACOSTIA_*`` variables (``DATABASE_URL``, ``HOST``, ``PORT``, ``RPC_URL``, ``CHAIN_ID``,
        ``DEPLOYMENTS``, ``CONTENT_STORE``, ``SIWE_DOMAIN``, ``SIWE_URI``, ``CORS_ORIGINS`` and ``TRUSTED_PROXIES``
        (comma separated), ``RATE_LIMIT`` (``per_second:burst``), ``RATE_LIMIT_REDIS_URL``,
        ``RESPONSE_CACHE_SECONDS``, ``SESSION_SECRET`` and ``SERVICE_KEY`` (hex)); keyword overrides win.
        """
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value if value not in (None, "") else None

        try:
            if (v := get("DATABASE_URL")) is not None:
                values["database_url"] = v
            if (v := get("HOST")) is not None:
                values["host"] = v
            if (v := get("PORT")) is not None:
                values["port"] = int(v)
            if (v := get("RPC_URL")) is not None:
                values["rpc_url"] = v
            if (v := get("CHAIN_ID")) is not None:
                values["chain_id"] = int(v)
            if (v := get("DEPLOYMENTS")) is not None:
                values["deployments"] = Path(v)
            if (v := get("CONTENT_STORE")) is not None:
                values["content_store"] = v
            if (v := get("SIWE_DOMAIN")) is not None:
                values["siwe_domain"] = v
            if (v := get("SIWE_URI")) is not None:
                values["siwe_uri"] = v
            if (v := get("CORS_ORIGINS")) is not None:
                values["cors_origins"] = tuple(o.strip() for o in v.split(",") if o.strip())
            if (v := get("TRUSTED_PROXIES")) is not None:
                values["trusted_proxies"] = tuple(p.strip() for p in v.split(",") if p.strip())
            if (v := get("RATE_LIMIT_REDIS_URL")) is not None:
                values["rate_limit_redis_url"] = v
            if (v := get("RESPONSE_CACHE_SECONDS")) is not None:
                values["response_cache_seconds"] = float(v)
            if (v := get("RATE_LIMIT")) is not None:
                per_second, _, burst = v.partition(":")
                values["rate_limit"] = RateLimit(float(per_second), int(burst or max(1, int(float(per_second)))))
        except ValueError as exc:
            raise ConfigurationError(f"bad {ENV_PREFIX}* setting: {exc}") from exc
        if (v := get("SESSION_SECRET")) is not None:
            values["session_secret"] = _decode_secret(v, ENV_PREFIX + "SESSION_SECRET")
        if (v := get("SERVICE_KEY")) is not None:
            values["service_key"] = _decode_secret(v, ENV_PREFIX + "SERVICE_KEY")
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
