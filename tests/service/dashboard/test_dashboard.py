"""The dashboard: JSON snapshot and SSE stream of a running pipeline, and the pages in real headless Chromium.

The pipeline is real: a SQLite metadata store, a watched folder (watchdog/inotify) and two actions; dropping a file
into the folder starts a run, and the dashboard must show it without a reload.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser, find_chromium
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything
from service_world import WorldSetup

from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.service import BackgroundServer, ServiceConfig, create_app
from anacostia_blockchain.service.dashboard import PipelineMonitor, format_sse


class Train(BaseActionNode):
    def execute(self, *args: object, **kwargs: object) -> bool:
        store = self.coordinator.store
        for step in range(5):
            store.log_metrics(step=step, loss=1.0 / (step + 1))
        return True


class Evaluate(BaseActionNode):
    def execute(self, *args: object, **kwargs: object) -> bool:
        self.coordinator.store.log_metrics(accuracy=0.91)
        return True


def build_pipeline(tmp_path: Path) -> tuple[Pipeline, Path]:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    store = SqliteMetadataStore("metadata", f"sqlite:///{tmp_path / 'metadata.db'}")
    data = FilesystemStoreNode("data", incoming, store)
    train = Train("train", [data])
    evaluate = Evaluate("evaluate", [train])
    nodes: list[BaseNode] = [store, data, train, evaluate]
    return Pipeline(nodes), incoming


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[tuple[Pipeline, Path]]:
    built, incoming = build_pipeline(tmp_path)
    built.launch()
    try:
        yield built, incoming
    finally:
        built.terminate()


def dashboard_app(tmp_path: Path, pipeline: Pipeline) -> Any:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'index.db'}", chain_id=31337)
    return create_app(config, pipeline=pipeline)


def test_snapshot_and_monitor_publish_a_run(tmp_path: Path, pipeline: tuple[Pipeline, Path]) -> None:
    running, incoming = pipeline
    app = dashboard_app(tmp_path, running)
    with TestClient(app) as http:
        page = http.get("/dashboard")
        assert page.status_code == 200 and "<svg id=\"dag\"" in page.text
        snapshot = http.get("/dashboard/api/pipeline").json()
        graph = {n["name"]: n for n in snapshot["graph"]["nodes"]}
        assert set(graph) == {"metadata", "data", "train", "evaluate"}
        assert graph["evaluate"]["predecessors"] == ["train"] and graph["data"]["kind"] == "resource"
        assert snapshot["runs"] == []

        published: list[dict[str, Any]] = []
        monitor = PipelineMonitor(running, type("Feed", (), {"publish": published.append})())  # type: ignore[arg-type]
        (incoming / "batch-1.csv").write_text("x,y\n1,2\n")
        assert running.wait_for_runs(1, timeout=30)
        assert monitor.poll_once() == 1 and monitor.poll_once() == 0  # only changes are published
        run = published[0]["run"]
        assert run["status"] == "success"
        assert {n["node_name"]: n["status"] for n in run["nodes"]} == {"train": "success", "evaluate": "success"}
        losses = [m["value"] for m in run["metrics"] if m["key"] == "loss"]
        assert losses == [1.0, 0.5, pytest.approx(1 / 3), 0.25, 0.2]
        later = http.get("/dashboard/api/pipeline").json()
        assert later["statuses"] == {"train": "success", "evaluate": "success"}


def test_sse_framing() -> None:
    assert format_sse({"type": "run", "run": {"id": 1}}) == 'event: run\ndata: {"type":"run","run":{"id":1}}\n\n'
    assert format_sse({"type": "bad\nname"}).startswith("event: bad name\n")


@pytest.mark.slow
def test_dashboard_in_headless_chromium(tmp_path: Path, pipeline: tuple[Pipeline, Path]) -> None:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed: run `make setup` (apt-get install -y chromium)")
    running, incoming = pipeline
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with BackgroundServer(dashboard_app(tmp_path, running)) as server:
        browser = Browser(binary, profile)
        try:
            browser.navigate(f"http://127.0.0.1:{server.port}/dashboard")
            browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#dag g.node').length") == 4)
            browser.wait_for(lambda: browser.evaluate("document.getElementById('connection').dataset.state") == "live")
            edges = browser.evaluate("document.querySelectorAll('#dag path.edge').length")
            assert edges == 3  # metadata -> data -> train -> evaluate
            assert browser.evaluate("document.querySelectorAll('#runs tbody tr').length") == 0

            (incoming / "batch-1.csv").write_text("x,y\n1,2\n")  # no reload from here on
            browser.wait_for(
                lambda: browser.evaluate(
                    "(() => { const r = document.querySelector('#runs tbody tr[data-run]');"
                    " return r && r.querySelector('.status').textContent; })()"
                ) == "success",
                timeout=30,
            )
            statuses = browser.evaluate(
                "Object.fromEntries([...document.querySelectorAll('#dag g.node')]"
                ".map(g => [g.dataset.node, g.dataset.status]))"
            )
            assert statuses["train"] == "success" and statuses["evaluate"] == "success"
            assert browser.evaluate("document.querySelectorAll('#runs svg.spark polyline').length") >= 1
            assert browser.evaluate("document.querySelector('#runs [data-metric=\"loss\"]').textContent").startswith(
                "loss = 0.2"
            )
            browser.pump(0.5)
            assert browser.console_errors == []
            shot = browser.screenshot(tmp_path / "dashboard.png")
            assert shot.stat().st_size > 1000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        finally:
            browser.close()


@pytest.mark.slow
def test_dashboard_shows_verified_anchors_and_models_from_the_chain(
    tmp_path: Path, make_app: AppFactory, world: WorldSetup, pipeline: tuple[Pipeline, Path]
) -> None:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed: run `make setup` (apt-get install -y chromium)")
    app = make_app(f"sqlite:///{tmp_path / 'index.db'}", pipeline=pipeline[0],
                   explorer_tx_url="https://explorer.invalid/tx/")
    index_everything(app)
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with BackgroundServer(app) as server:
        browser = Browser(binary, profile)
        try:
            browser.navigate(f"http://127.0.0.1:{server.port}/dashboard")
            browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#models tbody tr').length") == 2)
            browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#anchors tbody tr').length") == 2)
            listed = browser.evaluate(
                f"[...document.querySelector('#models tr[data-model=\"{world.listed_token}\"]').cells]"
                ".map(c => c.textContent)"
            )
            assert listed[1] == "mnist-cnn" and listed[3] == "49.99" and listed[4].startswith("IP 0x")
            assert "accuracy=0.973" in listed[5]
            links = browser.evaluate("[...document.querySelectorAll('#anchors a')].map(a => a.href)")
            assert len(links) == 2 and all(link.startswith("https://explorer.invalid/tx/0x") for link in links)
            browser.evaluate("document.querySelectorAll('#anchors button').forEach(b => b.click())")
            def settled() -> list[str] | None:
                cells = browser.evaluate(
                    "[...document.querySelectorAll('#anchors td.verification')].map(c => c.textContent)"
                )
                return cells if all(c in ("verified", "MISMATCH") for c in cells) else None

            verdicts = browser.wait_for(settled)
            assert sorted(verdicts) == ["MISMATCH", "verified"]  # the second run's anchored root is not its manifest's
            browser.pump(0.3)
            assert browser.console_errors == []
            shot = browser.screenshot(tmp_path / "dashboard-chain.png")
            assert shot.stat().st_size > 1000
        finally:
            browser.close()
