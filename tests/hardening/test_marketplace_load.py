"""The marketplace under load: 50 concurrent clients against the real service while the chain keeps moving.

:class:`MarketUnderLoad` is the whole setup, shared with ``benchmarks/soak.py`` (which runs it for 60 s):

- a real anvil with every contract deployed (:class:`~anacostia_blockchain.demo.world.DemoWorld`);
- the marketplace service (FastAPI on uvicorn, loopback, a free port) with its indexer following the chain every
  0.2 s and its metadata fetcher reading NFT metadata from the embedded IPFS blockstore (CID-verified); the rate
  limiter is off, as for clients behind a trusted gateway — otherwise 50 clients from one address would mostly
  measure 429s;
- :class:`ModelPublisher`: a thread doing what a publishing pipeline does on chain, meanwhile — anchor a run,
  mint the model NFT, register it as a Story IP asset, attach license terms, list it — a new model every
  ``publish_interval`` seconds, so the indexer has new blocks to follow while the API is hammered;
- :func:`hammer`: ``clients`` closed-loop HTTP/1.1 keep-alive clients (asyncio streams, one connection each) cycling
  through the read endpoints a dApp uses: listings with filters and sorts, a model's detail (which verifies its
  anchor on chain live), its price quote (a Chainlink read), runs, status, and SIWE nonces.

The report (:class:`LoadReport`) has requests/s, p50/p99/max per endpoint and overall, every status seen, transport
errors, and the newest token a listing showed during the load — proof the indexer kept up while serving.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.contracts.merkle import pipeline_id
from anacostia_blockchain.chain.contracts.price_feed import usd_units
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest
from anacostia_blockchain.chain.story.terms import commercial_use
from anacostia_blockchain.demo.pipelines import key_bytes
from anacostia_blockchain.demo.world import DemoWorld
from anacostia_blockchain.service import BackgroundServer, RateLimit, ServiceConfig, create_app, free_port

LOAD_PIPELINE = "hardening-marketplace-load"


class ModelPublisher(threading.Thread):
    """Anchor, mint, register, attach terms and list a new model every ``interval`` s (see the module docstring)."""

    def __init__(self, world: DemoWorld, interval: float) -> None:
        super().__init__(name="model-publisher", daemon=True)
        self.world = world
        self.interval = interval
        self.terms_id = world.story.register_pil_terms(
            commercial_use(minting_fee=0, currency=world.story.addresses.test_currency)
        ).license_terms_id
        self.published: list[int] = []
        self.errors: list[BaseException] = []
        self._stop_event = threading.Event()

    def publish(self) -> int:
        world, run_id = self.world, len(self.published) + 1
        manifest = RunManifest.from_export(LOAD_PIPELINE, run_id, {"notes": [f"load test model {run_id}"]})
        manifest_cid = str(world.blocks.add_bytes(manifest.to_bytes(), cid_version=1).cid)
        world.registry.anchor_runs([AnchorRequest(pipeline_id(LOAD_PIPELINE), run_id, manifest.root, manifest_cid)])
        accuracy = round(0.80 + (run_id % 20) / 100, 4)
        document = {"name": f"load-model-{run_id}", "description": "published during the load test",
                    "metrics": {"accuracy": accuracy}}
        metadata_cid = str(world.blocks.add_bytes(json.dumps(document).encode(), cid_version=1).cid)
        token_id = world.nft.mint(
            world.operator.address, f"ipfs://{metadata_cid}", pipeline_id=pipeline_id(LOAD_PIPELINE), run_id=run_id,
            anchor_root=manifest.root, manifest_cid=manifest_cid,
        ).token_id
        ip_id = world.story.register_ip(world.nft.address, token_id).ip_id
        world.story.attach_terms(ip_id, self.terms_id)
        world.market.list_model(token_id, usd_units(str(Decimal("10") + run_id)), self.terms_id)
        self.published.append(token_id)
        return token_id

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.publish()
            except BaseException as exc:  # reported by the caller; a failed publish must not end the load silently
                self.errors.append(exc)
                return

    def stop(self) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout=60)


@dataclass
class EndpointStats:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def figures(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {"requests": 0}
        return {
            "requests": len(ordered),
            "requests_per_s": round(len(ordered) / seconds, 1),
            "p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
            "max_ms": round(ordered[-1] * 1000, 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


@dataclass
class LoadReport:
    clients: int
    seconds: float
    endpoints: dict[str, EndpointStats]
    transport_errors: list[str]
    requests_per_client: list[int]
    newest_token_seen: int = 0

    @property
    def overall(self) -> EndpointStats:
        merged = EndpointStats()
        for stats in self.endpoints.values():
            merged.latencies += stats.latencies
            merged.statuses += stats.statuses
        return merged

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.overall.statuses.items() if status >= 500)

    def as_json(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 2),
            **self.overall.figures(self.seconds),
            "server_errors_5xx": self.server_errors,
            "transport_errors": len(self.transport_errors),
            "min_requests_per_client": min(self.requests_per_client, default=0),
            "newest_token_seen_in_listings": self.newest_token_seen,
            "endpoints": {name: stats.figures(self.seconds) for name, stats in self.endpoints.items()},
        }


def endpoint_mix(token_ids: list[int]) -> list[tuple[str, str, str]]:
    """(label, method, path): what a dApp's pages ask for."""
    mix = [
        ("GET /models", "GET", "/models?page=1&page_size=20"),
        ("GET /models listed price_asc", "GET", "/models?listed=true&sort=price_asc&page_size=50"),
        ("GET /models metric filter", "GET", "/models?metric=accuracy&min_metric=0.5&sort=metric_desc"),
        ("GET /runs", "GET", "/runs"),
        ("GET /status", "GET", "/status"),
        ("POST /auth/nonce", "POST", "/auth/nonce"),
    ]
    for token_id in token_ids:
        mix += [("GET /models/{id}", "GET", f"/models/{token_id}"),
                ("GET /models/{id}/quote", "GET", f"/models/{token_id}/quote")]
    return mix


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, method: str, path: str
                    ) -> tuple[int, bytes]:
    writer.write(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    return status, await reader.readexactly(length)


async def _client(number: int, port: int, mix: list[tuple[str, str, str]], deadline: float, report: LoadReport
                  ) -> None:
    done = 0
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        report.transport_errors.append(f"client {number} could not connect: {exc}")
        report.requests_per_client[number] = 0
        return
    try:
        index = number  # clients start at different places in the mix
        while time.perf_counter() < deadline:
            label, method, path = mix[index % len(mix)]
            index += 1
            started = time.perf_counter()
            status, body = await _exchange(reader, writer, method, path)
            stats = report.endpoints.setdefault(label, EndpointStats())
            stats.latencies.append(time.perf_counter() - started)
            stats.statuses[status] += 1
            done += 1
            if label == "GET /models" and status == 200:
                items = json.loads(body)["items"]
                report.newest_token_seen = max([report.newest_token_seen, *(m["token_id"] for m in items)])
    except (OSError, asyncio.IncompleteReadError, ValueError, StopIteration) as exc:
        report.transport_errors.append(f"client {number}: {type(exc).__name__}: {exc}")
    finally:
        report.requests_per_client[number] = done
        writer.close()


def hammer(port: int, token_ids: list[int], *, clients: int, seconds: float) -> LoadReport:
    """Run ``clients`` closed-loop clients for ``seconds``; see the module docstring."""
    report = LoadReport(clients, seconds, {}, [], [0] * clients)
    mix = endpoint_mix(token_ids)

    async def main() -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_client(n, port, mix, deadline, report) for n in range(clients)))

    started = time.perf_counter()
    asyncio.run(main())
    report.seconds = time.perf_counter() - started
    return report


