"""Rate limiting: a token bucket per client in-process, or shared by every process through Redis, answering 429."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from service_helpers import offline_app

from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.service import RateLimit, free_port
from anacostia_blockchain.service.middleware import RedisTokenBuckets, TokenBuckets


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
    with offline_app(tmp_path, rate_limit=RateLimit(per_second=0.5, burst=3)) as http:
        codes = [http.get("/models").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = http.get("/models")
        assert limited.json()["error"]["type"] == "RateLimitedError"
        assert int(limited.headers["retry-after"]) >= 1


def test_redis_buckets_are_shared_between_processes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"redis://127.0.0.1:6379/{15}"
    limit = RateLimit(per_second=0.5, burst=3)
    first = RedisTokenBuckets(url, limit, prefix=f"test:{uuid.uuid4().hex}:")
    second = RedisTokenBuckets(url, limit, prefix=first.prefix)  # another process of the same deployment
    assert [first.take("10.0.0.1"), second.take("10.0.0.1"), first.take("10.0.0.1")] == [0.0, 0.0, 0.0]
    assert second.take("10.0.0.1") > 0  # the budget is shared
    assert second.take("10.0.0.2") == 0.0  # per client

    first._connection().command("DEL", "anacostia:ratelimit:testclient")  # the app's key for TestClient requests
    with offline_app(tmp_path, rate_limit=limit, rate_limit_redis_url=url) as http:
        assert [http.get("/models").status_code for _ in range(4)] == [200, 200, 200, 429]

    down = RedisTokenBuckets(f"redis://127.0.0.1:{free_port()}/0", limit)  # nothing listens there
    with caplog.at_level("WARNING"):
        assert [down.take("c") for _ in range(3)] == [0.0, 0.0, 0.0]  # falls back to in-process buckets
        assert down.take("c") > 0
    assert "falls back to in-process" in caplog.text
    with pytest.raises(ConfigurationError, match="redis://"):
        RedisTokenBuckets("http://127.0.0.1:6379", limit)
