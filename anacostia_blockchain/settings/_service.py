"""``ServiceSettings``: every setting of the marketplace service (``anacostia-chain serve``), as it is written.

A field left ``None`` is not set: the service's own default applies
(:class:`~anacostia_blockchain.service.ServiceConfig`, which turns these settings into the running configuration).
Each field is ``ANACOSTIA_<FIELD>`` in the environment and ``<field>`` in ``anacostia.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr

from ._sources import Settings
from ._values import CommaList, Duration, HexSecret, RateLimitText


class ChainSettings(Settings):
    """The chain a command or the service talks to (shared by :class:`ServiceSettings` and the CLI's settings)."""

    url_fields: ClassVar[frozenset[str]] = frozenset({"rpc_url"})

    rpc_url: str | None = None
    chain_id: int | None = None
    deployments: Path | None = None  # the deployment manifest: a <chainId>.json file or the directory holding it


class ServiceSettings(ChainSettings):
    """See the module docstring; ``docs/operations.md`` describes each field."""

    url_fields: ClassVar[frozenset[str]] = frozenset(
        {"rpc_url", "database_url", "content_store", "rate_limit_redis_url"}
    )

    database_url: str | None = None
    host: str | None = None
    port: int | None = None
    content_store: str | None = None
    siwe_domain: str | None = None
    siwe_uri: str | None = None
    siwe_statement: str | None = None
    nonce_ttl: Duration | None = None
    message_max_age: Duration | None = None
    session_ttl: Duration | None = None
    cors_origins: CommaList | None = None
    rate_limit: RateLimitText | None = None
    rate_limit_redis_url: str | None = None
    trusted_proxies: CommaList | None = None
    run_indexer: bool | None = None
    indexer_poll_seconds: float | None = None
    indexer_batch_blocks: int | None = None
    response_cache_seconds: float | None = None
    explorer_tx_url: str | None = None
    session_secret: HexSecret | None = None
    service_key: HexSecret | None = None
    service_keystore: Path | None = None  # an encrypted JSON keystore (Ethereum v3) holding the service key
    service_keystore_password: SecretStr | None = None
