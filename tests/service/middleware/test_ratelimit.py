"""Rate limiting: a token bucket per client in-process, or shared by every process through Redis, answering 429.

The client is the connection's peer unless that peer is a configured reverse proxy: a client sending its own
``X-Forwarded-For`` cannot move to a fresh bucket (tested through a real uvicorn server as well as in-process). The
Redis buckets are tested against the shared Redis at 127.0.0.1:6379 and against ``redis-server`` processes this module
starts itself: one requiring a password, one speaking TLS only.
"""

from __future__ import annotations

import datetime
import ipaddress
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from service_helpers import offline_app

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.service import BackgroundServer, RateLimit, ServiceConfig, create_app, free_port
from anacostia_blockchain.service.middleware import RedisTokenBuckets, TokenBuckets

LIMIT = RateLimit(per_second=0.5, burst=3)
PASSWORD = "s3cret-" + uuid.uuid4().hex[:12]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refill_at_the_rate_per_client_and_stay_bounded() -> None:
    clock = Clock()
    buckets = TokenBuckets(RateLimit(per_second=2.0, burst=2), max_clients=2, clock=clock)
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # empty: the next token is half a second away
    clock.now += 0.5
    assert buckets.take("a") == 0.0  # refilled at 2 per second
    assert buckets.take("b") == 0.0  # per client
    buckets.take("c")  # a third client evicts the least recently seen one, a
    assert [buckets.take("a"), buckets.take("a")] == [0.0, 0.0]  # a full bucket again


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with offline_app(tmp_path, rate_limit=LIMIT) as http:
        codes = [http.get("/models").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = http.get("/models")
        assert limited.json()["error"]["type"] == "RateLimitedError"
        assert int(limited.headers["retry-after"]) >= 1


# --- who the client is --------------------------------------------------------------------------------------------
def statuses(url: str, forwarded_for: list[str]) -> list[int]:
    """One request per ``X-Forwarded-For`` value, each on its own connection from 127.0.0.1."""
    codes = []
    for value in forwarded_for:
        request = urllib.request.Request(url + "/status", headers={"X-Forwarded-For": value})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                codes.append(response.status)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
    return codes


def test_a_forged_forwarded_for_does_not_open_a_new_bucket(tmp_path: Path) -> None:
    forged = [f"198.51.100.{i}" for i in range(5)]
    with offline_app(tmp_path, rate_limit=LIMIT) as http:  # in-process: no proxy configured
        codes = [http.get("/status", headers={"X-Forwarded-For": f}).status_code for f in forged]
        assert codes == [200] * 3 + [429] * 2
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'served.db'}", chain_id=31337, rate_limit=LIMIT)
    with BackgroundServer(create_app(config)) as server:  # a real uvicorn server, the client on 127.0.0.1
        assert statuses(server.url, forged) == [200] * 3 + [429] * 2


def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_saw(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'proxied.db'}", chain_id=31337, rate_limit=LIMIT,
                           trusted_proxies=("127.0.0.1",))
    with BackgroundServer(create_app(config)) as server:
        # what a proxy appending the address it saw sends: the client's own (forged) entries come first
        forged = [f"198.51.100.{i}, 203.0.113.9" for i in range(5)]
        assert statuses(server.url, forged) == [200] * 3 + [429] * 2
        assert statuses(server.url, ["203.0.113.10"] * 4) == [200] * 3 + [429]  # another client, its own budget


def test_proxy_settings_are_checked() -> None:
    for proxy in ("*", "0.0.0.0/0", "::/0", "proxy.example"):
        with pytest.raises(ConfigurationError, match="proxy"):
            ServiceConfig(trusted_proxies=(proxy,))
    config = ServiceConfig.from_env({"ANACOSTIA_TRUSTED_PROXIES": "10.0.0.1, 192.168.0.0/16"})
    assert config.trusted_proxies == ("10.0.0.1", "192.168.0.0/16")


