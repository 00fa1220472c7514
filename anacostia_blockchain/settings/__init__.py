"""Typed settings shared by the service and the CLI, from options, the environment, ``.env`` and ``anacostia.toml``.

- :class:`ServiceSettings`: the marketplace service (``anacostia-chain serve``; turned into the running
  :class:`~anacostia_blockchain.service.ServiceConfig` by ``ServiceConfig.load``);
- :class:`CliSettings`: the other commands (chain, keys, the pipeline database, logging, the metrics port);
- :func:`load` reads a model from its sources (precedence and unknown-name rules in :mod:`._sources`);
  :meth:`SettingsFiles.discover` finds ``anacostia.toml`` (or ``$ANACOSTIA_CONFIG``) and ``.env``.

Example::

    from anacostia_blockchain.settings import CliSettings, SettingsFiles, load

    settings = load(CliSettings, files=SettingsFiles.discover())
    settings.rpc_url, settings.private_key  # the key is a SecretStr: printed as '**********'

Secrets are :class:`~pydantic.SecretStr` and URLs are shown without credentials, so a settings object can be logged.
pydantic and pydantic-settings are owned here (the service's request bodies use pydantic through FastAPI).
"""

from ._cli import CliSettings
from ._service import ChainSettings, ServiceSettings
from ._sources import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    DEFAULT_ENV_FILE,
    ENVIRONMENT_ONLY,
    PREFIX,
    Settings,
    SettingsFiles,
    env_name,
    known_names,
    load,
)
from ._values import CommaList, Duration, HexSecret, RateLimitSetting, RateLimitText, display_url, secret_bytes

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_ENV_FILE",
    "ENVIRONMENT_ONLY",
    "PREFIX",
    "ChainSettings",
    "CliSettings",
    "CommaList",
    "Duration",
    "HexSecret",
    "RateLimitSetting",
    "RateLimitText",
    "ServiceSettings",
    "Settings",
    "SettingsFiles",
    "display_url",
    "env_name",
    "known_names",
    "load",
    "secret_bytes",
]
