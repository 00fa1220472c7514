"""The run page: what one run recorded, from its pipeline's store, as JSON and in headless Chromium (desktop and a
390-px phone), with runs compared on the same charts and a 200k-point history that stays responsive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cdp import Browser
from dashboard_helpers import as_phone, dashboard_app, no_horizontal_scroll, screenshot
from fastapi.testclient import TestClient

from anacostia_blockchain.service import BackgroundServer


def test_run_detail_has_params_metrics_timings_artifacts_lineage_and_quarantine(
    tmp_path: Path, make_pipeline: Any
) -> None:
    built = make_pipeline("training", steps=5)
    built.run_batches(1)
    built.run_batches(1, content="x,y\nbad,row\n")
    with TestClient(dashboard_app(tmp_path, built.pipeline)) as http:
        good = http.get("/dashboard/api/pipelines/training/runs/1").json()
        failed = http.get("/dashboard/api/pipelines/training/runs/2").json()
        missing = http.get("/dashboard/api/pipelines/training/runs/99")
    assert good["pipeline"] == "training" and good["status"] == "success" and good["duration"] > 0
    assert good["params"] == {"learning_rate": 0.01, "steps": 5} and good["tags"] == {"evaluated_by": "evaluate"}
    assert good["metrics"]["loss"]["count"] == 5 and good["metrics"]["accuracy"]["last"] == pytest.approx(0.81)
    nodes = {n["node_name"]: n for n in good["nodes"]}
    assert set(nodes) == {"train", "evaluate"}
    assert all(n["duration"] >= 0 and n["code_fingerprint"] for n in nodes.values())
    [consumed] = good["artifacts"]["consumed"]
    [produced] = good["artifacts"]["produced"]
    assert (consumed["resource"], consumed["location"]) == ("data", "batch-1.csv") and len(consumed["sha256"]) == 64
    assert (produced["resource"], produced["location"]) == ("models", "model-1.bin")
    assert produced["produced_by_node"] == "train"
    [edge] = good["lineage"]
    assert edge["output"]["location"] == "model-1.bin" and edge["node"] == "train" and edge["code_fingerprint"]
    assert [i["location"] for i in edge["inputs"]] == ["batch-1.csv"]
    assert good["quarantine"] == [] and good["anchor"] is None and good["verification"] is None

    assert failed["status"] == "failed" and failed["lineage"] == []
    [quarantined] = failed["quarantine"]
    assert quarantined["location"] == "batch-2.csv" and quarantined["source"] == "store"
    assert quarantined["reason"].startswith("run 2 failed (1 failed runs, limit 1)")
    assert failed["nodes"][0]["status"] == "failure"
    assert missing.status_code == 404 and missing.json()["error"]["type"] == "RunNotFoundError"


def test_metric_series_of_compared_runs_are_downsampled_on_the_server(tmp_path: Path, make_pipeline: Any) -> None:
    built = make_pipeline("training", steps=3000)
    built.run_batches(2)
    with TestClient(dashboard_app(tmp_path, built.pipeline)) as http:
        url = "/dashboard/api/pipelines/training/metrics"
        body = http.get(url, params={"key": "loss", "runs": "2,1", "points": 100})
        bad = http.get(url, params={"key": "loss", "runs": "1;2"})
    series = body.json()["runs"]
    assert [s["run_id"] for s in series] == [2, 1] and [s["count"] for s in series] == [3000, 3000]
    assert all(len(s["x"]) <= 100 and s["x"][0] == 0 and s["x"][-1] == 2999 for s in series)
    assert series[1]["y"][0] == pytest.approx(1 / 2) and series[0]["y"][0] == pytest.approx(1 / 3)
    assert bad.status_code == 422


NO_VALUE = "\u2013"  # what a legend shows before the cursor is over the chart


def legend_values(browser: Browser, chart_id: str) -> list[str]:
    return list(browser.evaluate(f"[...document.querySelectorAll('#{chart_id} .u-legend .u-value')].map(v => "
                                 f"v.textContent)"))


def hover(browser: Browser, chart_id: str, fraction: float) -> None:
    box = browser.evaluate(
        f"(() => {{ const r = document.querySelector('#{chart_id} .u-over').getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; })()")
    x, y = box[0] + box[2] * fraction, box[1] + box[3] / 2
    browser.send("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y)


@pytest.mark.slow
def test_run_page_in_chromium_on_desktop_and_phone(tmp_path: Path, make_pipeline: Any, browser: Browser) -> None:
    built = make_pipeline("training", steps=40)
    built.run_batches(3)
    built.run_batches(1, content="x,y\nbad,row\n")
    with BackgroundServer(dashboard_app(tmp_path, built.pipeline)) as server:
        base = f"http://127.0.0.1:{server.port}"
        browser.navigate(f"{base}/dashboard/pipelines/training/runs/3?compare=1")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        assert browser.evaluate("document.getElementById('title').textContent") == "training · run #3"
        assert browser.evaluate("document.querySelector('[data-field=status] .status').textContent") == "success"
        # loss over steps, run 3 compared with run 1 on the same axes
        meta = browser.evaluate("dashCharts.get('steps-0').meta")
        assert [s["label"] for s in meta["series"]] == ["run #3", "run #1"] and meta["series"][0]["count"] == 40
        assert browser.evaluate("document.querySelector('figure[data-metric=loss] .u-axis') !== null")
        hover(browser, "steps-0", 0.5)
        values = browser.wait_for(lambda: (v := legend_values(browser, "steps-0")) and NO_VALUE not in v and v)
        assert len(values) == 3 and float(values[0]) in range(15, 26)  # step under the cursor, then both runs' loss
        compared = browser.evaluate(
            "[...document.querySelectorAll('#metrics tr[data-metric=accuracy] td')].map(c => c.textContent)")
        assert compared[1] == "0.83" and compared[5] == "0.81 (-0.02)"  # run 1 compared with this run
        assert browser.evaluate("document.querySelector('#params [data-key=learning_rate] "
                                "td:last-child').textContent") == "0.01"
        assert browser.evaluate("document.querySelector('#artifacts-produced [data-artifact] "
                                "td:nth-child(2)').textContent") == "model-3.bin"
        assert browser.evaluate("document.querySelector('#lineage [data-output=\"model-3.bin\"] "
                                "[data-input]').dataset.input") == "batch-3.csv"
        assert browser.evaluate("document.querySelectorAll('#node-table tr[data-node]').length") == 2
        assert "does not anchor" in browser.evaluate("document.getElementById('anchor').textContent")
        browser.evaluate("document.querySelector('#compare input[data-compare=\"2\"]').click()")
        browser.wait_for(lambda: browser.evaluate("dashCharts.get('steps-0').meta.series.length") == 3)
        assert browser.evaluate("location.search") == "?compare=2,1"
        browser.pump(0.3)
        assert browser.console_errors == []
        screenshot(browser, tmp_path / "run-desktop.png")

        as_phone(browser)
        browser.navigate(f"{base}/dashboard/pipelines/training/runs/4")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        assert browser.evaluate("window.innerWidth") == 390 and no_horizontal_scroll(browser)
        reason = browser.evaluate("document.querySelector('#quarantine li[data-location=\"batch-4.csv\"]').textContent")
        assert "run 4 failed" in reason
        cell = "document.querySelector('#node-table td[data-label=Status]')"
        assert browser.evaluate(f"getComputedStyle({cell}).display") == "flex"  # table rows reflowed into cards
        assert browser.evaluate(f"getComputedStyle({cell}, '::before').content") == '"Status"'
        browser.navigate(f"{base}/dashboard/pipelines/training/runs/2?compare=1,3")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        assert no_horizontal_scroll(browser)
        assert browser.evaluate("dashCharts.get('steps-0').chart.width") <= 390
        browser.navigate(f"{base}/dashboard")
        browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('figure[data-metric] "
                                                  ".uplot').length") == 2)
        assert no_horizontal_scroll(browser)
        assert browser.console_errors == []
        screenshot(browser, tmp_path / "overview-phone.png")
        browser.navigate(f"{base}/dashboard/pipelines/training/runs/2?compare=1,3")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true")
        screenshot(browser, tmp_path / "run-phone.png")


@pytest.mark.slow
def test_a_200k_point_history_renders_and_the_page_stays_responsive(
    tmp_path: Path, make_pipeline: Any, browser: Browser
) -> None:
    built = make_pipeline("training", steps=50_000)
    built.run_batches(4, timeout=120)
    assert sum(len(built.store.runs.get_metrics(run, key="loss")) for run in (1, 2, 3, 4)) == 200_000
    with BackgroundServer(dashboard_app(tmp_path, built.pipeline)) as server:
        base = f"http://127.0.0.1:{server.port}"
        browser.navigate(f"{base}/dashboard/pipelines/training/runs/4?compare=3,2,1")
        browser.wait_for(lambda: browser.evaluate("document.body.dataset.loaded") == "true", timeout=60)
        meta = browser.evaluate("dashCharts.get('steps-0').meta")
        assert [s["count"] for s in meta["series"]] == [50_000] * 4  # every point counted ...
        assert all(0 < s["shown"] <= 1000 for s in meta["series"])  # ... and a bounded number drawn
        data = browser.evaluate("dashCharts.get('steps-0').chart.data.map(d => d.filter(v => v != null).length)")
        assert len(data) == 5 and all(n > 0 for n in data)
        assert "200,000 points" in browser.evaluate("document.querySelector('figure[data-metric=loss] "
                                                    "figcaption').textContent")
        hover(browser, "steps-0", 0.9)
        browser.wait_for(lambda: NO_VALUE not in legend_values(browser, "steps-0"))
        assert browser.evaluate("1 + 1") == 2  # the main thread answers
        browser.navigate(f"{base}/dashboard")
        browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('figure[data-metric] "
                                                  ".uplot').length") == 2)
        assert browser.evaluate("dashCharts.get('history-0-1').chart.data[0]") == [1, 2, 3, 4]
        assert browser.console_errors == []
