"""The options commands share, filled from the settings every command reads: one precedence for all of them.

For an option left out on the command line, the value comes from, in this order (the first that sets it wins):

1. the command-line argument;
2. the environment: ``ANACOSTIA_<NAME>``;
3. ``./.env`` (``ANACOSTIA_<NAME>=value`` lines);
4. the TOML file: ``--config FILE``, else ``$ANACOSTIA_CONFIG``, else ``./anacostia.toml`` (``<name> = value``);
5. the command's own default.

Names are those of :class:`~anacostia_blockchain.settings.CliSettings` (``docs/operations.md``): ``rpc_url``,
``chain_id``, ``deployments``, ``private_key``, ``keystore``, ``keystore_password``, ``db``, ``pipeline``,
``ipfs_path``, ``log_level``, ``log_format``, ``metrics_port``. An unknown name in ``.env`` or the TOML file, and a
bad value anywhere, is a one-line error naming where it came from (:mod:`anacostia_blockchain.settings`). ``serve``
reads the same sources for the service's settings itself (:class:`~anacostia_blockchain.settings.ServiceSettings`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError
from ..settings import CliSettings, SettingsFiles, env_name, load
from ._types import rpc_url

#: option (its ``dest``) -> the setting that fills it when the option is left out.
OPTION_SETTINGS: dict[str, str] = {
    "rpc_url": "rpc_url",
    "chain_id": "chain_id",
    "deployments": "deployments",
    "manifest": "deployments",  # deploy's --manifest
    "keystore": "keystore",
    "db": "db",
    "pipeline": "pipeline",
    "repo": "ipfs_path",  # ipfs --repo
    "ipfs": "ipfs_path",  # lineage --ipfs
    "metrics_port": "metrics_port",
    "log_level": "log_level",
    "log_format": "log_format",
}
#: Options a command keeps to itself: ``devnet --chain-id`` is the id of the chain it starts, not the one to talk
#: to; ``serve`` reads its settings itself (the logging options excepted).
OWN_OPTIONS: dict[str, frozenset[str]] = {
    "devnet": frozenset({"chain_id"}),
    "serve": frozenset(OPTION_SETTINGS) - {"log_level", "log_format"},
}


def load_cli_settings(args: argparse.Namespace) -> CliSettings:
    """The CLI's settings from the environment, ``.env`` and the TOML file (``--config`` when given)."""
    return load(CliSettings, files=SettingsFiles.discover(config_file=getattr(args, "config", None)))


def apply_settings(args: argparse.Namespace) -> CliSettings:
    """Fill every shared option ``args`` left unset (``None`` or absent) from the settings; returns the settings,
    also kept as ``args.settings`` (where ``deploy`` finds its key)."""
    settings = load_cli_settings(args)
    skipped = OWN_OPTIONS.get(str(getattr(args, "command", "")), frozenset())
    for dest, field in OPTION_SETTINGS.items():
        if dest in skipped or not _takes(args, dest) or getattr(args, dest, None) is not None:
            continue
        value = getattr(settings, field)
        if value is None:
            continue
        if dest == "deployments" and getattr(args, "registry", None):
            continue  # --registry names the contract: no manifest needed
        setattr(args, dest, _as_option(dest, field, value))
    args.settings = settings
    return settings


def _takes(args: argparse.Namespace, dest: str) -> bool:
    """Whether the command has the option (``ipfs --repo`` is absent from the namespace when not given)."""
    if dest == "repo":
        return getattr(args, "command", None) == "ipfs" and not getattr(args, "api", None)
    return hasattr(args, dest)


def _as_option(dest: str, field: str, value: Any) -> Any:
    """The setting as the option would have parsed it (paths as text; an RPC URL checked like ``--rpc-url``)."""
    if field == "rpc_url":
        try:
            return rpc_url(str(value))
        except argparse.ArgumentTypeError as exc:
            raise ConfigurationError(f"bad setting {env_name(field)} / {field}: {exc}") from None
    if isinstance(value, Path):
        return str(value)
    return value
