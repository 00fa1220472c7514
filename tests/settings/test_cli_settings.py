"""The CLI's settings: every field from the environment and from ``anacostia.toml``; ``serve`` reads its settings
file and keeps its own defaults for what none of the sources sets."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.cli import serve_cmd
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.settings import CliSettings, ServiceSettings, SettingsFiles, load

KEY = "44" * 32

#: field -> (environment text, TOML literal, the value both must give)
SAMPLES: dict[str, tuple[str, str, Any]] = {
    "rpc_url": ("http://127.0.0.1:8545", '"http://127.0.0.1:8545"', "http://127.0.0.1:8545"),
    "chain_id": ("31337", "31337", 31337),
    "deployments": ("deployments", '"deployments"', Path("deployments")),
    "private_key": ("0x" + KEY, f'"{KEY}"', KEY),
    "keystore": ("keys/deployer.json", '"keys/deployer.json"', Path("keys/deployer.json")),
    "keystore_password": ("s3cret", '"s3cret"', "s3cret"),
    "db": ("sqlite:///metadata.db", '"sqlite:///metadata.db"', "sqlite:///metadata.db"),
    "pipeline": ("training", '"training"', "training"),
    "ipfs_path": ("/srv/ipfs", '"/srv/ipfs"', Path("/srv/ipfs")),
    "log_level": ("debug", '"DEBUG"', "DEBUG"),
    "log_format": ("json", '"json"', "json"),
    "metrics_port": ("9464", "9464", 9464),
}


def _read(settings: CliSettings, name: str) -> Any:
    value = getattr(settings, name)
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def test_every_cli_setting_from_the_environment_and_from_toml(tmp_path: Path) -> None:
    assert set(SAMPLES) == set(CliSettings.model_fields)
    from_env = load(CliSettings, environ={f"ANACOSTIA_{name.upper()}": text for name, (text, _, _) in SAMPLES.items()})
    settings_file = tmp_path / "anacostia.toml"
    settings_file.write_text("".join(f"{name} = {literal}\n" for name, (_, literal, _) in SAMPLES.items()))
    from_toml = load(CliSettings, environ={}, files=SettingsFiles(config_file=settings_file))
    for name, (_, _, expected) in SAMPLES.items():
        assert _read(from_env, name) == expected, name
        assert _read(from_toml, name) == expected, name
    assert KEY not in repr(from_env) and "s3cret" not in repr(from_toml)


def test_one_settings_file_serves_the_cli_and_the_service(tmp_path: Path) -> None:
    settings_file = tmp_path / "anacostia.toml"
    settings_file.write_text("rpc_url = 'http://127.0.0.1:9545'\nport = 8100\nmetrics_port = 9100\n")
    cli = load(CliSettings, environ={}, files=SettingsFiles(config_file=settings_file))
    assert (cli.rpc_url, cli.metrics_port) == ("http://127.0.0.1:9545", 9100)
    service = load(ServiceSettings, environ={}, files=SettingsFiles(config_file=settings_file))
    assert (service.rpc_url, service.port) == ("http://127.0.0.1:9545", 8100)
    with pytest.raises(ConfigurationError, match="ANACOSTIA_METRICS_PORT: Input should be less than or equal to 65535"):
        load(CliSettings, environ={"ANACOSTIA_METRICS_PORT": "70000"})


def _serve_args(**given: Any) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve_cmd.register(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    for name, value in given.items():
        setattr(args, name, value)
    return args


def test_serve_reads_its_settings_file_and_options_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ANACOSTIA_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    settings_file = tmp_path / "market.toml"
    settings_file.write_text("port = 8100\nsession_ttl = 60\nexplorer_tx_url = 'https://explorer.example/tx/'\n"
                             "indexer_batch_blocks = 10\n")
    config = serve_cmd._config(_serve_args(config=settings_file, host="127.0.0.2"))
    assert (config.host, config.port, config.session_ttl.total_seconds()) == ("127.0.0.2", 8100, 60)
    assert (config.explorer_tx_url, config.indexer_batch_blocks) == ("https://explorer.example/tx/", 10)
    assert config.siwe_domain == "127.0.0.2:8100"  # unset anywhere: where the server listens
    (tmp_path / "anacostia.toml").write_text("siwe_domain = 'market.example'\n")
    assert serve_cmd._config(_serve_args()).siwe_domain == "market.example"
