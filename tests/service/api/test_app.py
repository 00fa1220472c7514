"""The app without and with a chain: JSON errors, CORS, OpenAPI, filters, run verification, metadata verification."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, offline_app, state
from service_world import PLAIN_RUN_ID, RUN_ID, WorldSetup

from anacostia_blockchain.chain.encoding import is_checksum_address
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import ServiceConfig
from anacostia_blockchain.service.api.bodies import RunPage


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
        # metrics as the project's metadata writer states them (decimal strings), compared exactly
        assert ids(metric="accuracy", min_metric=0.95, sort="metric_desc") == [world.listed_token, world.plain_token]
        assert ids(metric="accuracy", min_metric=0.97, sort="metric_desc") == [world.listed_token]
        assert ids(metric="accuracy", min_metric=0.99) == []
        # f1 is 0.970000000000000001 and 0.97: one double, two decimals
        assert ids(metric="f1", sort="metric_asc") == [world.plain_token, world.listed_token]
        assert ids(metric="f1", min_metric="0.970000000000000001") == [world.listed_token]
        assert ids(metric="f1", max_metric="0.97") == [world.plain_token]
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
    document = ipfs.cat(world.metadata_cid)
    blocks = [p for p in Path(ipfs.path).rglob("*") if p.is_file() and p.read_bytes() == document]
    assert len(blocks) == 1
    original = blocks[0].read_bytes()
    blocks[0].write_bytes(original.replace(b"mnist-cnn", b"evil-cnn!"))
    try:
        with TestClient(app) as http:
            index_everything(app)
            item = http.get(f"/models/{world.listed_token}").json()
            assert item["metadata"]["status"] == "invalid" and "CorruptBlockError" in item["metadata"]["error"]
            assert item["metrics"] == {} and item["metadata"]["document"] is None
            assert http.get("/models", params={"metric": "accuracy"}).json()["total"] == 1  # the other model's
    finally:
        blocks[0].write_bytes(original)


def _addresses(value: object) -> list[str]:
    """Every string in a JSON value that is a 20-byte hex address."""
    if isinstance(value, dict):
        return [a for v in value.values() for a in _addresses(v)]
    if isinstance(value, list):
        return [a for v in value for a in _addresses(v)]
    return [value] if isinstance(value, str) and re.fullmatch(r"0x[0-9a-fA-F]{40}", value) else []


def test_runs_list_their_models_stages_are_names_and_addresses_are_checksummed(
    make_app: AppFactory, sqlite_url: str, world: WorldSetup
) -> None:
    app = make_app(sqlite_url)
    with TestClient(app) as http:
        index_everything(app)
        listed_runs = http.get("/runs")
        # written without building RunBody objects: exactly what validating and dumping a RunPage gives
        assert RunPage.model_validate_json(listed_runs.content).model_dump_json().encode() == listed_runs.content
        runs = listed_runs.json()["items"]
        assert {run["run_id"]: run["models"] for run in runs} == {RUN_ID: [world.listed_token],
                                                                   PLAIN_RUN_ID: [world.plain_token]}
        assert http.get("/runs", params={"page_size": 1, "page": 2}).json()["items"] == runs[1:]
        detail = http.get(f"/models/{world.listed_token}").json()
        assert detail["lineage"]["stage"] == "production"
        assert [(v["token_id"], v["version"], v["stage"]) for v in detail["lineage"]["versions"]] == [
            (world.plain_token, 1, None), (world.listed_token, 2, "production")
        ]
        assert http.get(f"/models/{world.plain_token}").json()["lineage"]["stage"] is None
        bodies = [http.get(path).json() for path in (
            "/models", f"/models/{world.listed_token}", f"/models/{world.listed_token}/quote", "/runs",
            f"/runs/{runs[0]['key']}", f"/runs/{runs[0]['key']}/verify", "/status")]
    found = _addresses(bodies)
    assert len(found) > 8  # owners, minter, seller, IP id, license template, price feed
    assert [a for a in found if not is_checksum_address(a)] == []


def test_detail_metrics_are_the_exact_decimals(make_app: AppFactory, sqlite_url: str, world: WorldSetup) -> None:
    app = make_app(sqlite_url)
    with TestClient(app) as http:
        index_everything(app)
        exact = {"accuracy": Decimal("0.9731"), "f1": Decimal("0.970000000000000001"), "loss": Decimal("0.081")}
        detail = http.get(f"/models/{world.listed_token}")
        assert json.loads(detail.content, parse_float=Decimal)["metrics"] == exact
        listing = http.get("/models", params={"sort": "token_id"})
        assert json.loads(listing.content, parse_float=Decimal)["items"][0]["metrics"] == exact
