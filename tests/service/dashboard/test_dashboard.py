"""The dashboard's overview: JSON snapshot and SSE stream of the served pipelines, and the page in headless Chromium.

The pipelines are real: SQLite metadata stores, watched folders (watchdog/inotify) and actions that log metrics and
save outputs; dropping a file into a folder starts a run, and the dashboard must show it without a reload.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from dashboard_helpers import dashboard_app, screenshot
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything
from service_world import WorldSetup

from anacostia_blockchain.service import BackgroundServer
from anacostia_blockchain.service.dashboard import PipelineMonitor, ServedPipeline, format_sse


def test_snapshot_names_every_pipeline_and_the_monitor_publishes_summaries(tmp_path: Path, make_pipeline: Any) -> None:
    training, scoring = make_pipeline("training"), make_pipeline("scoring", steps=3)
    app = dashboard_app(tmp_path, [training.pipeline, scoring.pipeline])
    with TestClient(app) as http:
        assert '<nav id="jump"' in http.get("/dashboard").text
        snapshot = http.get("/dashboard/api/pipelines").json()["pipelines"]
        assert [p["name"] for p in snapshot] == ["training", "scoring"]
        graph = {n["name"]: n for n in snapshot[0]["graph"]["nodes"]}
        assert set(graph) == {"training", "data", "models", "train", "evaluate"}
        assert graph["evaluate"]["predecessors"] == ["train"] and graph["data"]["kind"] == "resource"
        assert snapshot[0]["runs"] == [] and snapshot[0]["pipeline_id"] is None  # a plain store does not anchor

        published: list[dict[str, Any]] = []
        feed = type("Feed", (), {"publish": published.append})()
        monitor = PipelineMonitor(ServedPipeline("training", training.pipeline, training.store), feed)  # type: ignore[arg-type]
        training.run_batches(1)
        assert monitor.poll_once() == 1 and monitor.poll_once() == 0  # only changes are published
        event = published[0]
        assert event["pipeline"] == "training" and event["run"]["status"] == "success"
        nodes = {n["node_name"]: n["status"] for n in event["run"]["nodes"]}
        assert nodes == {"train": "success", "evaluate": "success"}
        loss = event["run"]["metrics"]["loss"]  # a summary, never the points themselves
        assert loss["count"] == 5 and loss["last"] == pytest.approx(1 / 6) and loss["max"] == 0.5
        later = http.get("/dashboard/api/pipelines").json()["pipelines"]
        assert later[0]["statuses"] == {"train": "success", "evaluate": "success"} and later[1]["runs"] == []


def test_a_started_monitor_publishes_only_what_changes_after_it_started(make_pipeline: Any) -> None:
    built = make_pipeline("training")
    built.run_batches(2)
    published: list[dict[str, Any]] = []
    feed = type("Feed", (), {"publish": published.append})()
    monitor = PipelineMonitor(ServedPipeline("training", built.pipeline, built.store), feed, interval=0.02)  # type: ignore[arg-type]
    monitor.start()
    try:
        built.run_batches(1)
        deadline = time.monotonic() + 30
        while not any(e["run"]["id"] == 3 and e["run"]["status"] == "success" for e in published):
            assert time.monotonic() < deadline, published
            time.sleep(0.02)
    finally:
        monitor.stop()
    assert {e["run"]["id"] for e in published} == {3}  # runs 1 and 2 ended before: a client's snapshot has them


def test_pipelines_given_as_a_mapping_are_served_under_those_names(tmp_path: Path, make_pipeline: Any) -> None:
    one, two = make_pipeline("a"), make_pipeline("b")
    app = dashboard_app(tmp_path, {"nightly": one.pipeline, "hourly": two.pipeline})
    with TestClient(app) as http:
        assert [p["name"] for p in http.get("/dashboard/api/pipelines").json()["pipelines"]] == ["nightly", "hourly"]
        missing = http.get("/dashboard/api/pipelines/a/history")
        assert missing.status_code == 404 and "served: 'nightly', 'hourly'" in missing.json()["error"]["message"]


def test_history_lists_every_runs_last_value(tmp_path: Path, make_pipeline: Any) -> None:
    built = make_pipeline("training", steps=4)
    built.run_batches(3)
    with TestClient(dashboard_app(tmp_path, built.pipeline)) as http:
        history = http.get("/dashboard/api/pipelines/training/history").json()
    assert history["runs"] == [1, 2, 3] and history["statuses"] == ["success"] * 3
    assert history["metrics"]["accuracy"] == pytest.approx([0.81, 0.82, 0.83])
    assert history["metrics"]["loss"] == pytest.approx([1 / 5, 1 / 6, 1 / 7])  # 1 / (run + last step + 1)


def test_sse_framing() -> None:
    assert format_sse({"type": "run", "run": {"id": 1}}) == 'event: run\ndata: {"type":"run","run":{"id":1}}\n\n'
    assert format_sse({"type": "bad\nname"}).startswith("event: bad name\n")


@pytest.mark.slow
def test_overview_in_headless_chromium_shows_both_pipelines_live(
    tmp_path: Path, make_pipeline: Any, browser: Browser
) -> None:
    training, scoring = make_pipeline("training"), make_pipeline("scoring", steps=3)
    training.run_batches(2)
    with BackgroundServer(dashboard_app(tmp_path, [training.pipeline, scoring.pipeline])) as server:
        browser.navigate(f"http://127.0.0.1:{server.port}/dashboard")
        browser.wait_for(lambda: browser.evaluate("document.getElementById('connection').dataset.state") == "live")
        names = browser.evaluate("[...document.querySelectorAll('section.pipeline h2')].map(h => h.textContent)")
        assert names == ["training", "scoring"]
        assert browser.evaluate("[...document.querySelectorAll('#jump a')].map(a => a.textContent)") == names
        dag = "document.querySelector('section[data-pipeline=\"training\"] svg.dag')"
        assert browser.evaluate(f"{dag}.querySelectorAll('g.node').length") == 5
        assert browser.evaluate(f"{dag}.querySelectorAll('path.edge').length") == 5
        # metrics across runs: one uPlot chart per metric, x = run id, with both runs' values
        browser.wait_for(lambda: browser.evaluate(
            "document.querySelectorAll('section[data-pipeline=\"training\"] figure[data-metric] .uplot').length") == 2)
        accuracy = browser.evaluate(
            "(() => { const c = dashCharts.get(document.querySelector("
            "'section[data-pipeline=\"training\"] figure[data-metric=\"accuracy\"] .chart').id).chart;"
            " return [c.data[0], c.data[1]]; })()")
        assert accuracy[0] == [1, 2] and accuracy[1] == pytest.approx([0.81, 0.82])
        assert browser.evaluate("[...document.querySelectorAll('figure[data-metric=\"accuracy\"] "
                                ".u-axis')].length") >= 2

        scoring.run_batches(1)  # no reload from here on
        runs = "section[data-pipeline=\"scoring\"] tr[data-run]"
        browser.wait_for(lambda: browser.evaluate(
            f"(() => {{ const r = document.querySelector('{runs}');"
            " return r && r.querySelector('.status').textContent; })()"
        ) == "success", timeout=30)
        statuses = browser.evaluate(
            "Object.fromEntries([...document.querySelectorAll('section[data-pipeline=\"scoring\"] g.node')]"
            ".map(g => [g.dataset.node, g.dataset.status]))"
        )
        assert statuses["train"] == "success" and statuses["evaluate"] == "success"
        link = browser.evaluate(f"document.querySelector('{runs} a').getAttribute('href')")
        assert link == "/dashboard/pipelines/scoring/runs/1"
        browser.wait_for(lambda: browser.evaluate(
            "document.querySelectorAll('section[data-pipeline=\"scoring\"] figure[data-metric] .uplot').length") == 2)
        browser.pump(0.5)
        assert browser.console_errors == []
        screenshot(browser, tmp_path / "overview.png")


@pytest.mark.slow
def test_overview_shows_anchors_with_kept_verdicts_and_models(
    tmp_path: Path, make_app: AppFactory, world: WorldSetup, make_pipeline: Any, browser: Browser
) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'index.db'}", pipeline=make_pipeline("training").pipeline,
                   explorer_tx_url="https://explorer.invalid/tx/")
    index_everything(app)
    with BackgroundServer(app) as server:
        browser.navigate(f"http://127.0.0.1:{server.port}/dashboard")
        browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#models tbody tr').length") == 2)
        browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('#anchors tbody tr').length") == 2)
        listed = browser.evaluate(
            f"[...document.querySelector('#models tr[data-model=\"{world.listed_token}\"]').cells]"
            ".map(c => c.textContent)"
        )
        assert listed[0] == f"#{world.listed_token}" and listed[1] == "mnist-cnn" and listed[3] == "49.99"
        assert listed[5].startswith("IP 0x")
        href = browser.evaluate(f"document.querySelector('#models tr[data-model=\"{world.listed_token}\"] a').href")
        assert href.endswith(f"/dashboard/models/{world.listed_token}")
        links = browser.evaluate("[...document.querySelectorAll('#anchors a')].map(a => a.href)")
        assert len(links) == 2 and all(link.startswith("https://explorer.invalid/tx/0x") for link in links)
        assert browser.evaluate("[...document.querySelectorAll('#anchors [data-verdict]')].map(v => v.dataset.verdict)"
                                ) == ["none", "none"]
        browser.evaluate("document.querySelectorAll('#anchors button.verify').forEach(b => b.click())")
        verdicts = ("[...document.querySelectorAll('#anchors td.verification [data-verdict]')]"
                    ".map(v => v.dataset.verdict)")
        settled = browser.wait_for(lambda: (v := browser.evaluate(verdicts)) and len(v) == 2 and "none" not in v and v)
        assert sorted(settled) == ["tampered", "verified"]  # the second run's anchored root is not its manifest's
        browser.navigate(f"http://127.0.0.1:{server.port}/dashboard")  # the verdicts are kept by the server
        browser.wait_for(lambda: sorted(browser.evaluate(verdicts) or []) == ["tampered", "verified"])
        browser.pump(0.3)
        assert browser.console_errors == []
        screenshot(browser, tmp_path / "overview-chain.png")
