"""Every field of the service's configuration can be set from the environment, a ``.env`` file and ``anacostia.toml``
and reads back typed; the service key can come from an encrypted keystore; secrets never show."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.errors import ConfigurationError, SignerError
from anacostia_blockchain.service import RateLimit, ServiceConfig
from anacostia_blockchain.settings import ServiceSettings, SettingsFiles, load

SERVICE_KEY = "11" * 32
SESSION_SECRET = "22" * 40

#: field -> (environment text, TOML value, the ServiceConfig value both must give)
SAMPLES: dict[str, tuple[str, Any, Any]] = {
    "database_url": ("sqlite:///x/index.db", "sqlite:///x/index.db", "sqlite:///x/index.db"),
    "host": ("0.0.0.0", "0.0.0.0", "0.0.0.0"),
    "port": ("9001", 9001, 9001),
    "rpc_url": ("http://127.0.0.1:8545", "http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    "chain_id": ("1315", 1315, 1315),
    "deployments": ("deployments/1315.json", "deployments/1315.json", Path("deployments/1315.json")),
    "content_store": ("embedded:/srv/ipfs", "embedded:/srv/ipfs", "embedded:/srv/ipfs"),
    "siwe_domain": ("market.example", "market.example", "market.example"),
    "siwe_uri": ("https://market.example", "https://market.example", "https://market.example"),
    "siwe_statement": ("Sign in, please.", "Sign in, please.", "Sign in, please."),
    "nonce_ttl": ("120", 120, timedelta(minutes=2)),
    "message_max_age": ("PT20M", "PT20M", timedelta(minutes=20)),
    "session_ttl": ("3600", "PT1H", timedelta(hours=1)),
    "cors_origins": ("https://a.example, https://b.example", ["https://a.example", "https://b.example"],
                     ("https://a.example", "https://b.example")),
    "rate_limit": ("5:10", {"per_second": 5, "burst": 10}, RateLimit(5.0, 10)),
    "rate_limit_redis_url": ("redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2", "redis://127.0.0.1:6379/2"),
    "trusted_proxies": ("10.0.0.1, 192.168.0.0/16", ["10.0.0.1", "192.168.0.0/16"], ("10.0.0.1", "192.168.0.0/16")),
    "run_indexer": ("false", False, False),
    "indexer_poll_seconds": ("0.25", 0.25, 0.25),
    "indexer_batch_blocks": ("50", 50, 50),
    "response_cache_seconds": ("0", 0, 0.0),
    "explorer_tx_url": ("https://explorer.example/tx/", "https://explorer.example/tx/", "https://explorer.example/tx/"),
    "session_secret": ("0x" + SESSION_SECRET, SESSION_SECRET, bytes.fromhex(SESSION_SECRET)),
    "service_key": (SERVICE_KEY, "0x" + SERVICE_KEY, bytes.fromhex(SERVICE_KEY)),
}


def _toml(values: dict[str, Any]) -> str:
    def literal(value: Any) -> str:
        if isinstance(value, dict):
            return "{ " + ", ".join(f"{k} = {literal(v)}" for k, v in value.items()) + " }"
        if isinstance(value, bool):
            return "true" if value else "false"
        return json.dumps(value)  # strings, numbers and lists of strings are the same in JSON and TOML

    return "".join(f"{key} = {literal(value)}\n" for key, value in values.items())


def test_the_samples_cover_every_field_of_the_service_config() -> None:
    assert set(SAMPLES) == {f.name for f in dataclasses.fields(ServiceConfig)}


def test_every_field_is_read_from_the_environment() -> None:
    env = {f"ANACOSTIA_{name.upper()}": text for name, (text, _, _) in SAMPLES.items()}
    config = ServiceConfig.from_env(env)
    for name, (_, _, expected) in SAMPLES.items():
        assert getattr(config, name) == expected, name


def test_every_field_is_read_from_a_toml_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "anacostia.toml"
    settings_file.write_text(_toml({name: value for name, (_, value, _) in SAMPLES.items()}))
    config = ServiceConfig.load(environ={}, files=SettingsFiles(config_file=settings_file))
    for name, (_, _, expected) in SAMPLES.items():
        assert getattr(config, name) == expected, name


def test_every_field_is_read_from_a_dotenv_file(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    lines = [f"ANACOSTIA_{name.upper()}='{text}'" for name, (text, _, _) in SAMPLES.items()]
    dotenv.write_text("\n".join(["PATH_OF_SOMETHING_ELSE=/opt", "OTHER_TOOL_TOKEN=abc", *lines]) + "\n")
    config = ServiceConfig.load(environ={}, files=SettingsFiles(env_file=dotenv))
    for name, (_, _, expected) in SAMPLES.items():
        assert getattr(config, name) == expected, name


def test_precedence_is_options_then_environment_then_dotenv_then_toml(tmp_path: Path) -> None:
    toml_file, dotenv = tmp_path / "anacostia.toml", tmp_path / ".env"
    toml_file.write_text("port = 1001\nhost = '10.0.0.1'\nsiwe_domain = 'toml.example'\nchain_id = 7\n")
    dotenv.write_text("ANACOSTIA_PORT=1002\nANACOSTIA_HOST=10.0.0.2\nANACOSTIA_SIWE_DOMAIN=dotenv.example\n")
    env = {"ANACOSTIA_PORT": "1003", "ANACOSTIA_HOST": "10.0.0.3"}
    files = SettingsFiles(config_file=toml_file, env_file=dotenv)
    config = ServiceConfig.load(environ=env, files=files, options={"port": 1004})
    assert (config.port, config.host, config.siwe_domain, config.chain_id) == (1004, "10.0.0.3", "dotenv.example", 7)


def test_unknown_names_are_one_line_errors_with_a_suggestion(tmp_path: Path) -> None:
    toml_file = tmp_path / "anacostia.toml"
    toml_file.write_text("sesion_ttl = 60\n")
    with pytest.raises(ConfigurationError, match=r"anacostia.toml: unknown setting 'sesion_ttl' \(did you mean "
                                                  r"'session_ttl'\?\)$"):
        ServiceConfig.load(environ={}, files=SettingsFiles(config_file=toml_file))
    dotenv = tmp_path / ".env"
    dotenv.write_text("ANACOSTIA_INDEXER_BATCH=5\n")
    with pytest.raises(ConfigurationError, match=r"unknown setting 'indexer_batch' .*'indexer_batch_blocks'"):
        ServiceConfig.load(environ={}, files=SettingsFiles(env_file=dotenv))
    with pytest.raises(ConfigurationError, match="ANACOSTIA_EXPLORER_TX_UR: unknown setting"):
        ServiceConfig.from_env({"ANACOSTIA_EXPLORER_TX_UR": "https://x/"})
    # Another program's variable that merely shares the prefix is none of the service's business.
    assert ServiceConfig.from_env({"ANACOSTIA_BUYER_KEY": "0x" + "33" * 32}).service_key is None


@pytest.mark.parametrize(("env", "named"), [
    ({"ANACOSTIA_PORT": "eighty"}, "ANACOSTIA_PORT"),
    ({"ANACOSTIA_SESSION_TTL": "-5"}, "ANACOSTIA_SESSION_TTL"),
    ({"ANACOSTIA_RATE_LIMIT": "fast"}, "ANACOSTIA_RATE_LIMIT"),
    ({"ANACOSTIA_RUN_INDEXER": "perhaps"}, "ANACOSTIA_RUN_INDEXER"),
    ({"ANACOSTIA_SERVICE_KEY": "zz" * 32}, "ANACOSTIA_SERVICE_KEY"),
    ({"ANACOSTIA_SESSION_SECRET": "ab" * 16 + "zz"}, "ANACOSTIA_SESSION_SECRET"),
])
def test_bad_values_name_their_source_on_one_line_without_the_value(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        ServiceConfig.from_env(env)
    message = str(raised.value)
    assert named in message and "\n" not in message
    assert next(iter(env.values())) not in message


def test_secrets_and_url_credentials_never_show(tmp_path: Path) -> None:
    env = {"ANACOSTIA_SERVICE_KEY": SERVICE_KEY, "ANACOSTIA_SESSION_SECRET": SESSION_SECRET,
           "ANACOSTIA_DATABASE_URL": "postgresql://market:hunter2@db.internal:5432/index",
           "ANACOSTIA_RPC_URL": "https://rpc.example/v2/apikey123", "ANACOSTIA_SERVICE_KEYSTORE_PASSWORD": "pw-secret"}
    settings = load(ServiceSettings, environ=env)
    shown = repr(settings) + str(settings)
    for secret in (SERVICE_KEY, SESSION_SECRET, "hunter2", "apikey123", "pw-secret"):
        assert secret not in shown
    assert "db.internal:5432" in shown


def test_the_service_key_comes_from_an_encrypted_keystore(tmp_path: Path) -> None:
    signer_key = "0x" + "5a" * 32
    keystore = LocalSigner.from_key(signer_key).write_keystore(tmp_path / "service.json", "correct horse",
                                                               kdf="pbkdf2", iterations=2)
    env = {"ANACOSTIA_SERVICE_KEYSTORE": str(keystore), "ANACOSTIA_SERVICE_KEYSTORE_PASSWORD": "correct horse"}
    assert ServiceConfig.from_env(env).service_key == bytes.fromhex("5a" * 32)
    with pytest.raises(SignerError, match=f"wrong password for keystore {keystore}$"):
        ServiceConfig.from_env({**env, "ANACOSTIA_SERVICE_KEYSTORE_PASSWORD": "wrong"})
    with pytest.raises(ConfigurationError, match="needs its password in ANACOSTIA_SERVICE_KEYSTORE_PASSWORD"):
        ServiceConfig.from_env({"ANACOSTIA_SERVICE_KEYSTORE": str(keystore)})
    with pytest.raises(ConfigurationError, match="not both"):
        ServiceConfig.from_env({**env, "ANACOSTIA_SERVICE_KEY": SERVICE_KEY})


def test_a_named_settings_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"settings file .*missing\.toml does not exist"):
        SettingsFiles.discover({"ANACOSTIA_CONFIG": str(tmp_path / "missing.toml")})
    (tmp_path / "anacostia.toml").write_text("port = 8100\n")
    found = SettingsFiles.discover({}, cwd=tmp_path)
    assert found == SettingsFiles(config_file=tmp_path / "anacostia.toml", env_file=None)