# --- Redis ----------------------------------------------------------------------------------------------------------
def redis_server(args: list[str], ping_url: str, **ssl: str) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(["redis-server", "--save", "", "--appendonly", "no", *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = redis.Redis.from_url(ping_url, socket_timeout=1, **ssl)  # type: ignore[arg-type]
    deadline = time.monotonic() + 20
    while True:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            assert process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not come up"
            time.sleep(0.05)
        finally:
            client.close()


@pytest.fixture(scope="module")
def password_redis() -> Iterator[int]:
    port = free_port()
    process = redis_server(["--port", str(port), "--requirepass", PASSWORD], f"redis://:{PASSWORD}@127.0.0.1:{port}/0")
    try:
        yield port
    finally:
        process.terminate()
        process.wait(10)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (which is also its own CA) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "redis.crt", directory / "redis.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    cert, key = self_signed(tmp_path_factory.mktemp("tls"))
    port = free_port()
    process = redis_server(
        ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(cert), "--tls-key-file", str(key),
         "--tls-ca-cert-file", str(cert), "--tls-auth-clients", "no", "--requirepass", PASSWORD],
        f"rediss://:{PASSWORD}@127.0.0.1:{port}/0", ssl_ca_certs=str(cert),
    )
    try:
        yield port, cert
    finally:
        process.terminate()
        process.wait(10)


def shared_budget(url: str) -> None:
    """Two limiters on one Redis (two processes of a deployment) share each client's budget."""
    first = RedisTokenBuckets(url, LIMIT, prefix=f"test:{uuid.uuid4().hex}:")
    second = RedisTokenBuckets(url, LIMIT, prefix=first.prefix)
    try:
        assert [first.take("10.0.0.1"), second.take("10.0.0.1"), first.take("10.0.0.1")] == [0.0, 0.0, 0.0]
        assert second.take("10.0.0.1") > 0  # the budget is shared
        assert second.take("10.0.0.2") == 0.0  # per client
        assert time.monotonic() >= first._down_until  # answered by Redis, not by the fallback
    finally:
        first.close()
        second.close()


def test_redis_buckets_are_shared_between_processes(tmp_path: Path) -> None:
    url = "redis://127.0.0.1:6379/15"
    shared_budget(url)
    redis.Redis.from_url(url).delete("anacostia:ratelimit:testclient")  # the app's key for TestClient requests
    with offline_app(tmp_path, rate_limit=LIMIT, rate_limit_redis_url=url) as http:
        assert [http.get("/models").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_redis_with_a_password_and_never_showing_it(password_redis: int, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://:{PASSWORD}@127.0.0.1:{password_redis}/0"
    shared_budget(url)
    buckets = RedisTokenBuckets(url, LIMIT)
    assert PASSWORD not in repr(buckets)
    buckets.close()
    with offline_app(tmp_path, rate_limit=LIMIT, rate_limit_redis_url=url) as http:
        assert PASSWORD not in repr(http.app.state.service.config)  # type: ignore[attr-defined]
        assert [http.get("/models").status_code for _ in range(4)] == [200, 200, 200, 429]
    wrong = RedisTokenBuckets(f"redis://:not-{PASSWORD}@127.0.0.1:{password_redis}/0", LIMIT)
    without = RedisTokenBuckets(f"redis://127.0.0.1:{password_redis}/0", LIMIT)
    with caplog.at_level("WARNING"):
        assert wrong.take("c") == 0.0 and without.take("c") == 0.0  # answered by the in-process fallback
    assert caplog.text.count("refused the credentials") == 2 and PASSWORD not in caplog.text
    with pytest.raises(ConfigurationError) as refused:
        RedisTokenBuckets(f"http://:{PASSWORD}@127.0.0.1:{password_redis}/0", LIMIT)
    assert "redis://" in str(refused.value) and PASSWORD not in str(refused.value)


def test_redis_over_tls(tls_redis: tuple[int, Path]) -> None:
    port, cert = tls_redis
    shared_budget(f"rediss://:{PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={cert}")


def test_a_redis_outage_degrades_to_per_process_limits(caplog: pytest.LogCaptureFixture) -> None:
    down = RedisTokenBuckets(f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0", LIMIT, retry_seconds=60)
    with caplog.at_level("WARNING"):
        assert [down.take("c") for _ in range(3)] == [0.0, 0.0, 0.0]  # falls back to in-process buckets
        assert down.take("c") > 0  # which still limit
    assert caplog.text.count("falls back to in-process") == 1  # logged once per retry window
    assert "is unavailable (ConnectionError)" in caplog.text and PASSWORD not in caplog.text