class MarketUnderLoad:
    """World + service + publisher (see the module docstring). ``with MarketUnderLoad(workdir) as market: ...``"""

    def __init__(self, workdir: Path, *, publish_interval: float = 0.5, initial_models: int = 3) -> None:
        self.workdir = workdir
        self.publish_interval = publish_interval
        self.initial_models = initial_models
        self.world: DemoWorld | None = None
        self.server: BackgroundServer | None = None
        self.publisher: ModelPublisher | None = None
        self.initial_tokens: list[int] = []

    def __enter__(self) -> MarketUnderLoad:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        self.world = world = DemoWorld.start(self.workdir)
        self.publisher = ModelPublisher(world, self.publish_interval)
        self.initial_tokens = [self.publisher.publish() for _ in range(self.initial_models)]
        port = free_port()
        config = ServiceConfig(
            database_url=f"sqlite:///{self.workdir / 'marketplace.db'}",
            port=port,
            rpc_url=world.client.rpc_url,
            chain_id=world.client.chain_id,
            deployments=self.workdir / "deployments",
            content_store=f"embedded:{self.workdir / 'ipfs'}",
            siwe_domain=f"127.0.0.1:{port}",
            service_key=key_bytes(world.service.private_key),
            indexer_poll_seconds=0.2,
            rate_limit=RateLimit(per_second=0, burst=1),
        )
        self.server = BackgroundServer(create_app(config), port=port).start()
        self.wait_listed(self.initial_tokens, timeout=60)

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    def listed_tokens(self) -> set[int]:
        """Token ids the API lists with verified metadata (one keep-alive request)."""

        async def fetch() -> dict[str, Any]:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                _, body = await _exchange(reader, writer, "GET", "/models?listed=true&page_size=100&sort=token_id")
                return dict(json.loads(body))
            finally:
                writer.close()

        page = asyncio.run(fetch())
        return {m["token_id"] for m in page["items"] if m["metadata_status"] == "verified"}

    def wait_listed(self, token_ids: list[int], timeout: float) -> float:
        """Seconds until every token is listed with verified metadata; AssertionError after ``timeout``."""
        started = time.monotonic()
        while not set(token_ids) <= self.listed_tokens():
            if time.monotonic() - started > timeout:
                missing = sorted(set(token_ids) - self.listed_tokens())
                raise AssertionError(f"tokens {missing} not listed by the API {timeout}s after they were published")
            time.sleep(0.1)
        return time.monotonic() - started

    def run_load(self, *, clients: int, seconds: float, publish: bool = True) -> LoadReport:
        """Hammer the API while the publisher lists new models (``publish=False``: the chain stays idle)."""
        assert self.publisher is not None
        if publish:
            self.publisher.start()
        try:
            return hammer(self.port, self.initial_tokens, clients=clients, seconds=seconds)
        finally:
            self.publisher.stop()

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        if self.server is not None:
            self.server.stop()
        if self.world is not None:
            self.world.close()


@pytest.mark.slow
def test_fifty_clients_while_the_indexer_follows_new_models(
    tmp_path: Path, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with MarketUnderLoad(tmp_path / "market", publish_interval=0.5) as market:
        report = market.run_load(clients=50, seconds=10.0)
        assert market.publisher is not None
        published = market.publisher.published
        assert not market.publisher.errors, market.publisher.errors
        catch_up = market.wait_listed(published, timeout=30)
    figures = report.as_json()
    record_property("marketplace_load", json.dumps(figures))
    with capsys.disabled():
        print("\nmarketplace load:", json.dumps({k: v for k, v in figures.items() if k != "endpoints"}))

    assert report.server_errors == 0, figures["endpoints"]
    assert report.transport_errors == [], report.transport_errors[:5]
    # every request succeeded: rate limiting is off and every id asked for exists
    assert set(report.overall.statuses) == {200}, figures["endpoints"]
    assert min(report.requests_per_client) > 0  # no client starved
    assert set(report.endpoints) == {label for label, _, _ in endpoint_mix(market.initial_tokens)}
    # the chain moved during the load and the index followed it while serving
    assert len(published) > market.initial_models
    assert report.newest_token_seen > max(market.initial_tokens)
    assert catch_up < 30
