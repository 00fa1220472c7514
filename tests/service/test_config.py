"""The service configuration: safe defaults, secrets kept out of ``repr``, settings from ``ANACOSTIA_*`` variables."""

from __future__ import annotations

import pytest

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.service import RateLimit, ServiceConfig


def test_defaults_bind_locally_and_keep_secrets_out_of_repr() -> None:
    config = ServiceConfig(service_key=b"\x11" * 32, session_secret=b"\x22" * 32)
    assert config.host == "127.0.0.1"
    assert "1111" not in repr(config) and "2222" not in repr(config)
    env = ServiceConfig.from_env({"ANACOSTIA_SERVICE_KEY": "33" * 32, "ANACOSTIA_CORS_ORIGINS": "https://a.example, "
                                  "https://b.example", "ANACOSTIA_RATE_LIMIT": "5:10", "ANACOSTIA_PORT": "9000"})
    assert env.service_key == b"\x33" * 32 and env.cors_origins == ("https://a.example", "https://b.example")
    assert env.rate_limit == RateLimit(5.0, 10) and env.port == 9000
    with pytest.raises(ConfigurationError, match="hex"):
        ServiceConfig.from_env({"ANACOSTIA_SERVICE_KEY": "zz" * 32})
