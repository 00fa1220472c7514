"""The app without and with a chain: JSON errors, CORS, rate limiting, OpenAPI, filters, metadata verification."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, state
from service_world import PLAIN_RUN_ID, RUN_ID, WorldSetup
from sqlalchemy import delete

from anacostia_blockchain.chain.devnet import free_port
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import index_schema as s
from anacostia_blockchain.service.app import create_app
from anacostia_blockchain.service.config import RateLimit, ServiceConfig
from anacostia_blockchain.service.ratelimit_redis import RedisTokenBuckets


def offline_app(tmp_path: Path, **overrides: object) -> TestClient:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'offline.db'}", chain_id=31337, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(config))


def test_errors_are_json_with_type_and_message(tmp_path: Path) -> None:
    with offline_app(tmp_path) as http:
        missing = http.get("/models/12345")
        assert missing.status_code == 404
        assert missing.json() == {"error": {"type": "NotFoundError", "message": "model 12345 is not in the index"}}
        invalid = http.get("/models", params={"page_size": 1000})
        assert invalid.status_code == 422 and invalid.json()["error"]["type"] == "ValidationError"
        assert "page_size" in invalid.json()["error"]["message"]
        bad_owner = http.get("/models", params={"owner": "not-an-address"})
        assert bad_owner.status_code == 422 and "owner" in bad_owner.json()["error"]["message"]
        no_route = http.get("/nope")
        assert no_route.status_code == 404 and no_route.json()["error"]["type"] == "NotFoundError"
        no_key = http.get("/service/key")  # no service key configured
        assert no_key.status_code == 503 and no_key.json()["error"]["type"] == "ConfigurationError"
        metric_sort = http.get("/models", params={"sort": "metric_desc"})
        assert metric_sort.status_code == 422


def test_cors_only_for_configured_origins(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="allow-all"):
        ServiceConfig(cors_origins=("*",))
    with offline_app(tmp_path) as http:
        response = http.get("/models", headers={"Origin": "https://dapp.example"})
        assert "access-control-allow-origin" not in response.headers
    with offline_app(tmp_path, cors_origins=("https://dapp.example",)) as http:
        allowed = http.options("/models", headers={"Origin": "https://dapp.example",
                                                   "Access-Control-Request-Method": "GET"})
        assert allowed.headers["access-control-allow-origin"] == "https://dapp.example"
        other = http.get("/models", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    with offline_app(tmp_path, rate_limit=RateLimit(per_second=0.5, burst=3)) as http:
        codes = [http.get("/models").status_code for _ in range(5)]
        assert codes == [200, 200, 200, 429, 429]
        limited = http.get("/models")
        assert limited.json()["error"]["type"] == "RateLimitedError"
        assert int(limited.headers["retry-after"]) >= 1


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


def test_openapi_documents_every_endpoint_and_the_error_body(tmp_path: Path) -> None:
    with offline_app(tmp_path) as http:
        spec = http.get("/openapi.json").json()
    paths = spec["paths"]
    for path in ("/models", "/models/{token_id}", "/models/{token_id}/quote", "/models/{token_id}/key", "/runs",
                 "/runs/{run_key}", "/runs/{run_key}/verify", "/auth/nonce", "/auth/login"):
        assert path in paths, path
    assert paths["/models/{token_id}/key"]["get"]["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "/events" not in paths and "/dashboard" not in paths


def test_filters_and_sorting(make_app: AppFactory, database_url: str, world: WorldSetup) -> None:
    app = make_app(database_url)
    with TestClient(app) as http:
        index_everything(app)
        ids = lambda **params: [m["token_id"] for m in http.get("/models", params=params).json()["items"]]  # noqa: E731
        assert ids(sort="token_id") == [world.listed_token, world.plain_token]
        assert ids(listed=True) == [world.listed_token]
        assert ids(listed=False) == [world.plain_token]
        assert ids(min_price_usd=40, max_price_usd=60) == [world.listed_token]
        assert ids(max_price_usd=10) == []
        assert ids(metric="accuracy", min_metric=0.97, sort="metric_desc") == [world.listed_token, world.plain_token]
        assert ids(metric="accuracy", min_metric=0.99) == []
        assert ids(metric="no-such-metric") == []
        owner = http.get(f"/models/{world.listed_token}").json()["owner"]
        assert ids(owner=owner.lower(), sort="token_id") == [world.listed_token, world.plain_token]
        assert ids(owner="0x" + "12" * 20) == []
        page = http.get("/models", params={"page": 2, "page_size": 1, "sort": "token_id"}).json()
        assert page["total"] == 2 and [m["token_id"] for m in page["items"]] == [world.plain_token]


def test_runs_and_live_verification(make_app: AppFactory, sqlite_url: str, world: WorldSetup) -> None:
    app = make_app(sqlite_url)
    with TestClient(app) as http:
        index_everything(app)
        runs = http.get("/runs").json()
        assert runs["total"] == 2
        by_run = {item["run_id"]: item["key"] for item in runs["items"]}
        assert set(by_run) == {RUN_ID, PLAIN_RUN_ID}
        key = by_run[RUN_ID]
        run = http.get(f"/runs/{key}").json()
        assert run["models"] == [world.listed_token]
        assert http.get(f"/runs/{by_run[PLAIN_RUN_ID]}").json()["models"] == [world.plain_token]
        verdict = http.get(f"/runs/{key}/verify").json()
        assert verdict["anchored"] is True and verdict["matches"] is True
        assert verdict["onchain_root"] == verdict["indexed_root"]
        assert verdict["manifest_verified"] is True and verdict["detail"] is None
        tampered = http.get(f"/runs/{by_run[PLAIN_RUN_ID]}/verify").json()
        assert tampered["matches"] is True  # the index agrees with the chain ...
        assert tampered["manifest_verified"] is False  # ... but the anchored root is not the manifest's root
        assert tampered["detail"].startswith("TamperedManifestError")
        unknown = key.split("-")[0] + "-999"
        assert http.get(f"/runs/{unknown}/verify").status_code == 404
        assert http.get("/runs/not-a-run-key").status_code == 422


def test_manifest_verifier_failure_is_reported(make_app: AppFactory, sqlite_url: str, chain: object) -> None:
    from anacostia_blockchain.errors import TamperedManifestError

    app = make_app(sqlite_url)

    def verifier(cid: str, root: str | None, pipeline_id: str, run_id: int) -> None:
        raise TamperedManifestError(f"manifest {cid} recomputes to another root than {root}", items=["metrics"])

    state(app).manifest_verifier = verifier
    with TestClient(app) as http:
        index_everything(app)
        key = http.get("/runs").json()["items"][0]["key"]
        verdict = http.get(f"/runs/{key}/verify").json()
        assert verdict["matches"] is True and verdict["manifest_verified"] is False
        assert verdict["detail"].startswith("TamperedManifestError")


def test_metadata_that_does_not_match_its_cid_is_marked_invalid(make_app: AppFactory, sqlite_url: str,
                                                                world: WorldSetup, ipfs: EmbeddedBlockstore) -> None:
    app = make_app(sqlite_url)
    blocks = [p for p in Path(ipfs.path).rglob("*") if p.is_file() and p.read_bytes().startswith(b'{"name"')]
    assert len(blocks) == 1
    original = blocks[0].read_bytes()
    blocks[0].write_bytes(original.replace(b"mnist-cnn", b"evil-cnn!"))
    try:
        with TestClient(app) as http:
            index_everything(app)
            item = http.get(f"/models/{world.listed_token}").json()
            assert item["metadata"]["status"] == "invalid" and "CorruptBlockError" in item["metadata"]["error"]
            assert item["metrics"] == {} and item["metadata"]["document"] is None
            assert http.get("/models", params={"metric": "accuracy"}).json()["total"] == 0
    finally:
        blocks[0].write_bytes(original)


def test_listing_cache_follows_the_index_and_expires(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                                     chain: object) -> None:
    app = make_app(sqlite_url, response_cache_seconds=0.3)
    with TestClient(app) as http:
        assert http.get("/models").json()["total"] == 0
        index_everything(app)  # a commit in this process invalidates at once
        assert http.get("/models").json()["total"] == 2
        with state(app).engine.begin() as conn:  # another process deleting a row: visible once the TTL passed
            conn.execute(delete(s.models).where(s.models.c.token_id == world.plain_token))
        assert http.get("/models").json()["total"] == 2
        time.sleep(0.35)
        assert http.get("/models").json()["total"] == 1
        assert http.get("/models", params={"page_size": 5}).json()["page_size"] == 5  # the query string is the key


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
