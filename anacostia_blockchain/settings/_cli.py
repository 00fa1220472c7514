"""``CliSettings``: the settings of the ``anacostia-chain`` commands other than ``serve``.

A command-line option wins over these; a field left ``None`` is not set. Each field is ``ANACOSTIA_<FIELD>`` in the
environment and ``<field>`` in ``anacostia.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, SecretStr

from ._service import ChainSettings
from ._values import HexSecret


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_upper)]


class CliSettings(ChainSettings):
    """See the module docstring; ``docs/operations.md`` describes each field."""

    url_fields: ClassVar[frozenset[str]] = frozenset({"rpc_url", "db"})

    private_key: HexSecret | None = None  # the account that deploys and anchors
    keystore: Path | None = None  # or an encrypted JSON keystore (Ethereum v3) ...
    keystore_password: SecretStr | None = None  # ... and its password
    db: str | None = None  # the pipeline's metadata database (`verify`, `export`)
    pipeline: str | None = None  # the pipeline name its runs are anchored under
    ipfs_path: Path | None = None  # the embedded IPFS repository
    log_level: LogLevel | None = None
    log_format: Literal["text", "json"] | None = None
    metrics_port: int | None = Field(default=None, ge=0, le=65535)  # `run`: serve Prometheus metrics on this port
